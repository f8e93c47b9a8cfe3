"""The one renderer: a command's result as text for people, or as data for `--json`.

`outcome(result)` is what the command line prints: the exit status, the text, the JSON data and
the failures for stderr. Commands build no text of their own.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from functools import singledispatch
from typing import Any

from ..errors import ExitStatus
from . import plural, results, texts
from .apply_text import changes_result_text


def outcome(result: results.Result) -> results.Outcome:
    """The envelope the command line prints: status, text, JSON data and stderr lines."""
    found = data(result)
    return results.Outcome(result.status, text(result), found, failures(result, found),
                           notices(found))


def notices(found: dict[str, Any]) -> list[str]:
    """What stderr says besides failures, once each: audit --inventory's "no report yet"."""
    return list(dict.fromkeys(str(r["no_report"]) for r in found.get("rules", [])
                              if isinstance(r, dict) and r.get("no_report")))


def as_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


def failures(result: results.Result, found: dict[str, Any]) -> list[str]:
    """The failures of a run, one line each, for stderr: the run's own list, else those its
    rules report (verify, audit and backfill record each rule's failure with the rule)."""
    own = getattr(result, "errors", None) or []
    if own or result.status != ExitStatus.FAILURE:
        return list(own)
    lines: list[str] = []
    for rule in found.get("rules", []):
        lines += [str(e) for e in rule.get("errors", []) or [] if e]
        if rule.get("error"):
            lines.append(str(rule["error"]))
    return list(dict.fromkeys(line for text in lines for line in text.splitlines()))


def _head(script: str, command: str, status: ExitStatus) -> dict[str, Any]:
    return {"script": script, "command": command, "status": int(status)}


@singledispatch
def data(result: Any) -> dict[str, Any]:
    raise TypeError(f"no renderer for {type(result).__name__}")


@data.register
def _(result: results.ChangesResult) -> dict[str, Any]:
    found = {**_head(result.script, result.command, result.status),
             "changes": [c.as_dict() for c in result.changes], "notes": list(result.notes)}
    if result.errors is not None:
        found["errors"] = list(result.errors)
    elif result.dry_run and result.changes:
        found["dry_run"] = True
    if result.waiting:
        found["waiting"] = list(result.waiting)
    if result.saved_to is not None:
        found["saved_to"] = result.saved_to
    return found


@data.register
def _(result: results.StatusResult) -> dict[str, Any]:
    return {**_head(result.script, "status", result.status),
            "window_minutes": result.window_minutes, "rules": [asdict(r) for r in result.rules],
            "access_points": result.access_points, "object_lock": result.object_lock}


@data.register
def _(result: results.VerifyResult) -> dict[str, Any]:
    found = {**_head(result.script, "verify", result.status),
             "rules": [asdict(r) for r in result.rules]}
    if result.timeout_seconds is not None:
        found["timeout_seconds"] = result.timeout_seconds
    return found


@data.register
def _(result: results.AuditResult) -> dict[str, Any]:
    return {**_head(result.script, "audit", result.status),
            "rules": [asdict(r) for r in result.rules]}


@data.register
def _(result: results.CopyBackfillResult) -> dict[str, Any]:
    return {**_head(result.script, "backfill", result.status), "method": "copy",
            "dry_run": result.dry_run, "rules": [asdict(r) for r in result.rules],
            "notes": result.notes, "manifest": result.manifest}


@data.register
def _(result: results.BatchBackfillResult) -> dict[str, Any]:
    return {**_head(result.script, "backfill", result.status), "method": "batch",
            "dry_run": result.dry_run, "jobs": [
                {**asdict(j), "role_changes": [c.as_dict() for c in j.role_changes]}
                for j in result.jobs]}


@data.register
def _(result: results.JobProgress) -> dict[str, Any]:
    return {**_head(result.script, "backfill", result.status), "job_id": result.job_id,
            "region": result.region, "job_status": result.job_status, "tasks": result.tasks,
            "failure_reasons": result.failure_reasons, "report": result.report}


@data.register
def _(result: results.PermissionsResult) -> dict[str, Any]:
    return result.policies


@singledispatch
def text(result: Any) -> str:
    raise TypeError(f"no renderer for {type(result).__name__}")


@text.register
def _(result: results.ChangesResult) -> str:
    if result.saved_to is None:
        return changes_result_text(result)
    return (changes_result_text(result) + f"\nSaved the plan to {result.saved_to}; to make "
            f"exactly these changes: python {result.script}.py apply {result.saved_to}")


@text.register
def _(result: results.VerifyResult) -> str:
    if result.timeout_seconds is None:
        return f"{result.script} has no rules to verify."
    lines = [f"Replication canary ({result.script}), waiting up to {result.timeout_seconds:g} s "
             "per rule:"]
    for r in result.rules:
        mark = "ok" if r.ok else "WAIT" if _settling(r) else "FAILED"
        lines.append(f"  {mark:<7}{r.rule}: {r.source} -> {r.destination}: {texts.canary_words(r)}")
    removed = sum(r.removed_versions for r in result.rules)
    bad = [r for r in result.rules if not r.ok]
    rules = len(result.rules)
    summary = (f"{len(bad)} of {plural.count(rules, 'rule')} did not replicate in time." if bad
               else "The rule replicated in time." if rules == 1
               else f"All {plural.count(rules, 'rule')} replicated in time.")
    waiting = sum(1 for r in bad if _settling(r))
    if waiting:
        summary += f" {waiting} of them wait for versioning to take effect."
    lines.append(f"{summary} Canary versions removed: {removed}.")
    return "\n".join(lines)


def _settling(r: results.Canary) -> bool:
    return bool(not r.replicated and not r.error and r.versioning_settling)


@text.register
def _(result: results.AuditResult) -> str:
    if not result.rules:
        return f"{result.script} has no rules to audit."
    attention = [r for r in result.rules if r.error or r.problems_total or r.no_report]
    lines = [f"Audit of {plural.count(len(result.rules), 'rule')} ({result.script}): "
             + (f"{len(attention)} {plural.noun(len(attention), 'needs', 'need')} attention."
                if attention else "every replica present.")]
    for r in result.rules:
        lines += _audit_rule_lines(r)
    for hint, kinds in ((texts.BACKFILL_HINT, texts.BACKFILL_COUNTS),
                        (texts.ARCHIVE_HINT, ("archived",)), (texts.SSE_C_HINT, ("needs_key",))):
        if any(r.counts[k] for r in result.rules for k in kinds):
            lines.append(hint)
    return "\n".join(lines)


def _audit_rule_lines(r: results.RuleAuditReport) -> list[str]:
    tags = "".join(f" [{k}={v}]" for k, v in r.tags.items())
    if r.no_report:  # said once, on stderr
        return [f"  {r.rule}: {r.source}/{r.prefix}{tags} -> {r.destination}: no inventory "
                "report yet"]
    c = r.counts
    counts = (f"{c['checked']} checked, {c['missing']} missing, {c['mismatched']} size mismatch, "
              f"{c['failed']} failed, {c['pending']} pending")
    if c["archived"]:
        counts += f", {c['archived']} archived"
    if c["needs_key"]:
        counts += (f", {c['needs_key']} {plural.noun(c['needs_key'], 'needs', 'need')} the "
                   "customer key")
    if c.get("too_new"):
        counts += f", {c['too_new']} too new"
    counts += texts.retention_counts(c)
    lines = [f"  {r.rule}: {r.source}/{r.prefix}{tags} -> {r.destination}: {counts}"]
    if r.error:
        lines.append(f"      error: {r.error}")
    lines += [f"      {p.problem:<13} {p.key} (version {p.version_id}, {p.size} bytes): "
              f"{p.detail}" for p in r.problems]
    hidden = r.problems_total - len(r.problems)
    if hidden:
        lines.append(f"      ... and {hidden} more (--max-report {len(r.problems)})")
    lines += [f"      inventory of {b}: {when}" for b, when in (r.reports or {}).items()]
    if c.get("too_new") and r.report_times:
        lines.append(f"      too new: {plural.count(c['too_new'], 'source object')} written "
                     "since the replica's "
                     f"report was taken ({r.report_times['replica']}); not judged, not "
                     f"re-driven: a later report of {r.destination} will show them")
    if r.redrive_manifest:
        lines.append(f"      to re-drive: {r.redrive_manifest} "
                     f"(backfill --method batch --manifest {r.redrive_manifest})")
    if r.copy_manifest:
        lines.append(f"      replicas deleted from {r.destination}, to copy in place (Batch "
                     f"Replication does not re-replicate them): {r.copy_manifest} "
                     f"(backfill --manifest {r.copy_manifest})")
    return lines


@text.register
def _(result: results.PermissionsResult) -> str:
    return json.dumps(result.policies, indent=2)  # JSON whatever --json says: a policy to paste

from . import (  # noqa: E402, F401 - they register their results
    backfill_text,
    failover_text,
    restore_text,
    status_text,
)
