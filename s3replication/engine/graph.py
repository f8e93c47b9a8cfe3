"""Stages run as a dependency graph: each starts, in a thread of its own, as soon as every
stage it waits for has finished without error (stages.py says which waits for which, and why).

After a failure nothing new starts, not even a stage that does not depend on the failed one:
the stages already running finish, and the run ends there. That is what the old fixed
sequence did too (it stopped after the stage that failed), and it keeps a failed run's
changes a prefix of the graph that a re-run completes.

Results come back in the order the steps are written, not the order the stages finished, so
that a run's list of changes is the same every time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Generic, TypeVar

from .items import StageResult

log = logging.getLogger(__name__)
N = TypeVar("N", bound=Hashable)


@dataclass(frozen=True)
class Step(Generic[N]):
    """A stage of a command, and the stages it waits for."""

    stage: N
    after: tuple[N, ...] = ()


def chain(*stages: N) -> tuple[Step[N], ...]:
    """Each stage after the one before it: a fixed sequence, as a graph."""
    return tuple(Step(stage, stages[n - 1:n]) for n, stage in enumerate(stages))


def check_order(steps: Sequence[Step[N]]) -> None:
    """Every step waits only for steps written before it: so the graph has no cycle, every
    stage can start, and the written order is one order that runs it."""
    seen: list[N] = []
    for step in steps:
        if step.stage in seen:
            raise ValueError(f"{step.stage} is listed twice")
        missing = [d for d in step.after if d not in seen]
        if missing:
            raise ValueError(f"{step.stage} waits for {missing}, not listed before it")
        seen.append(step.stage)


def _ready(waiting: list[Step[N]], finished: dict[N, StageResult]) -> list[Step[N]]:
    return [s for s in waiting if all(d in finished for d in s.after)]


def run_graph(steps: Sequence[Step[N]],
              work: Callable[[N], StageResult]) -> list[tuple[N, StageResult]]:
    """`work` on every stage, each once all it waits for finished without error; after a
    failure (a result with errors, or `work` raising) nothing new starts. Returns the results
    of the stages that ran, in the order of `steps`; an exception `work` raised is raised
    again once the running stages finished (the first, in the order of `steps`)."""
    check_order(steps)
    finished: dict[N, StageResult] = {}
    crashed: dict[N, BaseException] = {}
    waiting = list(steps)
    running: dict[Future[StageResult], tuple[N, float]] = {}  # stage, when it started
    with ThreadPoolExecutor(max_workers=max(1, len(steps)),
                            thread_name_prefix="s3replication-stage") as pool:
        while True:
            failed = crashed or any(r.errors for r in finished.values())
            for step in [] if failed else _ready(waiting, finished):
                waiting.remove(step)
                log.debug("stage %s: started", step.stage)
                running[pool.submit(work, step.stage)] = (step.stage, time.monotonic())
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                stage, started = running.pop(future)
                try:
                    finished[stage] = future.result()
                except BaseException as exc:  # noqa: BLE001 - raised below, once all stopped
                    crashed[stage] = exc
                log.debug("stage %s: ended after %.3f s", stage, time.monotonic() - started)
    for step in steps:
        if step.stage in crashed:
            raise crashed[step.stage]
    return [(s.stage, finished[s.stage]) for s in steps if s.stage in finished]
