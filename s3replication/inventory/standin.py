"""A stand-in for S3's daily inventory job, for the sandbox, the tests and the benchmarks:
emulators keep no inventory configuration and deliver no report. It writes a report exactly in
AWS's format (https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory-location.html):
gzip'd CSV data files without a header row, every value quoted, keys URL-encoded; a
manifest.json naming each file with its size and MD5 and the columns in `fileSchema`; and
manifest.checksum, the manifest's MD5, written last (a delivery is complete once it is there).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import tempfile
import urllib.parse
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import IO, Any

from ..resources.inventory import INVENTORY_ID, REPORT_PREFIX
from .reports import CHECKSUM, MANIFEST

SCHEMA = ("Bucket", "Key", "VersionId", "IsLatest", "IsDeleteMarker", "Size",
          "LastModifiedDate", "ETag", "StorageClass", "IsMultipartUploaded",
          "ReplicationStatus", "EncryptionStatus")
ROWS_PER_FILE = 500_000


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def row(bucket: str, key: str, version_id: str | None, latest: bool, delete_marker: bool,
        size: int | None = None, modified: datetime | None = None, etag: str = "",
        storage_class: str = "STANDARD", status: str = "",
        encryption: str = "SSE-S3") -> list[str]:
    """One line of a report, in SCHEMA's order: keys URL-encoded, booleans true/false."""
    return [bucket, urllib.parse.quote(key, safe="/"), version_id or "",
            "true" if latest else "false", "true" if delete_marker else "false",
            "" if size is None else str(size), _stamp(modified) if modified else "",
            etag.strip('"'), "" if delete_marker else storage_class, "false",
            status, "" if delete_marker else encryption]


def rows_from_bucket(s3: Any, bucket: str) -> Iterator[list[str]]:
    """The report S3 would write for `bucket` now: every version and delete marker, each
    version's replication status and encryption from a HEAD of it."""
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for v in page.get("Versions", []):
            head = s3.head_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])
            encryption = {"aws:kms": "SSE-KMS", "AES256": "SSE-S3"}.get(
                str(head.get("ServerSideEncryption")), "NOT-SSE")
            yield row(bucket, v["Key"], v["VersionId"], v["IsLatest"], False, v["Size"],
                      v["LastModified"], v.get("ETag", ""), v.get("StorageClass", "STANDARD"),
                      head.get("ReplicationStatus", ""), encryption)
        for m in page.get("DeleteMarkers", []):
            yield row(bucket, m["Key"], m["VersionId"], m["IsLatest"], True,
                      modified=m["LastModified"])


def _data_files(rows: Iterable[list[str]], per_file: int) -> Iterator[IO[bytes]]:
    """Gzip'd CSV files of at most `per_file` rows each, spooled on disk."""
    current: IO[bytes] | None = None
    zipped: gzip.GzipFile | None = None
    text: io.TextIOWrapper | None = None
    count = 0
    for line in rows:
        if text is None:
            current = tempfile.TemporaryFile()
            zipped = gzip.GzipFile(fileobj=current, mode="wb")
            text = io.TextIOWrapper(zipped, encoding="utf-8", newline="")
            writer = csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(line)
        count += 1
        if count == per_file:
            yield _closed(text, zipped, current)
            text, count = None, 0
    if text is not None:
        yield _closed(text, zipped, current)


def _closed(text: io.TextIOWrapper, zipped: Any, current: Any) -> IO[bytes]:
    text.flush()
    text.detach()
    zipped.close()
    current.seek(0)
    return current


def write_report(s3: Any, report_bucket: str, bucket: str, rows: Iterable[list[str]],
                 now: datetime | None = None, per_file: int = ROWS_PER_FILE) -> str:
    """Deliver a report of `rows` for `bucket` into `report_bucket`; return its folder."""
    now = now or datetime.now(UTC)
    root = f"{REPORT_PREFIX}/{bucket}/{INVENTORY_ID}"
    files = []
    for spooled in _data_files(rows, per_file):
        with spooled:
            content = spooled.read()
        key = f"{root}/data/{uuid.uuid4()}.csv.gz"
        s3.put_object(Bucket=report_bucket, Key=key, Body=content)
        files.append({"key": key, "size": len(content),
                      "MD5checksum": hashlib.md5(content, usedforsecurity=False).hexdigest()})
    manifest = json.dumps({
        "sourceBucket": bucket, "destinationBucket": f"arn:aws:s3:::{report_bucket}",
        "version": "2016-11-30", "creationTimestamp": str(int(now.timestamp() * 1000)),
        "fileFormat": "CSV", "fileSchema": ", ".join(SCHEMA), "files": files}).encode()
    folder = f"{root}/{now.astimezone(UTC):%Y-%m-%dT%H-%MZ}/"
    s3.put_object(Bucket=report_bucket, Key=folder + MANIFEST, Body=manifest)
    s3.put_object(Bucket=report_bucket, Key=folder + CHECKSUM,
                  Body=hashlib.md5(manifest, usedforsecurity=False).hexdigest().encode())
    return folder
