"""`audit --inventory [--engine duckdb|athena]`: the audit from S3 Inventory reports, for
buckets too large to list (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-status.html,
storage-inventory.html). Per rule: the newest complete report of the source and of the
replica (when each was taken, and how old it is), their comparison (inventory/query.py) in
DuckDB or Athena, the same counts as the listing audit plus `too_new` (source versions written
after the replica's report was taken: not judged, not re-driven), and the objects to re-drive
written as Batch Operations manifests to the source Region's report bucket: one for a Batch
Replication job, one of the replicas deleted from the destination, which backfill copies in
place (inventory/query.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ..aws.calls import explain
from ..config.model import ObjectLockSpec, RuleSpec
from ..engine.context import Context
from ..errors import UsageError
from ..inventory import redrive
from ..inventory.query import REDRIVE_KINDS, Comparison
from ..inventory.reports import Report, ReportError
from ..inventory.retention import LOCK_FIELDS
from ..output.results import ProblemObject, RuleAuditReport
from ..resources.inventory import report_bucket
from .inventory_report import NoReportYet, find_report
from .replica_audit import custom_endpoint

log = logging.getLogger(__name__)
AUDIT = "audit --inventory"


COUNTED = ("missing", "mismatched", "failed", "pending", "archived")
RETENTION_COUNTED = ("retention_missing", "retention_short")  # a locked destination's only
KIND_WORDS = {"mismatched": "size mismatch", "retention_missing": "retention missing",
              "retention_short": "retention short"}  # as the listing audit names them


def audit_rule(ctx: Context, rule: RuleSpec, max_report: int, engine: str,
               on_file: Callable[[int], None] = lambda n: None) -> RuleAuditReport:
    exact_versions = not custom_endpoint(ctx)
    report = RuleAuditReport(rule=rule.id, source=rule.source, destination=rule.destination,
                             prefix=rule.prefix, tags=dict(rule.tags), error=None,
                             counts={"checked": 0, **dict.fromkeys(COUNTED, 0), "needs_key": 0,
                                     "too_new": 0, **dict.fromkeys(
                                         RETENTION_COUNTED if ctx.bucket(
                                             rule.destination).object_lock else (), 0)},
                             problems=[], problems_total=0, exact_versions=exact_versions)
    try:
        source, replica = (find_report(ctx, ctx.bucket(rule.source), AUDIT),
                           find_report(ctx, ctx.bucket(rule.destination), AUDIT))
        report.reports = {r.bucket: f"{r.created:%Y-%m-%d %H:%M} UTC ({r.age_hours:.1f} h old)"
                          for r in (source, replica)}
        report.report_times = {"source": _iso(source.created), "replica": _iso(replica.created)}
        # the replica's report is a snapshot begun at its creationTimestamp: a source version
        # written since is too new for it (inventory/query.py)
        comparison = Comparison(rule, exact_versions, replica_taken=replica.created,
                                retention=_retention(ctx, rule, replica))
        _run(ctx, engine, comparison, (source, replica), report, max_report, on_file)
    except NoReportYet as exc:
        report.no_report = str(exc)
        log.warning("%s", exc)
    except ReportError as exc:
        report.error = str(exc)
    except UsageError:
        raise
    except Exception as exc:  # noqa: BLE001 - one rule's failure is reported, others go on
        report.error = str(explain(exc, f"auditing rule {rule.id} from inventory"))
    if report.error:
        log.error("%s", report.error)
    return report


def _run(ctx: Context, engine: str, comparison: Comparison, reports: tuple[Report, Report],
         report: RuleAuditReport, max_report: int, on_file: Callable[[int], None]) -> None:
    from ..inventory import athena_engine, duckdb_engine

    runner: Any = athena_engine if engine == "athena" else duckdb_engine
    with runner.session(ctx.clients, *reports, on_file) as connection:
        for row in runner.rows(connection, comparison.counts()):
            kind, objects = str(row["kind"]), int(row["objects"])
            report.counts["checked"] += objects
            if kind in (*COUNTED, *RETENTION_COUNTED, "too_new"):
                report.counts[kind] = report.counts.get(kind, 0) + objects
        report.problems_total = sum(report.counts.get(k, 0)
                                    for k in (*COUNTED, *RETENTION_COUNTED))
        report.problems = [_problem(row) for row in runner.rows(
            connection, comparison.problems(max_report))]
        to_redrive = sum(report.counts[k] for k in REDRIVE_KINDS)
        if not to_redrive:
            return
        gone = int(next(iter(runner.rows(connection, comparison.copy_count())))["objects"])
        rule, source = comparison.rule, ctx.bucket(comparison.rule.source)
        reports_bucket = report_bucket(ctx, source.region)
        assert reports_bucket is not None

        def write(query: str, group: str = "", metadata: dict[str, str] | None = None) -> str:
            listed = ((str(r["key"]), r["version_id"]) for r in runner.rows(connection, query))
            url, _count = redrive.write_manifest(
                ctx.s3(source.region), reports_bucket.name,
                redrive.manifest_key(rule.id, group=group), source.name, listed, metadata)
            return url

        if to_redrive > gone:
            report.redrive_manifest = write(comparison.redrive())
        if gone:
            report.copy_manifest = write(comparison.copy_redrive(), redrive.COPY_IN_PLACE,
                                         redrive.copy_metadata(rule.id))


def _problem(row: dict[str, Any]) -> ProblemObject:
    kind = KIND_WORDS.get(str(row["kind"]), str(row["kind"]))
    return ProblemObject(problem=kind, key=str(row["key"]), version_id=row["version_id"],
                         size=_number(row["size"]) or 0, storage_class=row["storage_class"],
                         replication_status=row["replication_status"] or None,
                         replica_version_id=row["replica_version_id"] or None,
                         replica_size=_number(row["replica_size"]),
                         detail=f"from inventory: {kind}")


def _retention(ctx: Context, rule: RuleSpec, replica: Report) -> ObjectLockSpec | None:
    """The locked destination's default retention, when its report carries the Object Lock
    fields apply asks for there (resources/inventory.py; a report delivered before lacks
    them: its replicas' retention is not judged)."""
    spec = ctx.bucket(rule.destination).object_lock
    return spec if spec is not None and set(LOCK_FIELDS) <= set(replica.columns) else None


def _iso(when: datetime) -> str:
    """A report's creationTimestamp as ISO 8601, UTC, to the millisecond."""
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _number(value: Any) -> int | None:
    """Athena answers every value as text; DuckDB as its type."""
    return None if value in (None, "") else int(value)
