"""The objects to re-drive, as an S3 Batch Operations CSV manifest (`bucket,key,versionId`,
keys URL-encoded, no header:
https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-create-job.html#specify-batchjob-manifest),
written to S3 for `backfill --method batch --manifest s3://...`."""

from __future__ import annotations

import tempfile
import urllib.parse
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

PREFIX = "inventory/redrive"


def manifest_line(bucket: str, key: str, version_id: str | None) -> str:
    """One line; the key URL-encoded (a comma or newline in a key cannot break the CSV)."""
    return f"{bucket},{urllib.parse.quote(key, safe='/')},{version_id or ''}\n"


def manifest_key(rule_id: str, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{PREFIX}/{urllib.parse.quote(rule_id, safe='')}/{stamp}.csv"


def write_manifest(s3: Any, report_bucket: str, key: str, source_bucket: str,
                   objects: Iterable[tuple[str, str | None]]) -> tuple[str, int]:
    """Write the manifest (spooled on disk, not held in memory); return its s3:// URL and the
    number of objects in it."""
    count = 0
    with tempfile.TemporaryFile("w+b") as spool:
        for object_key, version_id in objects:
            spool.write(manifest_line(source_bucket, object_key, version_id).encode())
            count += 1
        spool.seek(0)
        s3.upload_fileobj(spool, report_bucket, key,
                          ExtraArgs={"ContentType": "text/csv"})
    return f"s3://{report_bucket}/{key}", count
