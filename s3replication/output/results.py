"""What a command returns: an exit status, text for people and data for `--json`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import ExitStatus


@dataclass
class Outcome:
    status: ExitStatus
    text: str
    data: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # failures, for stderr
