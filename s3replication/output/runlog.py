"""The log file: one line per change or failure, appended, readable by its owner only.

Lines read `2026-11-25T06:40:00Z INFO cr_replication apply bucket x (us-east-1) versioning:
create done`. Tracebacks go here at DEBUG, never to the screen; botocore's own loggers stay at
WARNING so that no request (and no credential) is ever written.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

PACKAGE = "s3replication"


class _UtcFormatter(logging.Formatter):
    """ISO-8601 UTC times, and every record on one line: a traceback's lines are joined with
    " | ", so that each line of the file is one whole record."""

    def format(self, record: logging.LogRecord) -> str:
        return " | ".join(line for line in super().format(record).splitlines() if line.strip())

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created))


def open_private(path: Path) -> None:
    """Create the log file readable and writable by its owner only (0600), if it is new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.close(fd)


def setup(log_file: Path, script: str, command: str, verbose: bool = False) -> logging.Handler:
    open_private(log_file)
    handler = logging.FileHandler(log_file, mode="a", encoding="utf-8")
    handler.setFormatter(_UtcFormatter(f"%(asctime)s %(levelname)s {script} {command} %(message)s"))
    handler.setLevel(logging.DEBUG)  # tracebacks of failures are logged at DEBUG
    logger = logging.getLogger(PACKAGE)
    for old in list(logger.handlers):
        logger.removeHandler(old)
        old.close()
    logger.addHandler(handler)
    if verbose:  # -v: every change and failure on stderr too, as it happens
        echo = logging.StreamHandler()
        echo.setFormatter(logging.Formatter("%(message)s"))
        echo.setLevel(logging.INFO)
        logger.addHandler(echo)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    for noisy in ("botocore", "boto3", "urllib3", "s3transfer"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handler


def teardown() -> None:
    logger = logging.getLogger(PACKAGE)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    logger.addHandler(logging.NullHandler())
