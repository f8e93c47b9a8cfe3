"""One engine for apply, plan and destroy: compare desired settings with AWS, change only the
difference.

Every managed setting is an `Item`: what we want (plain data), how to read what AWS has, which
part of that we manage (`project`), and how to write it. Items of one bucket, key or role form
a lane, handled in order (versioning before replication, bucket before its settings); lanes
run in parallel on a thread pool. Within a lane, once its first item is as wanted, the other
items are read at once (a read depends only on the writes before it); consecutive items that
name different documents (`touches`: each alarm, each bucket's notification entry) are read
and written at once, or read at once and written one at a time (`writes_alone`: the settings
of one bucket). Plan reads and compares; apply also writes each difference as it finds
it, so it does exactly what a plan would show.

A write in an account of ACCOUNTS whose admin_profile is not available here (its clients raise
AdminUnavailable before sending anything: aws/clients.py) is not made: the change is kept as
pending, for that account's administrators, and the rest of its lane goes on as a plan would
(behind a gate left pending, nothing is read).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from ..aws.calls import explain
from ..errors import AdminUnavailable, AwsError, ReplicationToolError
from .parallel import MAX_WORKERS
from .parallel import parallel_map as parallel_map  # its home before parallel.py

log = logging.getLogger(__name__)
READ_WORKERS = 64
# The early reads of every lane (run_lane); shared, so their number stays bounded.
READS = ThreadPoolExecutor(max_workers=READ_WORKERS, thread_name_prefix="s3replication-read")
# The items of a lane that run at once (run_lane: `Item.touches`).
BATCHES = ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="s3replication-item")
# The lanes of every stage (run_lanes); a lane never waits for another lane, so stages running
# at once share it without deadlock. One pool for the run: its threads, once started, serve
# every later stage (starting a thread waits for it to get the interpreter lock, which costs
# milliseconds while the others run; a 10-pair run started about 75 for its stages).
LANES = ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="s3replication-lane")


def _identity(value: Any) -> Any:
    return value


@dataclass
class Item:
    resource: str  # e.g. "bucket shopco-data-use1"
    setting: str  # e.g. "versioning"
    wanted: Any  # plain data; None means "should not exist"
    read: Callable[[], Any]  # the full current value, None when absent
    write: Callable[[Any], None]  # given the full current value, make it `wanted`
    project: Callable[[Any], Any] = _identity  # the part of the current value we manage
    gate: bool = False  # an existence item: when absent, later items of its lane are absent too
    # A gate whose write makes the resource with nothing else set (a new bucket has no policy,
    # tags, ...; a new role no inline policy): once it made it, later items of its lane are
    # written from nothing, unread, as a plan shows them.
    fresh: bool = False
    # A setting its gate's write makes as wanted (a new key's state and rotation, a new access
    # point's buckets and first routes): behind an absent gate it is no change of its own, in
    # a plan as in the apply that makes the gate (which reads it afterwards, as wanted).
    made_by_gate: bool = False
    desire: Callable[[Any], Any] | None = None  # when what we want depends on what is there
    # The document it reads and writes (an alarm, a bucket's notification configuration,
    # ...). Consecutive items that say one run at once, those of one document in order.
    touches: str | None = None
    # With `touches`: read at once with its neighbours, but written one at a time. S3 answers
    # OperationAborted ("a conflicting conditional operation is currently in progress") to
    # configuration writes that overlap on one bucket
    # (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
    writes_alone: bool = False
    # What a user must know about a change besides its values, shown in its line: given the
    # part we manage as it is and as wanted (Object Lock: "loosens the vault's retention").
    remark: Callable[[Any, Any], str | None] | None = None

    def wanted_for(self, current: Any) -> Any:
        return self.desire(current) if self.desire is not None else self.wanted


@dataclass(frozen=True)
class Change:
    resource: str
    setting: str
    current: Any
    wanted: Any
    remark: str | None = None  # Item.remark's, shown in the change's line
    # The ACCOUNTS name whose administrators must make it: apply without its admin_profile
    pending: str | None = None

    @property
    def action(self) -> str:
        if self.current is None:
            return "create"
        if self.wanted is None:
            return "delete"
        return "update"

    def as_dict(self) -> dict[str, Any]:
        found = {
            "resource": self.resource,
            "setting": self.setting,
            "action": self.action,
            "current": self.current,
            "wanted": self.wanted,
        }
        if self.remark:
            found["remark"] = self.remark
        if self.pending is not None:
            found["pending"] = self.pending
        return found


@dataclass
class StageResult:
    changes: list[Change] = field(default_factory=list)
    errors: list[Exception] = field(default_factory=list)


class RunFailed(ReplicationToolError):
    """One or more lanes failed; the others finished. Every failure is listed."""

    def __init__(self, errors: list[Exception], changes: list[Change]):
        self.errors = errors
        self.changes = changes
        super().__init__("\n".join(str(e) for e in errors))


def _read_all(items: list[Item]) -> list[Future[Any]]:
    """Every item's read, started at once: a lane's reads do not depend on each other, only
    on the writes before them, so until the lane writes they need not wait for one another."""
    return [READS.submit(item.read) for item in items]


_DONE: Future[Any] = Future()  # a place holder for the item read before the others


def _current(item: Item, early: Future[Any] | None) -> Any:
    """The item's current value: read early when that still holds, else now. A failed early
    read is made again here, so that its error is raised where it belongs."""
    if early is not None and early is not _DONE:
        try:
            return early.result()
        except Exception:  # noqa: BLE001 - read again below, raising in its place
            pass
    return item.read()


def _read(item: Item, early: Future[Any] | None) -> Any:
    try:
        return _current(item, early)
    except Exception as exc:  # every failure becomes one named line
        raise explain(exc, f"reading {item.setting} of {item.resource}") from exc


def _settle(item: Item, current: Any, apply: bool) -> Change | None:
    """The item's change, if any; with `apply`, made."""
    seen, wanted = item.project(current), item.wanted_for(current)
    if seen == wanted:
        return None
    remark = item.remark(seen, wanted) if item.remark is not None else None
    change = Change(item.resource, item.setting, seen, wanted, remark)
    if not apply:
        return change
    try:
        item.write(current)
    except AdminUnavailable as exc:  # nothing was sent: left to that account's administrators
        log.info("%s %s: %s pending (%s)", change.resource, change.setting, change.action, exc)
        return Change(item.resource, item.setting, seen, wanted, pending=exc.account)
    except Exception as exc:
        log.info("%s %s: %s -> failed", change.resource, change.setting, change.action)
        raise explain(exc, f"{change.action} {item.setting} of {item.resource}") from exc
    log.info("%s %s: %s done", change.resource, change.setting, change.action)
    return change


Entry = tuple[int, Item, "Future[Any] | None"]  # place in the lane, item, its early read


def _group(entries: list[Entry], apply: bool) -> list[tuple[int, Change]]:
    """Items of one document, in order; an early read holds until the group writes."""
    found: list[tuple[int, Change]] = []
    for index, item, early in entries:
        wrote = apply and bool(found)
        change = _settle(item, _read(item, None if wrote else early), apply)
        if change is not None:
            found.append((index, change))
    return found


def _batch(entries: list[Entry], apply: bool) -> list[Change]:
    """Items of different documents at once; every one waited for, the first failure raised.
    Items that write alone are all read at once, then settled one document after the other
    (a write to one document leaves the others' reads as they were)."""
    groups: dict[str | None, list[Entry]] = {}
    for entry in entries:
        groups.setdefault(entry[1].touches, []).append(entry)
    if any(item.writes_alone for _, item, _ in entries):
        read = {index: early if early not in (None, _DONE) else READS.submit(item.read)
                for index, item, early in entries}
        return [change for group in groups.values() for _, change in
                _group([(index, item, read[index]) for index, item, _ in group], apply)]
    futures = [BATCHES.submit(_group, group, apply) for group in groups.values()]
    found: list[tuple[int, Change]] = []
    errors: list[BaseException] = []
    for future in futures:
        try:
            found += future.result()
        except Exception as exc:  # noqa: BLE001 - raised below, after the others finished
            errors.append(exc)
    if errors:
        raise errors[0]
    return [change for _, change in sorted(found, key=lambda pair: pair[0])]


def run_lane(items: Iterable[Item], apply: bool) -> list[Change]:
    items = list(items)
    early: list[Future[Any]] | None = None
    changes: list[Change] = []
    absent, n = False, 0
    written: set[str] = set()  # the documents (`touches`) this lane wrote
    # Once a change of the lane is left pending (another account's administrators'), the rest
    # of the lane is planned, not written, and pending too: it builds on that change.
    held: str | None = None
    while n < len(items):
        doing = apply and held is None
        if n == 1 and not changes and len(items) > 2:
            # the rest read at once, once the first item (a lane's gate: the bucket, key or
            # role) is there as wanted; after a change each is read when its turn comes
            early = [_DONE, *_read_all(items[1:])]
        if items[n].touches and not absent:
            end = next((k for k in range(n, len(items)) if not items[k].touches), len(items))
            found = _hold(_batch([(k, items[k], early[k] if early else None)
                                  for k in range(n, end)], doing), held)
            changes += found
            held = next((c.pending for c in found if c.pending is not None), held)
            early = None if doing and found else early
            n = end
            continue
        item = items[n]
        if absent and item.made_by_gate:
            n += 1
            continue
        # behind an absent or just made gate, nothing is read, but for a document an item
        # before it wrote (a bucket's policy: the TLS statement, then a delivery statement)
        unread = absent and item.touches not in written
        current = None if unread else _read(item, early[n] if early else None)
        change = _settle(item, current, doing)
        n += 1
        if change is None:
            continue
        change = _hold([change], held)[0]
        held = change.pending
        changes.append(change)
        if doing:
            early = None  # a write: what was read early may no longer hold
            if item.touches and change.pending is None:
                written.add(item.touches)
        # what follows starts from nothing: the gate's resource is absent (a plan, or left
        # pending), or was made just now by a gate that makes it with nothing set (Item.fresh)
        absent = absent or (item.gate and current is None
                            and (item.fresh or not doing or change.pending is not None))
    return changes


def _hold(changes: list[Change], held: str | None) -> list[Change]:
    """The changes, marked pending for `held`'s administrators when the lane is held."""
    if held is None:
        return changes
    return [Change(c.resource, c.setting, c.current, c.wanted, pending=held) for c in changes]


def run_lanes(lanes: list[list[Item]], apply: bool) -> StageResult:
    """Run every lane, in parallel; a failing lane does not stop the others."""
    result = StageResult()
    lanes = [lane for lane in lanes if lane]
    if not lanes:
        return result
    futures = [LANES.submit(run_lane, lane, apply) for lane in lanes]
    try:
        wait(futures)  # every lane ended before any failure is raised
    except BaseException:  # Ctrl-C: the lanes not started yet never start
        for future in futures:
            future.cancel()
        raise
    for future in futures:
        try:
            result.changes.extend(future.result())
        except (AwsError, ReplicationToolError) as exc:
            log.error("failed: %s", exc)
            log.debug("details", exc_info=exc)
            result.errors.append(exc)
    return result
