"""`backfill` as text: the copies, the Batch Replication jobs, a job's progress (registered with
the one renderer, output/render.py)."""

from __future__ import annotations

from . import plural, results
from .render import text


@text.register
def _(result: results.CopyBackfillResult) -> str:
    script, rules = result.script, result.rules
    total = sum(r.to_copy for r in rules)
    again = (f"backfill --manifest {result.manifest} --yes" if result.manifest
             else "backfill --method copy --yes")
    if result.dry_run:
        objects = plural.count(total, "object")
        lines = [f"backfill would copy {objects} in place ({script}); run "
                 f"`{again}` to copy them:" if total
                 else f"Nothing to backfill ({script}): no object is missing from a replica."]
    else:
        lines = [f"Copied {sum(r.copied for r in rules)} of {plural.count(total, 'object')} "
                 f"in place ({script}); "
                 "S3 replicates the new versions (check with `audit`)."]
    lines += [f"  {note}" for note in result.notes]
    skipped = sum(r.skipped for r in rules)
    if skipped:
        lines.append(f"Skipped {plural.count(skipped, 'object')} that copy in place cannot "
                     "repair (each with its "
                     "reason below).")
    for r in rules:
        if r.to_copy or r.error or r.pending or r.skipped:
            lines += _copy_rule_lines(r)
    return "\n".join(lines)


def _copy_rule_lines(r: results.RuleCopy) -> list[str]:
    pending = f", {r.pending} pending left to S3" if r.pending else ""
    objects = plural.count(r.to_copy, "object")
    lines = [f"  {r.rule}: {r.source} -> {r.destination}: {objects}{pending}"]
    lines += [f"      {o.problem:<13} {o.key}" for o in r.objects]
    if r.to_copy > len(r.objects):
        lines.append(f"      ... and {r.to_copy - len(r.objects)} more")
    lines += [f"      skipped       {o.key}: {o.reason}" for o in r.skipped_objects]
    if r.skipped > len(r.skipped_objects):
        lines.append(f"      ... and {r.skipped - len(r.skipped_objects)} more skipped")
    lines += [f"      error: {e}" for e in r.errors + ([r.error] if r.error else [])]
    return lines


@text.register
def _(result: results.BatchBackfillResult) -> str:
    script, started = result.script, not result.dry_run
    if not result.jobs:
        return f"{script} has no rules to backfill."
    if started:
        lines = [f"Started {len(result.jobs)} S3 Batch Replication jobs ({script}):"]
    else:
        manifest = result.jobs[0].manifest
        again = f"backfill --manifest {manifest} --yes" if manifest else "backfill --yes"
        lines = [f"backfill would start {len(result.jobs)} S3 Batch Replication jobs ({script}); "
                 f"run `{again}`:"]
    for job in result.jobs:
        prefixes = ", ".join(repr(p) for p in job.prefixes)
        role = job.role + ("" if not job.role_changes else
                           " (created or updated)" if started else " (to create or update)")
        lines.append(f"  {job.source} ({job.region}): "
                     + (f"job {job.job_id}, " if job.job_id else "")
                     + ("" if job.manifest else f"prefixes {prefixes}; ")
                     + f"role {role}; reports {job.report}")
        lines.append("      batch job: " + (
            f"the {plural.count(job.manifest_objects or 0, 'object')} manifest {job.manifest} "
            "lists (exactly those, whatever their prefix; S3 generates no manifest)"
            if job.manifest
            else f"objects with replication status {', '.join(job.statuses)}" if job.statuses
            else "; ".join(job.why)))
        lines += [f"        {why}" for why in job.why if job.statuses]
        lines += [f"      {group}" for group in job.elsewhere]
    if started:
        lines.append(f"Follow a job with: {script}.py backfill --job JOB_ID")
    return "\n".join(lines)


@text.register
def _(result: results.JobProgress) -> str:
    tasks = result.tasks
    lines = [f"Batch Replication job {result.job_id} ({result.region}): {result.job_status}",
             f"  tasks: {tasks['succeeded']} succeeded, {tasks['failed']} failed, "
             f"of {tasks['total']}"]
    if result.status_reason:
        lines.append(f"  reason: {result.status_reason}")
    lines += [f"  failure: {r}" for r in result.failure_reasons]
    if result.report:
        lines.append(f"  completion report: {result.report}")
    return "\n".join(lines)
