"""`backfill --method batch`: an S3 Batch Replication job per source bucket, and its progress.

Each job (https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-batch-replication-batch.html,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-batch-replication-existing-config.html)
runs in the source bucket's Region with `S3ReplicateObject` on a
manifest S3 generates from the bucket's replication configuration: objects eligible for
replication whose status is `NONE` (never replicated: written before the rule) or `FAILED`,
with `COMPLETED` and `REPLICA` where batch_scope says why, limited to the prefixes of this
script's rules. Replicas deleted from a destination by version id are not a batch job's: they
go by copy in place (batch_scope). The generated manifest and the completion
report go to a reports location (the source bucket itself unless `--report-bucket` names
another bucket in its Region). The job runs as a batch role of its own (see batch_role).
"""

from __future__ import annotations

import argparse
import logging
import uuid
from typing import Any

from ..aws.calls import error_code, explain, is_not_found, until_propagated
from ..aws.naming import MANAGED_TAG, bucket_arn, role_arn, script_name
from ..config.model import BucketSpec, RuleSpec
from ..engine.context import Context
from ..engine.items import run_lane
from ..errors import AwsError, ExitStatus, UsageError
from ..output.results import BatchBackfillResult, BatchJobPlan, JobProgress
from .batch_manifest import UserManifest, count_objects, read_manifest
from .batch_role import REPORT_PREFIX, role_lane, role_name
from .batch_scope import ALWAYS, REPLICAS_GONE, job_scope

log = logging.getLogger(__name__)

JOB_PRIORITY = 10
PROPAGATION_CODES = ("AccessDenied", "InvalidRequest")  # a role IAM has not propagated yet


def job_request(ctx: Context, source: BucketSpec, rules: list[RuleSpec], role: str,
                reports: str, token: str, manifest: dict[str, Any] | None = None,
                statuses: list[str] | None = None) -> dict[str, Any]:
    """The keyword arguments of `s3control.create_job` for one source bucket: over the
    objects of `statuses` (batch_scope.job_scope; NONE and FAILED when not given), or with
    `manifest` (batch_manifest.UserManifest.job_manifest) over exactly its objects."""
    account = ctx.account
    reports_arn = bucket_arn(reports, source.region)
    prefixes = sorted({r.prefix for r in rules})
    selection: dict[str, Any] = {"EligibleForReplication": True,
                                 "ObjectReplicationStatuses": list(statuses or ALWAYS)}
    if "" not in prefixes:
        selection["KeyNameConstraint"] = {"MatchAnyPrefix": prefixes}
    tags = [{"Key": k, "Value": v} for k, v in ctx.config.tags.items()]
    request = {
        "AccountId": account, "ConfirmationRequired": False, "Priority": JOB_PRIORITY,
        "RoleArn": role, "ClientRequestToken": token,
        "Description": f"{script_name(ctx.kind)} backfill of {source.name}"[:256],
        "Operation": {"S3ReplicateObject": {}},
        "ManifestGenerator": {"S3JobManifestGenerator": {
            "ExpectedBucketOwner": account,
            "SourceBucket": bucket_arn(source.name, source.region),
            "EnableManifestOutput": True,
            "ManifestOutputLocation": {
                "ExpectedManifestBucketOwner": account, "Bucket": reports_arn,
                "ManifestPrefix": REPORT_PREFIX, "ManifestEncryption": {"SSES3": {}},
                "ManifestFormat": "S3InventoryReport_CSV_20211130"},
            "Filter": selection}},
        "Report": {"Bucket": reports_arn, "Prefix": REPORT_PREFIX, "Format": "Report_CSV_20180820",
                   "Enabled": True, "ReportScope": "AllTasks", "ExpectedBucketOwner": account},
        "Tags": tags + [{"Key": MANAGED_TAG, "Value": "true"}],
    }
    if manifest is not None:
        del request["ManifestGenerator"]
        request["Manifest"] = manifest
    return request


def s3control(ctx: Context, region: str) -> Any:
    """The S3 Control client of `region`."""
    return ctx.clients.get("s3control", region)


def _sources(ctx: Context) -> list[tuple[BucketSpec, list[RuleSpec]]]:
    grouped: dict[str, list[RuleSpec]] = {}
    for rule in ctx.rules:
        grouped.setdefault(rule.source, []).append(rule)
    return [(ctx.bucket(name), rules) for name, rules in grouped.items()]


def _reports_bucket(ctx: Context, source: BucketSpec, chosen: str | None) -> str:
    if chosen and chosen in ctx.config.buckets and ctx.bucket(chosen).region != source.region:
        raise UsageError(f"--report-bucket {chosen} is in {ctx.bucket(chosen).region}; the "
                         f"generated manifest of {source.name} must stay in {source.region}")
    return chosen or source.name


def start_jobs(ctx: Context, args: argparse.Namespace,
               given: UserManifest | None = None) -> BatchBackfillResult:
    """One job per source bucket of this script's rules (or the one `given`'s objects are
    in); without --yes, only the plan."""
    chosen = getattr(args, "report_bucket", None)
    if given is None and getattr(args, "manifest", None):
        given = read_manifest(ctx, args.manifest)
    jobs = []
    for source, rules in _sources(ctx):
        if given is not None and given.source != source:
            continue
        reports = _reports_bucket(ctx, source, chosen)
        scope = None if given else job_scope(ctx, source, rules)
        lane = role_lane(ctx, source, reports, given.arn if given else None)
        job = BatchJobPlan(source=source.name, region=source.region, role=role_name(source),
                           prefixes=sorted({r.prefix for r in rules}),
                           report=f"s3://{reports}/{REPORT_PREFIX}/",
                           role_changes=run_lane(lane, apply=args.yes),
                           statuses=scope.statuses if scope else [],
                           why=scope.reasons if scope else [f"the objects {args.manifest} lists"],
                           elsewhere=[REPLICAS_GONE] if scope else [])
        if given is not None:
            job.manifest, job.manifest_objects = args.manifest, count_objects(ctx, given)
        if args.yes:
            job.job_id = _start_job(ctx, source, rules, reports, bool(job.role_changes),
                                    given.job_manifest() if given else None, job.statuses)
            log.info("batch replication job %s started for %s", job.job_id, source.name)
        jobs.append(job)
    status = ExitStatus.OK if args.yes or not jobs else ExitStatus.ATTENTION
    return BatchBackfillResult(script=script_name(ctx.kind), status=status,
                               dry_run=not args.yes, jobs=jobs)


def _start_job(ctx: Context, source: BucketSpec, rules: list[RuleSpec], reports: str,
               role_changed: bool, manifest: dict[str, Any] | None = None,
               statuses: list[str] | None = None) -> str:
    arn = role_arn(ctx.account, role_name(source), source.region)
    request = job_request(ctx, source, rules, arn, reports, str(uuid.uuid4()), manifest,
                         statuses)
    client = s3control(ctx, source.region)
    try:
        if role_changed:  # a role IAM has just made or changed may take a while to be usable
            response = until_propagated(lambda: client.create_job(**request),
                                        lambda exc: error_code(exc) in PROPAGATION_CODES)
        else:
            response = client.create_job(**request)
    except Exception as exc:
        raise explain(exc, f"creating the Batch Replication job of {source.name}") from exc
    return str(response["JobId"])


def show_job(ctx: Context, job_id: str) -> JobProgress:
    """describe_job in each Region of this script's source buckets, until one knows the id."""
    regions = list(dict.fromkeys(source.region for source, _ in _sources(ctx)))
    for region in regions:
        try:
            job = s3control(ctx, region).describe_job(AccountId=ctx.account, JobId=job_id)["Job"]
        except Exception as exc:
            if is_not_found(exc, "NoSuchJob"):
                continue
            raise explain(exc, f"reading Batch job {job_id} in {region}") from exc
        return _job_progress(ctx, job, region)
    raise AwsError(f"no Batch Operations job {job_id} in {', '.join(regions) or 'any Region'}",
                   "NoSuchJob")


def _job_progress(ctx: Context, job: dict[str, Any], region: str) -> JobProgress:
    progress = job.get("ProgressSummary", {})
    tasks = {"total": progress.get("TotalNumberOfTasks", 0),
             "succeeded": progress.get("NumberOfTasksSucceeded", 0),
             "failed": progress.get("NumberOfTasksFailed", 0)}
    done = job.get("Status") == "Complete" and not tasks["failed"]
    report = job.get("Report", {})
    where = (f"s3://{report['Bucket'].split(':::')[-1]}/{report.get('Prefix', '')}/"
             f"job-{job['JobId']}/" if report.get("Enabled") and report.get("Bucket") else None)
    reasons = [f"{r.get('FailureCode')}: {r.get('FailureReason')}"
               for r in job.get("FailureReasons", [])]
    return JobProgress(script=script_name(ctx.kind),
                       status=ExitStatus.OK if done else ExitStatus.ATTENTION,
                       job_id=job["JobId"], region=region, job_status=job.get("Status"),
                       tasks=tasks, failure_reasons=reasons, report=where,
                       status_reason=job.get("StatusUpdateReason"))
