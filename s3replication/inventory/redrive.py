"""The objects to re-drive, as an S3 Batch Operations CSV manifest (`bucket,key,versionId`,
keys URL-encoded, no header:
https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-create-job.html#specify-batchjob-manifest),
written to S3 for `backfill --manifest s3://...`. Replicas deleted from the destination go in
a manifest of their own, marked in its metadata (COPY_IN_PLACE, with the rule's id): backfill
copies those in place, since Batch Replication cannot re-replicate them (inventory/query.py)."""

from __future__ import annotations

import tempfile
import urllib.parse
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

PREFIX = "inventory/redrive"
GROUP, RULE = "s3replication-redrive", "s3replication-rule"  # the manifest's user metadata
COPY_IN_PLACE = "copy-in-place"


def manifest_line(bucket: str, key: str, version_id: str | None) -> str:
    """One line; the key URL-encoded (a comma or newline in a key cannot break the CSV)."""
    return f"{bucket},{urllib.parse.quote(key, safe='/')},{version_id or ''}\n"


def manifest_key(rule_id: str, now: datetime | None = None, group: str = "") -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return (f"{PREFIX}/{urllib.parse.quote(rule_id, safe='')}/{stamp}"
            f"{'-' + group if group else ''}.csv")


def copy_metadata(rule_id: str) -> dict[str, str]:
    """The user metadata that marks a manifest of replicas deleted from the destination."""
    return {GROUP: COPY_IN_PLACE, RULE: urllib.parse.quote(rule_id, safe="")}


def copy_rule(metadata: dict[str, str]) -> str | None:
    """The rule whose replicas deleted from the destination a manifest lists; None for a
    manifest of a Batch Replication job."""
    if metadata.get(GROUP) != COPY_IN_PLACE:
        return None
    return urllib.parse.unquote(metadata.get(RULE, ""))


def write_manifest(s3: Any, report_bucket: str, key: str, source_bucket: str,
                   objects: Iterable[tuple[str, str | None]],
                   metadata: dict[str, str] | None = None) -> tuple[str, int]:
    """Write the manifest (spooled on disk, not held in memory), with `metadata`; return its
    s3:// URL and the number of objects in it."""
    count = 0
    with tempfile.TemporaryFile("w+b") as spool:
        for object_key, version_id in objects:
            spool.write(manifest_line(source_bucket, object_key, version_id).encode())
            count += 1
        spool.seek(0)
        s3.upload_fileobj(spool, report_bucket, key,
                          ExtraArgs={"ContentType": "text/csv", "Metadata": metadata or {}})
    return f"s3://{report_bucket}/{key}", count
