"""`backfill --method batch --manifest s3://BUCKET/KEY`: a Batch Replication job over exactly the
objects a CSV manifest lists (`bucket,key,versionId`, as `audit --inventory` writes it), instead
of a manifest S3 generates
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-batch-replication-batch.html,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-create-job.html#specify-batchjob-manifest).
A manifest of replicas deleted from the destination (inventory/redrive.py marks it) is not a
job's: backfill copies its objects in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..aws.calls import is_not_found
from ..aws.naming import bucket_arn
from ..config.model import BucketSpec
from ..engine.context import Context
from ..errors import UsageError
from ..inventory import redrive

FORMAT = "S3BatchOperations_CSV_20180820"
FIELDS = ["Bucket", "Key", "VersionId"]


@dataclass(frozen=True)
class UserManifest:
    bucket: str
    key: str
    region: str
    etag: str
    source: BucketSpec  # the bucket its lines name, a source of the script's rules
    copy_rule: str | None = None  # a manifest of replicas deleted: the rule whose they are

    @property
    def arn(self) -> str:
        return f"{bucket_arn(self.bucket, self.region)}/{self.key}"

    def job_manifest(self) -> dict[str, Any]:
        return {"Spec": {"Format": FORMAT, "Fields": list(FIELDS)},
                "Location": {"ObjectArn": self.arn, "ETag": self.etag}}


def parse_url(url: str) -> tuple[str, str]:
    if not url.startswith("s3://") or "/" not in url[5:] or url.endswith("/"):
        raise UsageError(f"--manifest {url}: give the manifest as s3://BUCKET/KEY")
    bucket, key = url[5:].split("/", 1)
    return bucket, key


def read_manifest(ctx: Context, url: str) -> UserManifest:
    """The manifest's location, ETag and the source bucket its first line names. HEAD first:
    S3 answers a ranged GET of an empty object with InvalidRange, not with no bytes."""
    bucket, key = parse_url(url)
    sources = {r.source for r in ctx.rules}
    region = next((ctx.bucket(s).region for s in sorted(sources) if _in_reports(ctx, s, bucket)),
                  ctx.bucket(min(sources)).region if sources else "us-east-1")
    s3 = ctx.s3(region)
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except Exception as exc:
        if is_not_found(exc, "NoSuchKey", "NoSuchBucket"):
            raise UsageError(f"--manifest {url}: no such object") from exc
        raise
    etag = str(head["ETag"])
    first = ""
    if head.get("ContentLength"):
        found = s3.get_object(Bucket=bucket, Key=key, Range="bytes=0-2047", IfMatch=etag)
        first = found["Body"].read().decode("utf-8", "replace").split("\n", 1)[0]
    if not first.strip():
        raise UsageError(f"--manifest {url}: it lists no objects")
    named = first.split(",", 1)[0].strip()
    if named not in sources:
        raise UsageError(f"--manifest {url}: its objects are in {named!r}, which is not a "
                         f"source of this script's rules ({', '.join(sorted(sources))})")
    return UserManifest(bucket, key, region, etag.strip('"'), ctx.bucket(named),
                        redrive.copy_rule(head.get("Metadata") or {}))


def count_objects(ctx: Context, manifest: UserManifest) -> int:
    """How many objects the manifest lists (its lines that name a key), read as a stream of
    the very version whose ETag read_manifest saw, so that the count is the job's."""
    body = ctx.s3(manifest.region).get_object(Bucket=manifest.bucket, Key=manifest.key,
                                              IfMatch=f'"{manifest.etag}"')["Body"]
    try:
        return sum(1 for line in body.iter_lines() if _names_a_key(line))
    finally:
        body.close()


def _names_a_key(line: bytes) -> bool:
    fields = line.split(b",")
    return len(fields) >= 2 and bool(fields[1].strip())


def _in_reports(ctx: Context, source: str, bucket: str) -> bool:
    """Whether `bucket` is the report bucket (or the source itself) in `source`'s Region."""
    inventory = ctx.config.inventory
    region = ctx.bucket(source).region
    return bucket == source or bool(inventory and inventory.buckets.get(region) == bucket)
