"""`backfill`: replicate what live replication will not (objects that predate their rule, and
failed ones).

`--method batch` (the default against AWS) starts an S3 Batch Replication job per source bucket
(see batch_job); `--method copy` (the default against an emulator, which has no Batch
Operations) copies each object the audit finds missing onto itself, so that S3 replicates the
new version. Without `--yes` nothing changes: it says what it would do (exit 3 when there is
something to do). Objects that copy in place cannot repair (archived in GLACIER or
DEEP_ARCHIVE, or encrypted with a customer-provided key) are skipped, each with its reason, and
leave exit status 3: they still need someone to act.

`--manifest` of replicas deleted from the destination (`audit --inventory` writes one apart)
copies its objects in place whatever the method asked: "Batch Replication does not support
re-replicating objects that were deleted with the version ID of the object from the destination
bucket" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-batch-replication-batch.html).
"""

from __future__ import annotations

import argparse
import logging
import urllib.parse
from collections.abc import Iterator
from typing import Any

from ..aws.calls import explain
from ..aws.naming import script_name
from ..config.model import RuleSpec
from ..engine.context import Context
from ..engine.items import parallel_map
from ..errors import ExitStatus, UsageError
from ..output.results import (
    BatchBackfillResult,
    CopyBackfillResult,
    CopyTarget,
    JobProgress,
    RuleCopy,
    SkippedObject,
)
from . import batch_job
from .backfill_args import refuse_batch_in_sandbox
from .batch_manifest import UserManifest, read_manifest
from .object_copy import SSE_C_REASON, NotCopyable, archived_reason, copy_in_place
from .replica_audit import (
    ARCHIVED,
    CANNOT_COPY,
    NEEDS_BACKFILL,
    Listed,
    Problem,
    RuleAudit,
    custom_endpoint,
)
from .streams import ordered_map

log = logging.getLogger(__name__)
REPLICA_GONE = "replica deleted"  # a manifest's line: replicated, and deleted from the destination


def backfill(ctx: Context, args: argparse.Namespace,
             ) -> CopyBackfillResult | BatchBackfillResult | JobProgress:
    if args.job:
        return batch_job.show_job(ctx, args.job)
    url = getattr(args, "manifest", None)
    method = args.method or ("batch" if url or not custom_endpoint(ctx) else "copy")
    given = read_manifest(ctx, url) if url else None
    if given is not None and given.copy_rule is not None:
        return copy_listed(ctx, args, given, asked_batch=method == "batch")
    if method == "copy" and given is not None:
        raise UsageError("--manifest is for --method batch (a Batch Replication job), or a "
                         "manifest of replicas deleted from the destination")
    if method == "batch":
        if given is not None and not args.method:
            refuse_batch_in_sandbox(args)
        return batch_job.start_jobs(ctx, args, given)
    return copy_missing(ctx, args)


def copy_missing(ctx: Context, args: argparse.Namespace) -> CopyBackfillResult:
    results = parallel_map(lambda rule: _copy_rule(ctx, rule, args.yes, args.max_report),
                           ctx.rules)
    return CopyBackfillResult(script=script_name(ctx.kind), status=_status(results, args.yes),
                              dry_run=not args.yes, rules=results)


def copy_listed(ctx: Context, args: argparse.Namespace, manifest: UserManifest,
                asked_batch: bool) -> CopyBackfillResult:
    """Copy in place each object of a manifest of replicas deleted from the destination."""
    url = args.manifest
    rule = next((r for r in ctx.rules if r.id == manifest.copy_rule), None)
    if rule is None or rule.source != manifest.source.name:
        raise UsageError(f"--manifest {url}: it lists replicas deleted by rule "
                         f"{manifest.copy_rule!r}, which is not a rule of this script from "
                         f"{manifest.source.name}")
    note = (f"{url} lists replicas deleted from {rule.destination}: they are copied in place, "
            "since Batch Replication does not re-replicate objects deleted from the "
            "destination by version id" + (" (not by a batch job, as --method batch asked)"
                                           if asked_batch else ""))
    log.info("%s", note)
    result = RuleCopy(rule=rule.id, source=rule.source, destination=rule.destination)
    s3 = ctx.s3(ctx.bucket(rule.source).region)
    try:
        _copy_each(s3, rule, _listed(ctx.s3(manifest.region), manifest), args.yes, result,
                   args.max_report)
    except Exception as exc:  # noqa: BLE001 - reported with the rule, as copy_missing does
        result.error = str(explain(exc, f"copying the objects of {url} in place"))
    return CopyBackfillResult(script=script_name(ctx.kind), status=_status([result], args.yes),
                              dry_run=not args.yes, rules=[result], notes=[note], manifest=url)


def _listed(s3: Any, manifest: UserManifest) -> Iterator[Problem]:
    """The manifest's lines (`bucket,key,versionId`, keys URL-encoded), read as a stream of
    the very version whose ETag read_manifest saw."""
    body = s3.get_object(Bucket=manifest.bucket, Key=manifest.key,
                         IfMatch=f'"{manifest.etag}"')["Body"]
    for line in body.iter_lines():
        fields = line.decode("utf-8").split(",")
        if len(fields) == 3 and fields[1]:
            yield Problem(REPLICA_GONE, Listed(urllib.parse.unquote(fields[1]), fields[2], 0),
                          None, "COMPLETED")


def _status(results: list[RuleCopy], yes: bool) -> ExitStatus:
    if any(r.error or r.copy_failed for r in results):
        return ExitStatus.FAILURE
    if (not yes and any(r.to_copy for r in results)) or any(r.skipped for r in results):
        return ExitStatus.ATTENTION
    return ExitStatus.OK


def _copy(s3: Any, rule: RuleSpec, problem: Problem) -> str | NotCopyable | None:
    """None when copied, else why not: NotCopyable (skipped) or the failure."""
    try:
        copy_in_place(s3, rule.source, problem.source.key, problem.source.version_id)
    except NotCopyable as skipped:
        return skipped
    except Exception as exc:  # noqa: BLE001 - one object's failure is reported, others go on
        return str(explain(exc, f"copying {rule.source}/{problem.source.key} in place"))
    return None


def _targets(checker: RuleAudit, result: RuleCopy, max_report: int) -> Iterator[Problem]:
    """The problems copy in place repairs; those it cannot are recorded as skipped."""
    for problem in checker.problems():
        if problem.kind in CANNOT_COPY:
            _skip(result, problem, _reason(problem), max_report)
        elif problem.kind in NEEDS_BACKFILL:
            yield problem


def _copy_rule(ctx: Context, rule: RuleSpec, yes: bool, max_report: int) -> RuleCopy:
    checker = RuleAudit(ctx, rule)
    s3 = ctx.s3(ctx.bucket(rule.source).region)
    result = RuleCopy(rule=rule.id, source=rule.source, destination=rule.destination)
    try:
        _copy_each(s3, rule, _targets(checker, result, max_report), yes, result, max_report)
    except Exception as exc:  # noqa: BLE001 - one rule's failure is reported, others go on
        result.error = str(explain(exc, f"listing rule {rule.id} for backfill"))
    result.pending = checker.counts.pending
    log.info("rule %s: %d to copy, %d copied, %d failed, %d skipped%s", rule.id,
             result.to_copy, result.copied, result.copy_failed, result.skipped,
             "" if yes else " (dry run)")
    return result


def _copy_each(s3: Any, rule: RuleSpec, problems: Iterator[Problem], yes: bool,
               result: RuleCopy, max_report: int) -> None:
    """Copy each problem object in place (without `yes`, only count it) into `result`."""
    if not yes:
        for problem in problems:
            _tally(result, problem, None, max_report, copied=False)
        return
    for problem, outcome in ordered_map(lambda p: (p, _copy(s3, rule, p)), problems):
        if isinstance(outcome, NotCopyable):
            _skip(result, problem, outcome.reason, max_report)
        else:
            _tally(result, problem, outcome, max_report)


def _reason(problem: Problem) -> str:
    if problem.kind == ARCHIVED:
        return archived_reason(problem.source.storage_class)
    return SSE_C_REASON


def _skip(result: RuleCopy, problem: Problem, reason: str, max_report: int) -> None:
    """An object copy in place cannot repair: counted and named with its reason, not copied."""
    result.skipped += 1
    log.warning("skipped %s (version %s): %s", problem.source.key, problem.source.version_id,
                reason)
    if len(result.skipped_objects) < max_report:
        result.skipped_objects.append(SkippedObject(problem.source.key, reason,
                                                    problem.source.version_id))


def _tally(result: RuleCopy, problem: Problem, failure: str | None, max_report: int,
           copied: bool = True) -> None:
    result.to_copy += 1
    if failure is not None:
        result.copy_failed += 1
        if len(result.errors) < max_report:
            result.errors.append(failure)
        log.error("%s", failure)
    elif copied:
        result.copied += 1
    if len(result.objects) < max_report:
        result.objects.append(CopyTarget(problem.source.key, problem.kind,
                                         problem.source.version_id))
