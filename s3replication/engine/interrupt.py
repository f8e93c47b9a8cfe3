"""Ctrl-C: the run stops within 2 s of the first one, removes what it made, and exits 130.

Python raises KeyboardInterrupt in the main thread only; the command's worker threads would
go on (a verify canary's 900 s wait, the copies of a backfill) and Python's exit would wait for
them. So on KeyboardInterrupt `interrupted()` sets STOP, which every wait of the run (`pause`,
instead of time.sleep) and every streamed step (`check`) sees at once, raising Interrupted;
work that made something to remove or to record (a canary until it is removed, a restore's
copy until it is listed) runs inside `must_finish()`, and `interrupted()` waits for it, at most
SETTLE_SECONDS. The process then ends without joining the threads still in a call
(cli.script): what they would still do is a read, or a write the next run converges from, as
after a crash. A canary whose removal did not finish in time is removed by the next run that
writes one (commands/canary_sweep.py).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from ..errors import ExitStatus, ReplicationToolError

log = logging.getLogger("s3replication.cli")
STOP = threading.Event()  # set on the first Ctrl-C
SETTLE_SECONDS = 1.5  # at most this long for must_finish() work, within the 2 s a user waits

_busy = 0  # must_finish() blocks under way
_idle = threading.Condition()


class Interrupted(ReplicationToolError):
    """Raised in a worker thread once the run was interrupted (STOP)."""

    exit_status = ExitStatus.INTERRUPTED

    def __init__(self) -> None:
        super().__init__("interrupted (Ctrl-C)")


def reset() -> None:
    """A new run: no Ctrl-C yet (runs in one process, as the tests make them)."""
    STOP.clear()


def check() -> None:
    """Raise Interrupted once the run was interrupted: before a step that would start work."""
    if STOP.is_set():
        raise Interrupted()


def pause(seconds: float) -> None:
    """`time.sleep(seconds)` that ends at once on Ctrl-C, raising Interrupted."""
    if STOP.wait(max(0.0, seconds)):
        raise Interrupted()


@contextmanager
def must_finish() -> Iterator[None]:
    """Work an interrupted run waits for (at most SETTLE_SECONDS) before it ends: the removal
    of what it made, the record of what it changed."""
    global _busy
    with _idle:
        _busy += 1
    try:
        yield
    finally:
        with _idle:
            _busy -= 1
            _idle.notify_all()


def settle(bound: float = SETTLE_SECONDS, stop: bool = True) -> bool:
    """Set STOP (unless not `stop`: a failure, not Ctrl-C) and wait up to `bound` seconds for
    the must_finish() work under way; True once all of it ended."""
    if stop:
        STOP.set()
    with _idle:
        return _idle.wait_for(lambda: _busy == 0, timeout=bound)


def interrupted(stderr: IO[str]) -> int:
    """The end of a run on Ctrl-C: its workers stopped and its clean-up waited for (a second
    Ctrl-C meanwhile is ignored: the run is already ending), the interruption logged and said."""
    started = time.monotonic()
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
    try:
        finished = settle()
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if not finished:
        log.warning("interrupted: work still under way after %.1f s is abandoned (a canary "
                    "left behind is removed by the next run that writes one)",
                    time.monotonic() - started)
    log.warning("interrupted")
    stderr.write("interrupted; re-run the same command to finish\n")
    return int(ExitStatus.INTERRUPTED)
