"""`restore --yes --inventory`: the apply at inventory size. The copies (overwritten and deleted
keys, each to get its version at TIME back as a new current version) go to an S3 Batch
Operations job: the `S3PutObjectCopy` operation "copies each object that is specified in the
manifest" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-copy-object.html),
passing each to CopyObject (S3CopyObjectOperation,
https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_S3CopyObjectOperation.html); with
a manifest whose fields are `Bucket, Key, VersionId` the version id is the version each task
reads (https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-create-job.html#specify-batchjob-manifest;
CreateJob: https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_CreateJob.html), and
`TargetResource` the same bucket, so each listed version is copied over its own key. The job
runs in the bucket's Region as the batch role (batch_role.copy_role_lane) and writes its
completion report (every task) to the report bucket, as `backfill --method batch` does.

The copy keeps the version's metadata and tags (MetadataDirective COPY, CopyObject's
default); its encryption is the bucket's default. The Copy operation copies objects up to
5 GB (the page above): a larger version fails its task, named in the completion report; a
`restore` without --inventory copies it in parts.

The created keys (hides) get their delete markers in-process, by DeleteObjects without version
ids, 1,000 keys a call (a delete without a version id in a versioned bucket adds a delete
marker and removes nothing: https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeletingObjectVersions.html,
https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html): Batch Operations has
no delete operation (https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-operations.html),
and 1,000 keys a call is fast enough for a million keys. No version is ever deleted.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ...aws.calls import error_code, explain, until_propagated
from ...aws.naming import MANAGED_TAG, bucket_arn, role_arn, script_name
from ...config.model import BucketSpec
from ...engine.context import Context
from ...engine.items import run_lane
from ...errors import AwsError
from ...output import plural
from ..batch_job import JOB_PRIORITY, PROPAGATION_CODES, s3control
from ..batch_manifest import FIELDS, FORMAT
from ..batch_manifest import parse_url as manifest_url
from ..batch_role import REPORT_PREFIX, copy_role_lane, role_name
from .inventory_plan import InventoryRestorePlan

log = logging.getLogger(__name__)
DELETE_BATCH = 1000  # DeleteObjects' limit


@dataclass
class BatchRestore:
    job_id: str | None  # None when there was nothing to copy
    role_changes: list[Any] = field(default_factory=list)
    hidden: list[tuple[str, str]] = field(default_factory=list)  # (key, delete marker id)
    report: str = ""


def job_request(ctx: Context, bucket: BucketSpec, manifest_arn: str, etag: str, role: str,
                reports: str, token: str, to: str) -> dict[str, Any]:
    """The keyword arguments of `s3control.create_job`: copy each listed version of `bucket`
    over its key."""
    account = ctx.account
    reports_arn = bucket_arn(reports, bucket.region)
    tags = [{"Key": k, "Value": v} for k, v in ctx.config.tags.items()]
    return {
        "AccountId": account, "ConfirmationRequired": False, "Priority": JOB_PRIORITY,
        "RoleArn": role, "ClientRequestToken": token,
        "Description": f"{script_name(ctx.kind)} restore of {bucket.name} to {to}"[:256],
        "Operation": {"S3PutObjectCopy": {
            "TargetResource": bucket_arn(bucket.name, bucket.region),
            "MetadataDirective": "COPY"}},
        "Manifest": {"Spec": {"Format": FORMAT, "Fields": list(FIELDS)},
                     "Location": {"ObjectArn": manifest_arn, "ETag": etag}},
        "Report": {"Bucket": reports_arn, "Prefix": REPORT_PREFIX,
                   "Format": "Report_CSV_20180820", "Enabled": True,
                   "ReportScope": "AllTasks", "ExpectedBucketOwner": account},
        "Tags": tags + [{"Key": MANAGED_TAG, "Value": "true"}],
    }


def apply_batch(ctx: Context, plan: InventoryRestorePlan) -> BatchRestore:
    """Start the copy job over the plan's manifest, then hide its created keys."""
    bucket = ctx.bucket(plan.bucket)
    done = BatchRestore(job_id=None)
    if plan.manifest and plan.copy_count:
        reports, key = manifest_url(plan.manifest)
        manifest_arn = f"{bucket_arn(reports, bucket.region)}/{key}"
        etag = str(ctx.s3(bucket.region).head_object(Bucket=reports, Key=key)["ETag"])
        lane = copy_role_lane(ctx, bucket, reports, manifest_arn, ctx.key_arn(bucket))
        done.role_changes = run_lane(lane, apply=True)
        request = job_request(ctx, bucket, manifest_arn, etag.strip('"'),
                              role_arn(ctx.account, role_name(bucket), bucket.region), reports,
                              str(uuid.uuid4()), plan.to.isoformat())
        client = s3control(ctx, bucket.region)
        try:
            response = until_propagated(lambda: client.create_job(**request),
                                        lambda exc: error_code(exc) in PROPAGATION_CODES)
        except Exception as exc:
            raise explain(exc, f"creating the Batch Operations copy job of {bucket.name}") \
                from exc
        done.job_id = str(response["JobId"])
        done.report = f"s3://{reports}/{REPORT_PREFIX}/job-{done.job_id}/"
        log.info("restore copy job %s started for %s (%d versions)", done.job_id,
                 bucket.name, plan.copy_count)
    done.hidden = hide(ctx.s3_of(bucket), bucket.name, plan.hides)
    return done


def hide(s3: Any, bucket: str, keys: Iterable[str]) -> list[tuple[str, str]]:
    """A delete marker on each key (DeleteObjects without version ids); (key, marker id)."""
    made: list[tuple[str, str]] = []
    for chunk in _chunks(keys, DELETE_BATCH):
        try:
            answer = s3.delete_objects(Bucket=bucket, Delete={
                "Objects": [{"Key": k} for k in chunk], "Quiet": False})
        except Exception as exc:
            raise explain(exc, f"adding delete markers in {bucket}") from exc
        made += [(str(d["Key"]), str(d.get("DeleteMarkerVersionId", "")))
                 for d in answer.get("Deleted", [])]
        errors = answer.get("Errors", [])
        if errors:
            first = errors[0]
            raise AwsError(f"adding a delete marker on {bucket}/{first.get('Key')} "
                           f"(s3:DeleteObject; {plural.count(len(errors), 'key')} failed): "
                           f"{first.get('Code')}: {first.get('Message')}", first.get("Code"))
    return made


def _chunks(keys: Iterable[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for key in keys:
        chunk.append(key)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
