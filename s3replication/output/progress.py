"""Progress on stderr: a one-line counter for long listings, only when stderr is a terminal
(so logs, pipes and `--json` output never see it), and `wait_until` for bounded waits on AWS
(a few lines, whatever stderr is: a wait of minutes must never look like a hang)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


class Waits:
    """The bounded waits under way (a canary's replica, routes taking effect), on stderr once
    one has lasted `after` seconds, as `audit` shows its count: on a terminal one live line
    redrawn every second (`canary a -> b: 12 s of up to 120 s; ...`), elsewhere (a pipe, a
    log) a plain line every `every` seconds. Several waits at once share the line; safe to
    use from several threads. A ticker thread runs while a wait is under way."""

    def __init__(self, stream: IO[str] | None = None, after: float = 3.0, every: float = 10.0,
                 tick: float = 1.0):
        self._stream = stream
        self.after, self.every, self.tick = after, every, tick
        self._lock = threading.Lock()
        self._waits: dict[int, tuple[str, float, float]] = {}  # id -> label, start, limit
        self._next = 0
        self._ticker: threading.Thread | None = None
        self._wake = threading.Event()
        self._shown = False
        self._last_line = 0.0

    @property
    def stream(self) -> IO[str]:
        return self._stream if self._stream is not None else sys.stderr

    def begin(self, label: str, limit: float) -> int:
        """Start showing a wait for `label`, of at most `limit` seconds; returns its id."""
        with self._lock:
            self._next += 1
            self._waits[self._next] = (label, time.monotonic(), limit)
            if self._ticker is None or not self._ticker.is_alive():
                self._wake.clear()
                self._ticker = threading.Thread(target=self._run, daemon=True,
                                                name="s3replication-waits")
                self._ticker.start()
            return self._next

    def end(self, wait_id: int) -> None:
        with self._lock:
            self._waits.pop(wait_id, None)
            if self._waits:
                return
            self._wake.set()
            self._clear()

    def _run(self) -> None:
        while not self._wake.wait(self.tick):
            with self._lock:
                if not self._waits:
                    return
                self._show(time.monotonic())

    def _show(self, now: float) -> None:
        longest: dict[str, tuple[float, float]] = {}  # label -> waited, limit (once each)
        for label, start, limit in self._waits.values():
            if now - start >= self.after and now - start > longest.get(label, (-1.0, 0.0))[0]:
                longest[label] = (now - start, limit)
        shown = [(label, waited, limit) for label, (waited, limit) in longest.items()]
        if not shown:
            return
        text = "; ".join(f"{label}: {waited:.0f} s of up to {limit:g} s"
                         for label, waited, limit in shown)
        out = self.stream
        if getattr(out, "isatty", lambda: False)():
            out.write(f"\r{text}\033[K")
            self._shown = True
        elif now - self._last_line >= self.every:
            out.write(f"waiting: {text}\n")
            self._last_line = now
        else:
            return
        out.flush()

    def _clear(self) -> None:
        if self._shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._shown = False


WAITS = Waits()  # the run's waits on stderr


@contextmanager
def waiting(label: str, limit: float, waits: Waits | None = None) -> Iterator[None]:
    """`with waiting("canary a -> b: the replica", 120): ...` shows the wait in WAITS."""
    shown = waits or WAITS
    wait_id = shown.begin(label, limit)
    try:
        yield
    finally:
        shown.end(wait_id)
