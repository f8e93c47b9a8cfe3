"""Helpers for tests that run the real scripts: a copy of the shipped config, and the CLI run
in-process against an endpoint, with its output captured."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s3replication import cli
from s3replication.aws.clients import Clients

SHIPPED_CONFIG = Path(__file__).resolve().parent.parent / "config" / "s3_config.py"
MUTATING_PREFIXES = ("Put", "Create", "Delete", "Update", "Enable", "Disable", "Tag", "Untag",
                     "Subscribe", "Unsubscribe", "Set", "Copy", "Schedule", "Attach", "Detach")


def shop_config(tmp_path: Path, extra: str = "", base: str | None = None) -> Path:
    """The shipped config (or `base`), with `extra` appended and the log file in tmp_path."""
    text = base if base is not None else SHIPPED_CONFIG.read_text()
    path = tmp_path / "s3_config.py"
    path.write_text(f"{text}\n{extra}\nLOG_FILE = {str(tmp_path / 'replication_logs.txt')!r}\n")
    return path


def is_mutating(operation: str) -> bool:
    return operation.startswith(MUTATING_PREFIXES)


@dataclass
class Run:
    status: int
    stdout: str
    stderr: str
    calls: list[tuple[str, str, str]]

    @property
    def mutating(self) -> list[tuple[str, str, str]]:
        return [c for c in self.calls if is_mutating(c[1])]


def run_script(kind: str, *argv: str, monkeypatch: Any = None,
               clients: Callable[[], Clients] | None = None) -> Run:
    """`cr_replication.py ARGV` (kind "crr") or `sr_replication.py ARGV`, in this process.
    Every API call it makes is recorded in `Run.calls`."""
    calls: list[tuple[str, str, str]] = []
    made = clients() if clients else Clients()
    made.on_call(lambda service, operation, region: calls.append((service, operation, region)))
    original = cli._clients
    cli._clients = lambda sandbox: made  # type: ignore[assignment]
    try:
        out, err = io.StringIO(), io.StringIO()
        status = cli.main(kind, list(argv), stdout=out, stderr=err)
    finally:
        cli._clients = original  # type: ignore[assignment]
    return Run(status, out.getvalue(), err.getvalue(), calls)
