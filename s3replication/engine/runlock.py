"""One changing run at a time on a machine: a second one waits for the first, then refuses."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from ..errors import ReplicationToolError

WAIT_SECONDS = 120.0


class Busy(ReplicationToolError):
    pass


@contextlib.contextmanager
def held(lock_file: Path, wait_seconds: float = WAIT_SECONDS) -> Iterator[None]:
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise Busy(f"another run holds {lock_file} (waited {wait_seconds:.0f}s); "
                               "try again when it has finished") from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)  # closing releases the lock
