"""Progress on stderr: a one-line counter for long listings, only when stderr is a terminal
(so logs, pipes and `--json` output never see it), and `wait_until` for bounded waits on AWS
(a few lines, whatever stderr is: a wait of minutes must never look like a hang)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO


class Progress:
    """`audit: 12,345 objects compared (4,100/s)`, redrawn at most every `every` seconds once
    the work has taken `after` seconds; safe to call from several threads."""

    def __init__(self, label: str, stream: IO[str] | None = None, after: float = 2.0,
                 every: float = 0.5, unit: str = "objects compared"):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.label, self.after, self.every, self.unit = label, after, every, unit
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
            self.stream.write(f"\r{self.label}: {self.done:,} {self.unit} ({rate:,.0f}/s) ")
            self.stream.flush()

    def close(self) -> None:
        with self._lock:
            if self._shown:
                self.stream.write("\r\033[K")
                self.stream.flush()
                self._shown = False


@dataclass
class Clock:
    """Time for waits: replaced in tests so that a 15-minute wait takes no time."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


def wait_until(label: str, done: Callable[[], bool], limit: float, clock: Clock | None = None,
               stream: IO[str] | None = None, every: float = 30.0) -> float | None:
    """Poll `done` (1 s, 2 s, ... up to 15 s apart) until it is true or `limit` seconds have
    passed; return the seconds waited, or None when the limit was reached. Never silent once it
    has to wait: one line on stderr when the wait starts, one every `every` seconds, one at the
    end (plain lines, so that logs and pipes show them too)."""
    clock = clock or Clock()
    out = stream if stream is not None else sys.stderr
    if done():
        return 0.0
    start = clock.now()
    out.write(f"{label}: waiting (up to {limit:g} s)\n")
    out.flush()
    delay, last_said = 1.0, start
    while True:
        waited = clock.now() - start
        if waited >= limit:
            out.write(f"{label}: still not done after {waited:.0f} s; giving up\n")
            out.flush()
            return None
        clock.sleep(min(delay, limit - waited))
        delay = min(delay * 2, 15.0)
        waited = clock.now() - start
        if done():
            out.write(f"{label}: done after {waited:.0f} s\n")
            out.flush()
            return waited
        if clock.now() - last_said >= every:
            last_said = clock.now()
            out.write(f"{label}: still waiting, {waited:.0f} s of up to {limit:g} s\n")
            out.flush()
