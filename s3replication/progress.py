"""A one-line progress counter on stderr, for long runs, only when stderr is a terminal (so
logs, pipes and `--json` output never see it)."""

from __future__ import annotations

import sys
import threading
import time
from typing import IO


class Progress:
    """`audit: 12,345 objects compared (4,100/s)`, redrawn at most every `every` seconds once
    the work has taken `after` seconds; safe to call from several threads."""

    def __init__(self, label: str, stream: IO[str] | None = None, after: float = 2.0,
                 every: float = 0.5):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.label, self.after, self.every = label, after, every
        self.done = 0
        self._start = self._last = time.monotonic()
        self._shown = False
        self._lock = threading.Lock()

    def add(self, count: int) -> None:
        with self._lock:
            self.done += count
            now = time.monotonic()
            if not self.enabled or now - self._start < self.after or now - self._last < self.every:
                return
            self._last, self._shown = now, True
            rate = self.done / (now - self._start)
            self.stream.write(f"\r{self.label}: {self.done:,} objects compared ({rate:,.0f}/s) ")
            self.stream.flush()

    def close(self) -> None:
        with self._lock:
            if self._shown:
                self.stream.write("\r\033[K")
                self.stream.flush()
                self._shown = False
