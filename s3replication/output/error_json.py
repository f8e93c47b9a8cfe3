"""With `--json`, a run that ends in an error still leaves one JSON document on stdout:
`{"error": "...", "exit": N}` (the same line as stderr's, without its "error: "), so that a
script reading stdout never meets an empty one. Usage errors too, once `--json` was given."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import IO


def asked(argv: Sequence[str] | None) -> bool:
    """Whether the command line asks for JSON (for a usage error argparse found, before any
    Namespace exists)."""
    return "--json" in (sys.argv[1:] if argv is None else argv)


def write(stdout: IO[str], message: str, status: int) -> None:
    stdout.write(json.dumps({"error": message, "exit": int(status)}) + "\n")
