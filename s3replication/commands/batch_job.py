"""`backfill --method batch`: an S3 Batch Replication job per source bucket, and its progress.

Each job (https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-batch-replication-batch.html,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-batch-replication-existing-config.html)
runs in the source bucket's Region with `S3ReplicateObject` on a
manifest S3 generates from the bucket's replication configuration: objects eligible for
replication whose status is `NONE` (never replicated: written before the rule) or `FAILED`,
limited to the prefixes of this script's rules. The generated manifest and the completion
report go to a reports location (the source bucket itself unless `--report-bucket` names
another bucket in its Region). The job runs as a batch role of its own, trusted by
`batchoperations.s3.amazonaws.com` with the permissions AWS lists for Batch Replication
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-batch-replication-policies.html; manifest
and report bucket being the reports location), created or brought to spec like the replication
roles.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import urllib.parse
import uuid
from collections.abc import Callable
from typing import Any

from ..aws.calls import error_code, explain, is_not_found, until_propagated
from ..aws.naming import MANAGED_TAG, bucket_arn, role_arn, script_name
from ..config.model import BucketSpec, RuleSpec
from ..engine.context import Context
from ..engine.items import Item, run_lane
from ..errors import AwsError, ExitStatus, UsageError
from ..output.results import Outcome
from ..resources.iam_policy import normalize_document
from .replica_audit import custom_endpoint

log = logging.getLogger(__name__)

BATCH_SERVICE = "batchoperations.s3.amazonaws.com"
POLICY_NAME = "s3-batch-replication"
REPORT_PREFIX = "s3-replication-batch-reports"
JOB_PRIORITY = 10
PROPAGATION_CODES = ("AccessDenied", "InvalidRequest")  # a role IAM has not propagated yet


def role_name(source: BucketSpec) -> str:
    """`<replication role>-batch`, shortened with a digest to IAM's 64 characters."""
    name = f"{source.replication_role}-batch"
    if len(name) <= 64:
        return name
    return f"{name[:55]}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def trust_policy() -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": BATCH_SERVICE}, "Action": "sts:AssumeRole"}]}


def permissions_policy(source: BucketSpec, reports: str) -> dict[str, Any]:
    """The Batch Replication role's permissions
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-batch-replication-policies.html),
    with the generated manifest and the report under one prefix."""
    source_arn = bucket_arn(source.name, source.region)
    reports_objects = f"{bucket_arn(reports, source.region)}/{REPORT_PREFIX}/*"
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "InitiateReplication", "Effect": "Allow", "Action": ["s3:InitiateReplication"],
         "Resource": [f"{source_arn}/*"]},
        {"Sid": "GenerateManifest", "Effect": "Allow",
         "Action": ["s3:GetReplicationConfiguration", "s3:PutInventoryConfiguration"],
         "Resource": [source_arn]},
        {"Sid": "ReadManifest", "Effect": "Allow",
         "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": [reports_objects]},
        {"Sid": "WriteManifestAndReport", "Effect": "Allow", "Action": ["s3:PutObject"],
         "Resource": [reports_objects]},
    ]}


def job_request(ctx: Context, source: BucketSpec, rules: list[RuleSpec], role: str,
                reports: str, token: str) -> dict[str, Any]:
    """The keyword arguments of `s3control.create_job` for one source bucket."""
    account = ctx.account
    reports_arn = bucket_arn(reports, source.region)
    prefixes = sorted({r.prefix for r in rules})
    selection: dict[str, Any] = {"EligibleForReplication": True,
                                 "ObjectReplicationStatuses": ["NONE", "FAILED"]}
    if "" not in prefixes:
        selection["KeyNameConstraint"] = {"MatchAnyPrefix": prefixes}
    tags = [{"Key": k, "Value": v} for k, v in ctx.config.tags.items()]
    return {
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


def role_lane(ctx: Context, source: BucketSpec, reports: str) -> list[Item]:
    """The batch role: trust for Batch Operations, then its B.4 inline policy."""
    iam = ctx.iam()
    name = role_name(source)
    wanted_trust = normalize_document(trust_policy())
    wanted_policy = permissions_policy(source, reports)

    def read_role() -> Any:
        found = _unless_missing(lambda: iam.get_role(RoleName=name))
        return found and found["Role"]

    def project_trust(role: Any) -> Any:
        if role is None:
            return None
        document = _document(role["AssumeRolePolicyDocument"])
        return wanted_trust if _trusts_batch(document) else normalize_document(document)

    def write_trust(role: Any) -> None:
        if role is None:
            tags = [{"Key": k, "Value": v} for k, v in ctx.config.tags.items()]
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust_policy()),
                            Description="S3 Batch Replication role (managed by s3replication)",
                            Tags=tags + [{"Key": MANAGED_TAG, "Value": "true"}])
        else:
            document = _document(role["AssumeRolePolicyDocument"])
            merged = {**document, "Statement": _listed(document.get("Statement"))
                      + trust_policy()["Statement"]}
            iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(merged))

    def read_policy() -> Any:
        found = _unless_missing(lambda: iam.get_role_policy(RoleName=name, PolicyName=POLICY_NAME))
        return found and normalize_document(_document(found["PolicyDocument"]))

    def write_policy(_: Any) -> None:
        iam.put_role_policy(RoleName=name, PolicyName=POLICY_NAME,
                            PolicyDocument=json.dumps(wanted_policy))

    resource = f"role {name}"
    return [Item(resource, f"trust ({BATCH_SERVICE})", wanted_trust, read_role, write_trust,
                 project=project_trust, gate=True),
            Item(resource, f"permissions ({POLICY_NAME})", normalize_document(wanted_policy),
                 read_policy, write_policy)]


def _unless_missing(call: Callable[[], Any]) -> Any:
    """`call()`, or None when IAM has no such role or policy."""
    try:
        return call()
    except Exception as exc:
        if is_not_found(exc, "NoSuchEntity"):
            return None
        raise


def _document(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _listed(value: Any) -> list[Any]:
    return [] if value is None else value if isinstance(value, list) else [value]


def _trusts_batch(document: Any) -> bool:
    return isinstance(document, dict) and any(
        s.get("Effect") == "Allow" and "sts:AssumeRole" in _listed(s.get("Action"))
        and BATCH_SERVICE in _listed(s.get("Principal", {}).get("Service"))
        for s in _listed(document.get("Statement")))


def s3control(ctx: Context, region: str) -> Any:
    """The S3 Control client of `region`. botocore puts the account id in front of the host
    (`ACCOUNT.s3-control.REGION.amazonaws.com`); at an emulator's address that host does not
    resolve, so there it is taken off again before sending."""
    client = ctx.clients.get("s3control", region)
    if custom_endpoint(ctx):
        prefix = f"{ctx.account}."

        def strip_account(request: Any, **_: Any) -> None:
            parts = urllib.parse.urlsplit(request.url)
            if parts.netloc.startswith(prefix):
                request.url = parts._replace(netloc=parts.netloc[len(prefix):]).geturl()

        client.meta.events.register("before-send.s3-control.*", strip_account,
                                    unique_id="s3replication-strip-account-host")
    return client


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


def start_jobs(ctx: Context, args: argparse.Namespace) -> Outcome:
    """One job per source bucket of this script's rules; without --yes, only the plan."""
    script = script_name(ctx.kind)
    chosen = getattr(args, "report_bucket", None)
    jobs = []
    for source, rules in _sources(ctx):
        reports = _reports_bucket(ctx, source, chosen)
        lane = role_lane(ctx, source, reports)
        job = {"source": source.name, "region": source.region, "role": role_name(source),
               "prefixes": sorted({r.prefix for r in rules}),
               "report": f"s3://{reports}/{REPORT_PREFIX}/", "job_id": None,
               "role_changes": [c.as_dict() for c in run_lane(lane, apply=args.yes)]}
        if args.yes:
            job["job_id"] = _start_job(ctx, source, rules, reports, bool(job["role_changes"]))
            log.info("batch replication job %s started for %s", job["job_id"], source.name)
        jobs.append(job)
    data = {"script": script, "command": "backfill", "method": "batch", "dry_run": not args.yes,
            "jobs": jobs}
    if not jobs:
        return Outcome(ExitStatus.OK, f"{script} has no rules to backfill.", {**data, "status": 0})
    status = ExitStatus.OK if args.yes else ExitStatus.ATTENTION
    return Outcome(status, _render_jobs(script, jobs, args.yes), {**data, "status": int(status)})


def _start_job(ctx: Context, source: BucketSpec, rules: list[RuleSpec], reports: str,
               role_changed: bool) -> str:
    arn = role_arn(ctx.account, role_name(source), source.region)
    request = job_request(ctx, source, rules, arn, reports, str(uuid.uuid4()))
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


def _render_jobs(script: str, jobs: list[dict[str, Any]], started: bool) -> str:
    if started:
        lines = [f"Started {len(jobs)} S3 Batch Replication jobs ({script}):"]
    else:
        lines = [f"backfill would start {len(jobs)} S3 Batch Replication jobs ({script}) for "
                 "objects never replicated (status NONE) or FAILED; run `backfill --yes`:"]
    for job in jobs:
        prefixes = ", ".join(repr(p) for p in job["prefixes"])
        role = job["role"] + ("" if not job["role_changes"] else
                              " (created or updated)" if started else " (to create or update)")
        lines.append(f"  {job['source']} ({job['region']}): "
                     + (f"job {job['job_id']}, " if job["job_id"] else "")
                     + f"prefixes {prefixes}; role {role}; reports {job['report']}")
    if started:
        lines.append(f"Follow a job with: {script}.py backfill --job JOB_ID")
    return "\n".join(lines)


def show_job(ctx: Context, job_id: str) -> Outcome:
    """describe_job in each Region of this script's source buckets, until one knows the id."""
    regions = list(dict.fromkeys(source.region for source, _ in _sources(ctx)))
    for region in regions:
        try:
            job = s3control(ctx, region).describe_job(AccountId=ctx.account, JobId=job_id)["Job"]
        except Exception as exc:
            if is_not_found(exc, "NoSuchJob"):
                continue
            raise explain(exc, f"reading Batch job {job_id} in {region}") from exc
        return _job_outcome(ctx, job, region)
    raise AwsError(f"no Batch Operations job {job_id} in {', '.join(regions) or 'any Region'}",
                   "NoSuchJob")


def _job_outcome(ctx: Context, job: dict[str, Any], region: str) -> Outcome:
    progress = job.get("ProgressSummary", {})
    total = progress.get("TotalNumberOfTasks", 0)
    succeeded = progress.get("NumberOfTasksSucceeded", 0)
    failed = progress.get("NumberOfTasksFailed", 0)
    done = job.get("Status") == "Complete" and not failed
    status = ExitStatus.OK if done else ExitStatus.ATTENTION
    report = job.get("Report", {})
    where = (f"s3://{report['Bucket'].split(':::')[-1]}/{report.get('Prefix', '')}/"
             f"job-{job['JobId']}/" if report.get("Enabled") and report.get("Bucket") else None)
    reasons = [f"{r.get('FailureCode')}: {r.get('FailureReason')}"
               for r in job.get("FailureReasons", [])]
    lines = [f"Batch Replication job {job['JobId']} ({region}): {job.get('Status')}",
             f"  tasks: {succeeded} succeeded, {failed} failed, of {total}"]
    if job.get("StatusUpdateReason"):
        lines.append(f"  reason: {job['StatusUpdateReason']}")
    lines += [f"  failure: {r}" for r in reasons]
    if where:
        lines.append(f"  completion report: {where}")
    data = {"script": script_name(ctx.kind), "command": "backfill", "status": int(status),
            "job_id": job["JobId"], "region": region, "job_status": job.get("Status"),
            "tasks": {"total": total, "succeeded": succeeded, "failed": failed},
            "failure_reasons": reasons, "report": where}
    return Outcome(status, "\n".join(lines), data)
