"""`audit`: is anything missing from the replicas? Per rule, in parallel: counts and the
problem objects (never the healthy ones), capped by `--max-report`."""

from __future__ import annotations

import argparse
import logging

from ..aws.calls import explain
from ..aws.naming import script_name
from ..config.model import RuleSpec
from ..engine.context import Context
from ..engine.items import parallel_map
from ..errors import ExitStatus
from ..output.progress import Progress
from ..output.results import AuditResult, ProblemObject, RuleAuditReport
from .object_copy import SSE_C_REASON, archived_reason
from .replica_audit import ARCHIVED, FAILED, MISMATCHED, NEEDS_KEY, PENDING, Problem, RuleAudit

log = logging.getLogger(__name__)

ATTENTION_COUNTS = ("missing", "mismatched", "failed", "archived", "needs_key",
                    "retention_missing", "retention_short")


def audit(ctx: Context, args: argparse.Namespace) -> AuditResult:
    script = script_name(ctx.kind)
    if not ctx.rules:
        return AuditResult(script=script, status=ExitStatus.OK, rules=[])
    if getattr(args, "inventory", False):
        from .inventory_audit import audit_rule as from_inventory

        files = Progress("audit --inventory", unit="report files read")
        try:
            results = parallel_map(lambda r: from_inventory(
                ctx, r, args.max_report, args.engine, files.add), ctx.rules)
        finally:
            files.close()
        return AuditResult(script=script, status=overall_status(results), rules=results)
    progress = Progress("audit")
    try:
        results = parallel_map(lambda r: audit_rule(ctx, r, args.max_report, progress),
                               ctx.rules)
    finally:
        progress.close()
    return AuditResult(script=script, status=overall_status(results), rules=results)


def audit_rule(ctx: Context, rule: RuleSpec, max_report: int,
               progress: Progress | None = None) -> RuleAuditReport:
    """One rule's counts and its first `max_report` problems (all of them are counted)."""
    checker = RuleAudit(ctx, rule, on_progress=progress.add if progress else lambda n: None)
    listed: list[ProblemObject] = []
    total = 0
    error = None
    try:
        for problem in checker.problems():
            total += 1
            if len(listed) < max_report:
                listed.append(ProblemObject(**problem.as_dict(), detail=describe(problem)))
    except Exception as exc:  # noqa: BLE001 - one rule's failure is reported, others go on
        failure = explain(exc, f"auditing rule {rule.id} ({rule.source} -> {rule.destination})")
        log.error("%s", failure)
        error = str(failure)
    counts = dict(vars(checker.counts))
    if ctx.bucket(rule.destination).object_lock is None:  # retention is read in a lock only
        counts = {k: n for k, n in counts.items() if not k.startswith("retention_")}
    log.info("rule %s: %s", rule.id, ", ".join(f"{n} {k}" for k, n in counts.items()))
    return RuleAuditReport(rule=rule.id, source=rule.source, destination=rule.destination,
                           prefix=rule.prefix, tags=dict(rule.tags), error=error,
                           counts=dict(counts), problems=listed, problems_total=total,
                           exact_versions=checker.exact_versions)


def overall_status(results: list[RuleAuditReport]) -> ExitStatus:
    if any(r.error for r in results):
        return ExitStatus.FAILURE
    if any(r.no_report for r in results):  # audit --inventory before the first report
        return ExitStatus.ATTENTION
    if any(r.counts.get(k) for r in results for k in ATTENTION_COUNTS):
        return ExitStatus.ATTENTION
    return ExitStatus.OK


def describe(problem: Problem) -> str:
    source, replica, status = problem.source, problem.replica, problem.replication_status
    if problem.why:  # a retention problem (inventory/retention.py)
        return problem.why
    if problem.kind == MISMATCHED:
        return f"replica is {replica.size if replica else '?'} bytes, source {source.size}"
    if problem.kind == FAILED:
        return "replication FAILED (see the rule's failure events or metrics)"
    if problem.kind == PENDING:
        return "replication PENDING: on its way"
    if problem.kind == ARCHIVED:
        return archived_reason(source.storage_class)
    if problem.kind == NEEDS_KEY:
        return SSE_C_REASON
    if replica is not None:
        return "the destination holds another version"
    if status in ("COMPLETED", "COMPLETE"):
        return "replicated once, since removed from the destination"
    return "never replicated: no replication status (written before the rule, or while it was off)"
