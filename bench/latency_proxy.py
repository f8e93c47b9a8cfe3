"""A loopback TCP proxy in front of an endpoint that adds a fixed delay to every request, as a
call to AWS from a laptop or a CI runner has (30-150 ms; default 50 ms, `BENCH_LATENCY_MS`).

Each request's first bytes are held `delay` seconds before they go to the server, so every
API call pays the delay once, whatever runs at once (connections are independent). The proxy
also records, per request, when it arrived and when its answer was sent back, from which
`critical_path` counts the longest chain of calls that ran one after another.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Proxy:
    target_host: str
    target_port: int
    delay: float
    calls: list[tuple[float, float]] = field(default_factory=list)  # (request, answer end)
    port: int = 0

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    upstream: bool, state: dict[str, float]) -> None:
        try:
            while data := await reader.read(65536):
                if upstream and state.get("answered", 1.0):
                    # the first bytes of a new request: the network's delay, then forward
                    state["answered"], state["started"] = 0.0, time.monotonic()
                    await asyncio.sleep(self.delay)
                writer.write(data)
                await writer.drain()
                if not upstream:
                    state["answered"] = 1.0
                    state["ended"] = time.monotonic()
                    self._record(state)
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    def _record(self, state: dict[str, float]) -> None:
        started = state.pop("started", None)
        if started is not None:
            self.calls.append((started, state["ended"]))

    async def _serve(self, client_reader: asyncio.StreamReader,
                     client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(
            self.target_host, self.target_port)
        state: dict[str, float] = {}
        await asyncio.gather(self._pipe(client_reader, server_writer, True, state),
                             self._pipe(server_reader, client_writer, False, state),
                             return_exceptions=True)

    def reset(self) -> None:
        self.calls.clear()


def critical_path(calls: list[tuple[float, float]]) -> int:
    """The longest chain of calls each of which began after the one before it ended: how many
    latencies a run paid one after another (calls that overlap cost one between them).
    Calls taken by end time; the best chain ending at or before a start is a prefix maximum."""
    ends: list[float] = []  # ascending
    best_to: list[int] = []  # best_to[i]: the longest chain among the calls ending at ends[:i+1]
    for start, end in sorted(calls, key=lambda c: c[1]):
        before = bisect.bisect_right(ends, start)
        length = 1 + (best_to[before - 1] if before else 0)
        ends.append(end)
        best_to.append(max(length, best_to[-1]) if best_to else length)
    return best_to[-1] if best_to else 0


@contextlib.contextmanager
def latency_proxy(endpoint: str, delay_ms: float) -> Iterator[tuple[str, Proxy]]:
    """Yield (the proxy's endpoint URL, the proxy) while it runs in a thread of its own."""
    parts = urlsplit(endpoint)
    proxy = Proxy(parts.hostname or "127.0.0.1", parts.port or 80, delay_ms / 1000)
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    async def start() -> asyncio.AbstractServer:
        server = await asyncio.start_server(proxy._serve, "127.0.0.1", 0)
        proxy.port = server.sockets[0].getsockname()[1]
        ready.set()
        return server

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=10)
    ready.wait(10)
    try:
        yield f"{parts.scheme}://127.0.0.1:{proxy.port}", proxy
    finally:
        async def stop() -> None:  # connections still open (clients' keep-alive) end too
            server.close()
            open_ones = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in open_ones:
                task.cancel()
            await asyncio.gather(*open_ones, return_exceptions=True)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
