"""What the scripts run on, said before anything needs it: `--version` (the checkout's commit,
as the project runs from a checkout, not installed; the Python; boto3 and botocore), and the
one line a Python without boto3 gets instead of a ModuleNotFoundError (the entry points call
`require_boto3` first)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NEEDED = ("boto3", "botocore")


def _commit() -> str:
    import subprocess  # here, not at start-up: only --version needs it

    try:
        done = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%h %cs"],
                              capture_output=True, text=True, timeout=5, check=True)
    except (OSError, subprocess.SubprocessError):
        return "commit unknown (not a git checkout)"
    return f"commit {done.stdout.strip()}"


def _installed(name: str) -> str:
    import importlib.metadata

    try:
        return f"{name} {importlib.metadata.version(name)}"
    except importlib.metadata.PackageNotFoundError:
        return f"{name} not installed"


def version_text(prog: str) -> str:
    """`cr_replication.py (ecommerce-s3-replication) commit 1a2b3c4 2026-12-06, Python
    3.11.7, boto3 1.35.0, botocore 1.35.0`."""
    import platform

    return (f"{prog} (ecommerce-s3-replication) {_commit()}, Python "
            f"{platform.python_version()}, " + ", ".join(_installed(n) for n in NEEDED))


def missing() -> list[str]:
    """The packages of NEEDED this Python cannot import (found without importing them)."""
    return [name for name in NEEDED if importlib.util.find_spec(name) is None]


def require_boto3(script: str) -> None:
    """Exit 1 with one line that says how to run `script`, when this Python has no boto3."""
    absent = missing()
    if absent:
        sys.stderr.write(
            f"error: this Python ({sys.executable}) has no {' or '.join(absent)}: run the "
            f"scripts with the project's virtualenv, `make venv` once, then "
            f"`.venv/bin/python {script} ...` (or `. .venv/bin/activate` first); or install "
            "requirements.txt into this Python\n")
        raise SystemExit(1)
