"""Streaming helpers for long listings: read pages ahead on a thread, and map a function over
a stream on a thread pool, in order, with a bounded number of items in flight.

Both keep memory bounded by a constant, whatever the length of the stream.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from ..engine import interrupt

T = TypeVar("T")
R = TypeVar("R")

_DONE = object()


def prefetched(items: Iterable[T], depth: int = 1) -> Iterator[T]:
    """`items`, produced on a thread of their own at most `depth` ahead of the consumer (for
    pages of a listing: the next request runs while this page is being compared)."""
    ahead: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(value: object) -> bool:
        while not stop.is_set():
            try:
                ahead.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            put(exc)
            return
        put(_DONE)

    thread = threading.Thread(target=produce, name="prefetch", daemon=True)
    thread.start()
    try:
        while (item := ahead.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()  # a consumer that stops early frees the producer


def ordered_map(function: Callable[[T], R], items: Iterable[T], workers: int = 8) -> Iterator[R]:
    """`map(function, items)` on `workers` threads; results in input order; at most
    2 x `workers` items in flight, so a long stream never piles up in memory. Once the run is
    interrupted (Ctrl-C) no item starts, and a consumer that stops early (or is interrupted)
    cancels the items not started, without waiting for those under way."""
    items = iter(items)
    first = next(items, _DONE)
    if first is _DONE:
        return

    def step(item: T) -> R:
        interrupt.check()
        return function(item)

    window: deque[Future[R]] = deque()
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="check")
    try:
        window.append(pool.submit(step, first))  # type: ignore[arg-type]
        for item in items:
            window.append(pool.submit(step, item))
            if len(window) >= 2 * workers:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
