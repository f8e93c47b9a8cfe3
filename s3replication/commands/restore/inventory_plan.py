"""`restore --inventory [--engine duckdb|athena]`: the restore plan of a scope from the newest
complete S3 Inventory report of its bucket (the `s3-replication-audit` configuration lists
every version, with IsLatest, IsDeleteMarker, VersionId, LastModifiedDate, Size, ETag and
StorageClass: https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory.html),
through the same DuckDB/Athena path as `audit --inventory`, never listing the bucket.

The judgement is inventory/restore_query.py's SQL, the listing path's `judge` key for key (to
the second: see there). The plan is the state when the report was taken: what changed since
is not in it.

At that size the copies may be many: `plan_from_inventory(..., manifest=True)` (what
`restore --yes --inventory` asks for) streams them into a Batch Operations manifest in the
report bucket (`bucket,key,versionId`, inventory/redrive.py's format) instead of holding them,
for restore/batch_copy.py's S3PutObjectCopy job; without it (the plan, or an in-process apply)
the copies are in `copies`, and each changing key's current version in `before`, as for the
listing path.

Not with the inventory: a rule with a tag filter (inventories carry no tags, and a key's
tags at TIME are per version) and `--from replica` (the state at TIME is then the
replica's, the current one the source's: two reports): both are usage errors that name the
listing path instead.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from ...engine.context import Context
from ...errors import UsageError
from ...inventory import redrive
from ...inventory.query import column_name
from ...inventory.restore_query import TABLE, RestoreQuery
from ...resources.inventory import report_bucket
from ..inventory_report import find_report
from .plan import GROUPS, Copy, RestorePlan, Scope

log = logging.getLogger(__name__)
MANIFEST_PREFIX = "inventory/restore"


@dataclass
class InventoryRestorePlan(RestorePlan):
    """A plan from a report: when it was taken, and with `manifest=True` where the copies
    are (then `copies` is empty and `copy_count` says how many the manifest lists)."""

    report_taken: str = ""  # the report's creationTimestamp, ISO 8601 UTC
    manifest: str = ""  # s3://REPORTS/inventory/restore/...csv, or "" (copies in memory)
    copy_count: int = 0


def check_scope(scope: Scope) -> None:
    """Usage errors for what the inventory cannot plan (before any AWS call)."""
    if scope.from_replica:
        raise UsageError("restore --inventory reads one bucket's report: --from replica "
                         "needs the listing path (drop --inventory)")
    if scope.rule is not None and scope.rule.tags:
        raise UsageError(f"restore --inventory: rule {scope.rule.id} filters by tags, which "
                         "inventory reports do not carry; drop --inventory, or restore "
                         "--bucket with --prefix")


def manifest_key(bucket: str, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{MANIFEST_PREFIX}/{urllib.parse.quote(bucket, safe='')}/{stamp}-copies.csv"


def plan_from_inventory(ctx: Context, scope: Scope, to: datetime, max_report: int,
                        engine: str, manifest: bool = False,
                        on_file: Callable[[int], None] = lambda n: None
                        ) -> InventoryRestorePlan:
    """The plan of `scope` at `to` from its bucket's newest report; with `manifest`, the
    copies streamed to a Batch Operations manifest rather than held."""
    check_scope(scope)
    report = find_report(ctx, ctx.bucket(scope.bucket), "restore --inventory")
    query = RestoreQuery(scope.prefix, to, has_etag=column_name("ETag") in
                         {column_name(c) for c in report.columns})
    plan = InventoryRestorePlan(scope.bucket, scope.prefix, to, dict.fromkeys(GROUPS, 0),
                                {group: [] for group in GROUPS}, [], [],
                                report_taken=report.created.isoformat())
    from ...inventory import athena_engine, duckdb_engine

    runner: Any = athena_engine if engine == "athena" else duckdb_engine
    with runner.tables_session(ctx.clients, {TABLE: report}, on_file) as connection:
        if engine != "athena":  # DuckDB: judge once, then read the judged rows
            connection.execute(query.materialize())
            query = replace(query, materialized=True)
        for row in runner.rows(connection, query.counts()):
            plan.counts[str(row["grp"])] = int(row["keys"])
        for row in runner.rows(connection, query.samples(max_report)):
            plan.samples[str(row["grp"])].append(str(row["key"]))
        plan.archived = [(str(r["key"]), str(r["version_id"]))
                         for r in runner.rows(connection, query.copies(archived=True))]
        plan.hides = [str(r["key"]) for r in runner.rows(connection, query.hides())]
        copies = (Copy(str(r["key"]), str(r["version_id"]), int(r["size"] or 0),
                       str(r["storage_class"] or ""))
                  for r in runner.rows(connection, query.copies()))
        if manifest:
            reports = report_bucket(ctx, ctx.bucket(scope.bucket).region)
            assert reports is not None  # find_report found it
            plan.manifest, plan.copy_count = redrive.write_manifest(
                ctx.s3(reports.region), reports.name, manifest_key(scope.bucket),
                scope.bucket, ((c.key, c.version_id) for c in copies))
            log.info("restore copies of %s: %d in %s", scope.bucket, plan.copy_count,
                     plan.manifest)
        else:
            plan.copies = list(copies)
            plan.copy_count = len(plan.copies)
            plan.before = {str(r["key"]): str(r["version_id"])
                           for r in runner.rows(connection, query.before())}
    return plan
