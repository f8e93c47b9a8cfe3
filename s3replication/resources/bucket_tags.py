"""A bucket's tags, read once per run and kept current by the run's own writes (the ownership
records, the versioning record and the config's TAGS all live there)."""

from __future__ import annotations

from ..aws.calls import read_or_none
from ..config.model import BucketSpec
from ..engine.context import Context

MAX_BUCKET_TAGS = 50


def read_tags(ctx: Context, bucket: BucketSpec) -> dict[str, str]:
    """The bucket's tags, read once per run and kept current by our own writes."""
    with ctx.lock:
        if bucket.name in ctx.bucket_tags:
            return dict(ctx.bucket_tags[bucket.name])
    tag_set = read_or_none(
        lambda: ctx.s3_of(bucket).get_bucket_tagging(Bucket=bucket.name)["TagSet"],
        "NoSuchTagSet", "NoSuchTagSetError", "NoSuchBucket")
    tags = {t["Key"]: t["Value"] for t in tag_set or []}
    with ctx.lock:
        # Tags another thread read or wrote meanwhile are as new as ours, or newer (a write
        # made after our read): never replaced by what we read (stages run at once).
        return dict(ctx.bucket_tags.setdefault(bucket.name, tags))


def write_tags(ctx: Context, bucket: BucketSpec, tags: dict[str, str]) -> None:
    s3 = ctx.s3_of(bucket)
    if tags:
        tag_set = [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
        s3.put_bucket_tagging(Bucket=bucket.name, Tagging={"TagSet": tag_set})
    else:
        s3.delete_bucket_tagging(Bucket=bucket.name)
    with ctx.lock:
        ctx.bucket_tags[bucket.name] = dict(tags)
