"""`parallel_map`: reads that belong to no lane (a listing per account, each source's
configuration) made at once on the engine's threads."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

MAX_WORKERS = 64  # lanes at once: API calls wait on the network, not the CPU

_mapping = threading.local()  # set in the threads of MAPS
MAPS = ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="s3replication-map",
                          initializer=lambda: setattr(_mapping, "inside", True))


def parallel_map(function: Callable[[Any], Any], values: Iterable[Any]) -> list[Any]:
    """`map` on the engine's thread pool, for reads that do not belong to a lane; every call
    ends before a failure is raised. Called from within such a call, on a pool of its own (a
    shared pool would wait for itself once all its threads wait). On Ctrl-C in the caller, the
    calls not started yet are cancelled (engine/interrupt.py)."""
    values = list(values)
    if len(values) <= 1:
        return [function(v) for v in values]
    if getattr(_mapping, "inside", False):
        with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(values))) as pool:
            return list(pool.map(function, values))
    futures = [MAPS.submit(function, value) for value in values]
    try:
        wait(futures)
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    return [future.result() for future in futures]
