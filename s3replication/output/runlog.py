"""The log file: one line per change or failure, appended, readable by its owner only.

Lines read `2026-11-25T06:40:00Z INFO cr_replication apply bucket x (us-east-1) versioning:
create done`. Every run that got as far as its config writes exactly one `start:` line (the
config file, and whether it runs against AWS, an endpoint or the sandbox) and one `end:` line
(exit status, duration, the result's counts), whatever happens: success, usage error, AWS
failure, unexpected exception or Ctrl-C (`ends_run`). The caller's account is known only after
the run's first call: it has an `account:` line of its own once known, and the end line names
it. DEBUG lines (stage timings, the tracebacks of AWS failures) are written only with `-v`;
an unexpected failure's traceback always. No line is longer than MAX_LINE characters (the
middle of a longer one is cut, and says so). Botocore's own loggers stay at WARNING so that no
request (and no credential) is ever written.
"""

from __future__ import annotations

import functools
import logging
import os
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ParamSpec

P = ParamSpec("P")

PACKAGE = "s3replication"
MAX_LINE = 1000
FRAMES = 3  # of each exception of a traceback


class _UtcFormatter(logging.Formatter):
    """ISO-8601 UTC times, and every record on one line: a traceback's lines are joined with
    " | ", so that each line of the file is one whole record. A traceback keeps, for each
    exception of its chain, its innermost FRAMES frames and its message: what a line of at
    most MAX_LINE characters can hold (the AWS error and where it was raised and explained)."""

    def formatException(self, ei: Any) -> str:
        chain: list[BaseException] = []
        error: BaseException | None = ei[1]
        while error is not None and error not in chain:
            chain.append(error)
            error = error.__cause__ or (None if error.__suppress_context__
                                        else error.__context__)
        lines = ["Traceback (most recent call last):"]  # innermost frames only
        for error in reversed(chain):
            for frame in traceback.extract_tb(error.__traceback__)[-FRAMES:]:
                where = "/".join(Path(frame.filename).parts[-2:])
                lines.append(f"{where}:{frame.lineno} in {frame.name}")
            kind = type(error)
            lines.append(f"{kind.__module__}.{kind.__qualname__}: {error}")
        return "\n".join(lines)

    def format(self, record: logging.LogRecord) -> str:
        return shorten(" | ".join(line for line in super().format(record).splitlines()
                                  if line.strip()))

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created))


def shorten(line: str, limit: int = MAX_LINE) -> str:
    """`line` if it fits in `limit` characters, else its start and its end (a traceback's last
    frames and error) around a marker saying how much was cut."""
    if len(line) <= limit:
        return line
    marker = ""
    for _ in range(3):  # the marker's own length settles the count it shows
        marker = f" [... {len(line) - limit + len(marker)} characters cut ...] "
    head = (limit - len(marker)) // 2
    tail = limit - len(marker) - head
    return line[:head] + marker + line[len(line) - tail:]


def open_private(path: Path) -> None:
    """Create the log file readable and writable by its owner only (0600), if it is new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.close(fd)


def setup(log_file: Path, script: str, command: str, verbose: bool = False) -> logging.Handler:
    open_private(log_file)
    handler = logging.FileHandler(log_file, mode="a", encoding="utf-8")
    handler.setFormatter(_UtcFormatter(f"%(asctime)s %(levelname)s {script} {command} %(message)s"))
    handler.setLevel(logging.DEBUG)  # -v only (the logger's level): stage timings, tracebacks
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
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
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


class _Run:
    """The run under way: when it started, the caller's account, its counts."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.account = ""
        self.counts = ""


_current: _Run | None = None
_log = logging.getLogger(f"{PACKAGE}.run")


def start(config_path: Path, target: str) -> None:
    """The run's start line, once the log file is set up (`setup`)."""
    global _current
    _current = _Run()
    _log.info("start: config %s, against %s", config_path.resolve(), target)


def target(sandbox: bool) -> str:
    """What a run talks to: the sandbox, the endpoint of AWS_ENDPOINT_URL, or AWS."""
    if sandbox:
        return "the sandbox"
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    return f"the endpoint {endpoint}" if endpoint else "AWS"


def account(account_id: str) -> None:
    """The caller's account, in a line of its own once the first call has answered."""
    if _current is not None and not _current.account:
        _current.account = account_id
        _log.info("account: %s", account_id)


def counts(data: Mapping[str, Any]) -> None:
    """The counts the end line carries, from a result's JSON data: how many changes, rules,
    jobs..., and the rules' own counts added up ("checked 10, missing 2")."""
    if _current is None:
        return
    parts = [f"{len(value)} {key.replace('_', ' ')}" for key, value in data.items()
             if key in ("changes", "rules", "jobs", "access_points") and isinstance(value, list)]
    summed: dict[str, int] = {}
    for rule in data.get("rules") or []:
        for key, value in (rule.get("counts") or {}).items() if isinstance(rule, dict) else ():
            if isinstance(value, int) and not isinstance(value, bool):
                summed[key] = summed.get(key, 0) + value
    parts += [f"{key.replace('_', ' ')} {value}" for key, value in summed.items() if value]
    _current.counts = ", ".join(parts)


def _end(status: int) -> None:
    global _current
    run, _current = _current, None
    if run is None:  # the config did not load: no log file to write to
        return
    details = [f"account {run.account}" if run.account else "account not known",
               run.counts]
    _log.info("end: exit %d after %.1f s (%s)", status, time.monotonic() - run.started,
              "; ".join(d for d in details if d))


def ends_run(main: Callable[P, int]) -> Callable[P, int]:
    """`main` writing the run's end line whatever happens: its exit status, or 130 for an
    interruption and 1 for a failure that escaped it (re-raised)."""
    @functools.wraps(main)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> int:
        status = 1
        try:
            status = main(*args, **kwargs)
            return status
        except KeyboardInterrupt:
            status = 130
            raise
        finally:
            _end(status)
            teardown()
    return wrapped
