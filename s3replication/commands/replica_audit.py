"""Compare one rule's source objects with its destination, streamed.

Both buckets' version listings are read page by page (each on its own thread, a page ahead)
and merged in key order, S3's listing order. Only the current version of each key counts; a
key whose current version is a delete marker has no `IsLatest` version, so it is not expected
in the destination. Healthy pairs are counted and forgotten; only candidates (absent from the
destination, or of another size) cost further requests: their tags (for tag-filtered rules,
to know whether the rule selects them) and, when absent, a HEAD of the source version for its
replication status. Memory does not grow with the number of objects.

On AWS a replica keeps its source's version id, so a destination whose current version has
another id lacks the source's current version
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html).
Emulators give replicas new ids, so there the comparison is by key and size.

Two kinds of problem object are named for what they are, because backfill cannot copy them:
objects archived in GLACIER or DEEP_ARCHIVE (S3 does not replicate them; restore first) and
objects encrypted with a customer-provided key (SSE-C), whose replication status cannot even be
read without that key (see object_copy).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from ..aws.calls import is_not_found
from ..aws.clients import is_custom_endpoint
from ..config.model import RuleSpec
from ..engine.context import Context
from ..inventory import retention
from .canary_sweep import is_canary
from .object_copy import ARCHIVED_CLASSES, NotCopyable, head_version
from .streams import ordered_map, prefetched

MISSING, FAILED, PENDING, MISMATCHED = "missing", "failed", "pending", "size mismatch"
ARCHIVED, NEEDS_KEY = "archived", "needs key"
NO_RETENTION, SHORT_RETENTION = retention.NO_RETENTION, retention.SHORT_RETENTION
NEEDS_BACKFILL = (MISSING, FAILED, MISMATCHED)  # pending objects are on their way
CANNOT_COPY = (ARCHIVED, NEEDS_KEY)  # backfill by copy in place cannot repair these
PROGRESS_STEP = 1000  # objects between progress reports


def custom_endpoint(ctx: Context) -> bool:
    """Whether the run talks to an emulator (the sandbox or AWS_ENDPOINT_URL), not to AWS."""
    return is_custom_endpoint(getattr(ctx.clients, "endpoint_url", None))


class Listed(NamedTuple):  # a tuple: made once per object listed, so kept cheap
    key: str
    version_id: str
    size: int
    storage_class: str = "STANDARD"
    modified: datetime | None = None  # LastModified


@dataclass(frozen=True)
class Problem:
    kind: str  # MISSING, FAILED, PENDING, MISMATCHED, ARCHIVED, NEEDS_KEY or a retention's
    source: Listed
    replica: Listed | None  # the destination's current version, when there is one
    replication_status: str | None = None  # of the source version (HEAD), for absent ones
    why: str | None = None  # a retention problem in words

    def as_dict(self) -> dict[str, Any]:
        found = self.replica
        return {"problem": self.kind, "key": self.source.key,
                "version_id": self.source.version_id, "size": self.source.size,
                "storage_class": self.source.storage_class,
                "replication_status": self.replication_status,
                "replica_version_id": found.version_id if found else None,
                "replica_size": found.size if found else None}


@dataclass
class Counts:
    checked: int = 0
    missing: int = 0
    mismatched: int = 0
    failed: int = 0
    pending: int = 0
    archived: int = 0
    needs_key: int = 0
    retention_missing: int = 0  # in a bucket with object_lock only
    retention_short: int = 0

    def add(self, kind: str) -> None:
        name = {MISSING: "missing", FAILED: "failed", PENDING: "pending",
                MISMATCHED: "mismatched", ARCHIVED: "archived", NEEDS_KEY: "needs_key",
                NO_RETENTION: "retention_missing", SHORT_RETENTION: "retention_short"}[kind]
        setattr(self, name, getattr(self, name) + 1)


@dataclass
class RuleAudit:
    """One rule's comparison; `problems()` streams the problem objects and fills `counts`."""

    ctx: Context
    rule: RuleSpec
    on_progress: Callable[[int], None] = lambda n: None
    counts: Counts = field(default_factory=Counts)
    exact_versions: bool = field(init=False)  # AWS: replicas keep their source's version id

    def __post_init__(self) -> None:
        self.exact_versions = not custom_endpoint(self.ctx)
        self._lock_counter = threading.Lock()
        self._source = self.ctx.s3_of(self.ctx.bucket(self.rule.source))
        self._replica = self.ctx.s3_of(self.ctx.bucket(self.rule.destination))
        # a locked destination: every replica's retention is read (GetObjectRetention)
        self._default = self.ctx.bucket(self.rule.destination).object_lock
        self.retention_reads = 0

    def problems(self) -> Iterator[Problem]:
        for problem in ordered_map(self._check, self._candidates()):
            if problem is not None:
                self.counts.add(problem.kind)
                yield problem

    def _candidates(self) -> Iterator[tuple[Listed, Listed | None]]:
        """Merge the two key-ordered listings; yield pairs that are not plainly healthy."""
        sources = current_versions(self._source, self.rule.source, self.rule.prefix)
        replicas = current_versions(self._replica, self.rule.destination, self.rule.prefix)
        try:
            replica = next(replicas, None)
            seen = 0
            for source in sources:
                while replica is not None and replica.key < source.key:
                    replica = next(replicas, None)  # only in the destination: not our concern
                twin = replica if replica is not None and replica.key == source.key else None
                if twin is not None and self._same(source, twin) and self._default is None:
                    self._count_checked()
                else:
                    yield source, twin
                seen += 1
                if seen % PROGRESS_STEP == 0:
                    self.on_progress(PROGRESS_STEP)
            self.on_progress(seen % PROGRESS_STEP)
        finally:
            sources.close()
            replicas.close()

    def _same(self, source: Listed, replica: Listed) -> bool:
        if self.exact_versions and source.version_id != replica.version_id:
            return False
        return source.size == replica.size

    def _count_checked(self) -> None:
        with self._lock_counter:
            self.counts.checked += 1

    def _check(self, pair: tuple[Listed, Listed | None]) -> Problem | None:
        """The problem with a candidate, or None when the rule does not select it (tags) or it
        is gone since it was listed."""
        source, replica = pair
        if replica is not None and self._same(source, replica):  # healthy, in a locked bucket
            self._count_checked()
            return self._retention_problem(source, replica)
        try:
            if self.rule.tags and not self._selected(source):
                return None
            self._count_checked()
            if replica is not None and (not self.exact_versions
                                        or replica.version_id == source.version_id):
                return _archived_or(Problem(MISMATCHED, source, replica))
            status = head_version(self._source, self.rule.source, source.key,
                                  source.version_id).get("ReplicationStatus")
        except NotCopyable:  # SSE-C: not even its replication status is readable
            return Problem(NEEDS_KEY, source, replica)
        except Exception as exc:
            if is_not_found(exc, "NoSuchKey", "NoSuchVersion"):
                return None
            raise
        kind = {"FAILED": FAILED, "PENDING": PENDING}.get(status or "", MISSING)
        return _archived_or(Problem(kind, source, replica, status))

    def _retention_problem(self, source: Listed, replica: Listed) -> Problem | None:
        """A healthy replica in a locked destination whose retention is missing or falls short
        of the bucket's default (inventory/retention.py: the rule); None when it is right."""
        assert self._default is not None
        with self._lock_counter:
            self.retention_reads += 1
        found = retention.read_retention(self._replica, self.rule.destination, replica.key,
                                         replica.version_id)
        kind, why = retention.judge(self._default, found, replica.modified)
        return None if kind is None else Problem(kind, source, replica, why=why)

    def _selected(self, source: Listed) -> bool:
        tagging = self._source.get_object_tagging(Bucket=self.rule.source, Key=source.key,
                                                  VersionId=source.version_id)
        tags = {t["Key"]: t["Value"] for t in tagging.get("TagSet", [])}
        return all(tags.get(key) == value for key, value in self.rule.tags)


def _archived_or(problem: Problem) -> Problem:
    """An archived object that is not replicated is ARCHIVED: S3 does not replicate objects in
    GLACIER or DEEP_ARCHIVE, and they cannot be copied before they are restored
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/sc-howtoset.html)."""
    if problem.source.storage_class in ARCHIVED_CLASSES and problem.kind != PENDING:
        return Problem(ARCHIVED, problem.source, problem.replica, problem.replication_status)
    return problem


def current_versions(s3: Any, bucket: str, prefix: str) -> Generator[Listed, None, None]:
    """The current version of every key under `prefix`, in key order, page by page."""
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix)
    for page in prefetched(pages):
        for v in page.get("Versions", ()):
            if v["IsLatest"] and not is_canary(v["Key"]):  # the tool's own (canary_sweep)
                yield Listed(v["Key"], v["VersionId"], v["Size"],
                             v.get("StorageClass", "STANDARD"), v.get("LastModified"))
