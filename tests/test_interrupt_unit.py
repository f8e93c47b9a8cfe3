"""The pieces of Ctrl-C (engine/interrupt.py): a wait ends at once, a stream starts nothing
more, and the run waits for the work that must finish, never longer than its bound."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from s3replication.commands.streams import ordered_map
from s3replication.engine import interrupt


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    interrupt.reset()
    yield
    interrupt.reset()


def later(seconds: float, then: object) -> None:
    threading.Timer(seconds, then).start()  # type: ignore[arg-type]


def test_a_pause_ends_at_once_on_ctrl_c() -> None:
    later(0.1, interrupt.STOP.set)
    started = time.monotonic()
    with pytest.raises(interrupt.Interrupted):
        interrupt.pause(30)
    assert time.monotonic() - started < 1


def test_the_run_waits_for_work_that_must_finish() -> None:
    finished: list[str] = []

    def removal() -> None:
        with interrupt.must_finish():
            time.sleep(0.3)
            finished.append("canary removed")

    worker = threading.Thread(target=removal)
    worker.start()
    time.sleep(0.05)
    assert interrupt.settle(bound=5) is True
    assert finished == ["canary removed"]
    worker.join()


def test_the_wait_for_work_that_must_finish_is_bounded() -> None:
    release = threading.Event()

    def stuck() -> None:
        with interrupt.must_finish():
            release.wait(10)

    worker = threading.Thread(target=stuck)
    worker.start()
    time.sleep(0.05)
    started = time.monotonic()
    assert interrupt.settle(bound=0.2) is False
    assert time.monotonic() - started < 1
    release.set()
    worker.join()


def test_a_stream_starts_nothing_once_interrupted() -> None:
    started: list[int] = []

    def work(n: int) -> int:
        started.append(n)
        if n == 3:
            interrupt.STOP.set()
        time.sleep(0.01)
        return n

    with pytest.raises(interrupt.Interrupted):
        list(ordered_map(work, range(1000), workers=2))
    assert len(started) < 10
