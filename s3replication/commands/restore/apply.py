"""Apply a restore plan: copy back each version at TIME, hide each key created since, in
parallel (streams.ordered_map), with progress on stderr, each change written at once to a CSV
file in the log folder (key, action, version before, version after), so that even an
interrupted run leaves the list of what it changed: each change is listed by the thread that
made it, as soon as it is made, and on Ctrl-C no key starts and the run waits (briefly) for the
changes under way to be listed (engine/interrupt.py). No version is ever deleted.
"""

from __future__ import annotations

import csv
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from ...aws.calls import explain
from ...engine import interrupt
from ...engine.context import Context
from ...engine.parallel import MAX_WORKERS
from ...output.progress import Progress
from ...output.restore_results import RestoreResult
from ..object_copy import NotCopyable
from ..streams import ordered_map
from .changes_log import COPY, FIELDS, HIDE, changes_path
from .copy import copy_back, hide
from .plan import Copy, RestorePlan, Scope

log = logging.getLogger(__name__)
Step = tuple[str, Copy]  # action, the version to copy (only its key, to hide)
Done = tuple[Step, str, str]  # the step, the new version id, the failure ("" when none)
# The engine's width (engine/parallel.py; aws/clients.py keeps 128 connections per client):
# each key is one call that waits on the network (CopyObject or DeleteObject)
WORKERS = MAX_WORKERS


def apply(ctx: Context, scope: Scope, plan: RestorePlan, result: RestoreResult,
          max_report: int) -> None:
    """Make the changes of `plan`, counted into `result`."""
    s3 = ctx.s3_of(ctx.bucket(scope.bucket))
    reader = s3
    if plan.source_of_copies and plan.source_of_copies != scope.bucket:
        reader = ctx.s3_of(ctx.bucket(plan.source_of_copies))
    steps: list[Step] = [(COPY, copy) for copy in plan.copies]
    steps += [(HIDE, Copy(key, "")) for key in plan.hides]
    if not steps:
        return
    path = changes_path(ctx.config.log_file.parent, scope.bucket)
    result.changes_file = str(path)
    progress = Progress("restore", unit="keys restored", after=1.0)
    try:
        with path.open("w", newline="", encoding="utf-8") as out:
            written, lock = csv.writer(out), threading.Lock()
            written.writerow(FIELDS)
            out.flush()

            def record(step: Step, after: str) -> None:
                action, (key, version, *_) = step
                with lock:
                    written.writerow([key, action, plan.before.get(key, ""), after, version])
                    out.flush()

            try:
                for (action, _), _, failure in _run(s3, reader, scope, plan, steps, record):
                    progress.add(1)
                    if failure:
                        result.failed += 1
                        if len(result.errors) < max_report:
                            result.errors.append(failure)
                        continue
                    result.copied += action == COPY
                    result.hidden += action == HIDE
            except BaseException as exc:  # the changes under way listed before the file closes
                interrupt.settle(stop=isinstance(exc, KeyboardInterrupt))
                raise
    finally:
        progress.close()
    log.info("restore of s3://%s/%s: %d copied back, %d hidden, %d failed; changes in %s",
             scope.bucket, scope.prefix, result.copied, result.hidden, result.failed, path)


def _run(s3: Any, reader: Any, scope: Scope, plan: RestorePlan, steps: list[Step],
         record: Callable[[Step, str], None]) -> Iterator[Done]:
    def one(step: Step) -> Done:
        with interrupt.must_finish():  # on Ctrl-C, listed before the run ends
            return change(step)

    def change(step: Step) -> Done:
        action, copy = step
        key, version = copy.key, copy.version_id
        try:
            if action == HIDE:
                after = hide(s3, scope.bucket, key)
            else:
                after = copy_back(s3, scope.bucket, copy, reader, plan.source_of_copies)
        except NotCopyable as skipped:
            return step, "", f"{scope.bucket}/{key}: {skipped.reason}"
        except Exception as exc:  # noqa: BLE001 - one key's failure is reported, others go on
            what = "hiding" if action == HIDE else f"copying back version {version} of"
            return step, "", str(explain(exc, f"{what} {scope.bucket}/{key}"))
        record(step, after)
        return step, after, ""
    return ordered_map(one, steps, workers=WORKERS)
