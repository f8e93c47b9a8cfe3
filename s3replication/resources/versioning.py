"""Versioning, which may take up to 15 minutes to take effect after it is first enabled
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/manage-versioning-examples.html).

Apply waits, within that bound, until GetBucketVersioning reads Enabled, and records when it
enabled versioning in the bucket tag VERSIONING_TAG, so that `verify` can tell "still taking
effect" from "broken" for 15 minutes afterwards.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from ..config.model import BucketSpec
from ..engine.context import Context
from ..errors import AwsError
from ..output.progress import Clock, wait_until
from .bucket_tags import MAX_BUCKET_TAGS, read_tags, write_tags

log = logging.getLogger(__name__)
VERSIONING_TAG = "s3replication:versioning-enabled"  # when this tool enabled versioning (UTC)
VERSIONING_SETTLE = timedelta(minutes=15)  # manage-versioning-examples.html: "up to 15 minutes"
WAIT = Clock()  # the versioning wait's clock; tests put a fake one here
STAMP = "%Y-%m-%dT%H:%M:%SZ"


def utc_now() -> datetime:
    return datetime.now(UTC)


def versioning_enabled_at(tags: dict[str, str]) -> datetime | None:
    """When this tool last enabled versioning on the bucket (its VERSIONING_TAG), if known."""
    try:
        return datetime.strptime(tags[VERSIONING_TAG], STAMP).replace(tzinfo=UTC)
    except (KeyError, ValueError):
        return None


def record_versioning_enabled(ctx: Context, bucket: BucketSpec) -> None:
    tags = read_tags(ctx, bucket)
    if VERSIONING_TAG not in tags and len(tags) >= MAX_BUCKET_TAGS:
        log.warning("bucket %s has %d tags: the time versioning was enabled is not recorded",
                    bucket.name, len(tags))
        return
    tags[VERSIONING_TAG] = utc_now().strftime(STAMP)
    write_tags(ctx, bucket, tags)


def wait_for_versioning(s3: Any, bucket: BucketSpec, resource: str) -> None:
    """Poll GetBucketVersioning until it reads Enabled, for at most 15 minutes."""
    limit = VERSIONING_SETTLE.total_seconds()
    waited = wait_until(
        f"{resource}: versioning enabled, waiting for it to take effect",
        lambda: s3.get_bucket_versioning(Bucket=bucket.name).get("Status") == "Enabled",
        limit, WAIT)
    if waited is None:
        raise AwsError(f"{resource}: versioning still does not read Enabled {limit:g} s after "
                       "it was enabled; run apply again later", "VersioningNotEnabled")
    if waited:
        log.info("%s: versioning took effect after %.0f s", resource, waited)


def enable_versioning(ctx: Context, bucket: BucketSpec, resource: str) -> None:
    """Enable versioning, record when, and wait until it reads Enabled."""
    s3 = ctx.s3_of(bucket)
    s3.put_bucket_versioning(Bucket=bucket.name, VersioningConfiguration={"Status": "Enabled"})
    with ctx.lock:
        ctx.made_new.add(bucket.name)
    record_versioning_enabled(ctx, bucket)
    wait_for_versioning(s3, bucket, resource)
