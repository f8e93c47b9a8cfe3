"""`audit`: is anything missing from the replicas? Per rule, in parallel: counts and the
problem objects (never the healthy ones), capped by `--max-report`."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from ..aws.calls import explain
from ..aws.naming import script_name
from ..config.model import RuleSpec
from ..engine.context import Context
from ..engine.items import parallel_map
from ..errors import ExitStatus
from ..output.progress import Progress
from ..output.results import Outcome
from .object_copy import SSE_C_REASON, archived_reason
from .replica_audit import ARCHIVED, FAILED, MISMATCHED, NEEDS_KEY, PENDING, Problem, RuleAudit

log = logging.getLogger(__name__)

BACKFILL_HINT = ("S3 does not replicate objects written before their rule existed (or while it "
                 "was off), nor retry failed ones: run `backfill` to replicate them.")
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/restoring-objects.html
ARCHIVE_HINT = ("S3 does not replicate objects in GLACIER or DEEP_ARCHIVE, and backfill cannot "
                "copy them: restore them first (RestoreObject), then copy them into a storage "
                "class that replicates.")
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html
SSE_C_HINT = ("Objects encrypted with a customer-provided key (SSE-C) need that key to be read "
              "or copied: replicate them with S3 Batch Replication (`backfill --method batch`), "
              "which needs no key.")
ATTENTION_COUNTS = ("missing", "mismatched", "failed", "archived", "needs_key")
BACKFILL_COUNTS = ("missing", "failed", "mismatched")


def audit(ctx: Context, args: argparse.Namespace) -> Outcome:
    script = script_name(ctx.kind)
    if not ctx.rules:
        return Outcome(ExitStatus.OK, f"{script} has no rules to audit.",
                       {"script": script, "command": "audit", "status": 0, "rules": []})
    progress = Progress("audit")
    try:
        results = parallel_map(lambda r: audit_rule(ctx, r, args.max_report, progress),
                               ctx.rules)
    finally:
        progress.close()
    status = overall_status(results)
    data = {"script": script, "command": "audit", "status": int(status), "rules": results}
    return Outcome(status, render(script, results), data)


def audit_rule(ctx: Context, rule: RuleSpec, max_report: int,
               progress: Progress | None = None) -> dict[str, Any]:
    """One rule's counts and its first `max_report` problems (all of them are counted)."""
    checker = RuleAudit(ctx, rule, on_progress=progress.add if progress else lambda n: None)
    result: dict[str, Any] = {"rule": rule.id, "source": rule.source,
                              "destination": rule.destination, "prefix": rule.prefix,
                              "tags": dict(rule.tags), "error": None}
    listed: list[dict[str, Any]] = []
    total = 0
    try:
        for problem in checker.problems():
            total += 1
            if len(listed) < max_report:
                listed.append({**problem.as_dict(), "detail": describe(problem)})
    except Exception as exc:  # noqa: BLE001 - one rule's failure is reported, others go on
        error = explain(exc, f"auditing rule {rule.id} ({rule.source} -> {rule.destination})")
        log.error("%s", error)
        result["error"] = str(error)
    counts = vars(checker.counts)
    log.info("rule %s: %s", rule.id, ", ".join(f"{n} {k}" for k, n in counts.items()))
    return {**result, "counts": dict(counts), "problems": listed, "problems_total": total,
            "exact_versions": checker.exact_versions}


def overall_status(results: list[dict[str, Any]]) -> ExitStatus:
    if any(r["error"] for r in results):
        return ExitStatus.FAILURE
    if any(r["counts"][k] for r in results for k in ATTENTION_COUNTS):
        return ExitStatus.ATTENTION
    return ExitStatus.OK


def describe(problem: Problem) -> str:
    source, replica, status = problem.source, problem.replica, problem.replication_status
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


def _rule_line(r: dict[str, Any]) -> str:
    where = f"{r['source']}/{r['prefix']}"
    tags = "".join(f" [{k}={v}]" for k, v in r["tags"].items())
    c = r["counts"]
    counts = (f"{c['checked']} checked, {c['missing']} missing, {c['mismatched']} size mismatch, "
              f"{c['failed']} failed, {c['pending']} pending")
    if c["archived"]:
        counts += f", {c['archived']} archived"
    if c["needs_key"]:
        counts += f", {c['needs_key']} need the customer key"
    return f"  {r['rule']}: {where}{tags} -> {r['destination']}: {counts}"


def render(script: str, results: list[dict[str, Any]]) -> str:
    attention = [r for r in results if r["error"] or r["problems_total"]]
    heading = (f"Audit of {len(results)} rules ({script}): "
               + (f"{len(attention)} need attention." if attention else "every replica present."))
    lines = [heading]
    for r in results:
        lines.append(_rule_line(r))
        if r["error"]:
            lines.append(f"      error: {r['error']}")
        for p in r["problems"]:
            lines.append(f"      {p['problem']:<13} {p['key']} (version {p['version_id']}, "
                         f"{p['size']} bytes): {p['detail']}")
        hidden = r["problems_total"] - len(r["problems"])
        if hidden:
            lines.append(f"      ... and {hidden} more (--max-report {len(r['problems'])})")
    for hint, kinds in ((BACKFILL_HINT, BACKFILL_COUNTS), (ARCHIVE_HINT, ("archived",)),
                        (SSE_C_HINT, ("needs_key",))):
        if any(r["counts"][k] for r in results for k in kinds):
            lines.append(hint)
    return "\n".join(lines)

