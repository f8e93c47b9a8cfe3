"""An S3 Inventory report: its newest complete delivery for a bucket, and the checks that its
data files are the ones its manifest lists.

S3 writes, under the configuration's prefix, `<prefix>/<bucket>/<id>/<YYYY-MM-DDTHH-MMZ>/`
`manifest.json` (with `fileSchema`, and `files`: key, size, MD5checksum of each gzip'd CSV
data file) and `manifest.checksum` (the MD5 of manifest.json); a delivery is complete once
manifest.checksum is there
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory-location.html).
Columns are read from `fileSchema`, never assumed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..errors import ReplicationToolError

MANIFEST, CHECKSUM = "manifest.json", "manifest.checksum"


class ReportError(ReplicationToolError):
    """A report that cannot be trusted: named, with the file and what is wrong."""


@dataclass(frozen=True)
class DataFile:
    key: str
    size: int
    md5: str


@dataclass(frozen=True)
class Report:
    bucket: str  # the inventoried bucket
    region: str  # its Region, and so its report bucket's
    report_bucket: str
    folder: str  # <prefix>/<bucket>/<id>/<timestamp>/
    created: datetime
    columns: tuple[str, ...]  # from fileSchema, as S3 names them
    files: tuple[DataFile, ...]

    @property
    def age_hours(self) -> float:
        return (datetime.now(UTC) - self.created).total_seconds() / 3600


def folder_of(prefix: str, bucket: str, config_id: str) -> str:
    return f"{prefix}/{bucket}/{config_id}/"


def newest_report(s3: Any, report_bucket: str, prefix: str, bucket: str,
                  config_id: str) -> Report | None:
    """The newest complete delivery (manifest.json with its manifest.checksum), or None;
    `s3`: a client of the report bucket's Region (the inventoried bucket's too)."""
    root = folder_of(prefix, bucket, config_id)
    folders: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=report_bucket, Prefix=root, Delimiter="/"):
        folders += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    for folder in sorted(folders, reverse=True):  # timestamps sort as text
        report = _complete(s3, report_bucket, bucket, folder)
        if report is not None:
            return report
    return None


def _read(s3: Any, bucket: str, key: str) -> bytes | None:
    try:
        return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except Exception as exc:
        from ..aws.calls import is_not_found

        if is_not_found(exc, "NoSuchKey"):
            return None
        raise


def _complete(s3: Any, report_bucket: str, bucket: str, folder: str) -> Report | None:
    checksum = _read(s3, report_bucket, folder + CHECKSUM)
    if checksum is None:
        return None  # still being delivered
    manifest = _read(s3, report_bucket, folder + MANIFEST)
    where = f"s3://{report_bucket}/{folder}{MANIFEST}"
    if manifest is None:
        raise ReportError(f"{where}: missing, though its manifest.checksum is there")
    if (hashlib.md5(manifest, usedforsecurity=False).hexdigest()
            != checksum.decode("utf-8", "replace").strip().lower()):
        raise ReportError(f"{where}: its MD5 does not match manifest.checksum; refusing the "
                          "report")
    return parse_manifest(json.loads(manifest), bucket, s3.meta.region_name, report_bucket,
                          folder)


def parse_manifest(manifest: dict[str, Any], bucket: str, region: str, report_bucket: str,
                   folder: str) -> Report:
    where = f"s3://{report_bucket}/{folder}{MANIFEST}"
    if manifest.get("fileFormat", "CSV") != "CSV":
        raise ReportError(f"{where}: format {manifest.get('fileFormat')}, not CSV")
    schema = manifest.get("fileSchema")
    if not isinstance(schema, str) or not schema:
        raise ReportError(f"{where}: no fileSchema")
    columns = tuple(c.strip() for c in schema.split(","))
    for needed in ("Bucket", "Key", "VersionId", "IsLatest", "IsDeleteMarker", "Size",
                   "StorageClass", "ReplicationStatus", "LastModifiedDate"):
        if needed not in columns:
            raise ReportError(f"{where}: fileSchema has no {needed} column (the audit needs "
                              "all versions with Size, StorageClass, ReplicationStatus and "
                              "LastModifiedDate)")
    files = tuple(DataFile(str(f["key"]), int(f["size"]), str(f["MD5checksum"]))
                  for f in manifest.get("files", []))
    created = datetime.fromtimestamp(int(manifest["creationTimestamp"]) / 1000, UTC)
    return Report(bucket, region, report_bucket, folder, created, columns, files)


def check_file(report: Report, data_file: DataFile, content: bytes) -> None:
    """Refuse a data file whose size or MD5 differs from the manifest's."""
    check_digest(report, data_file, len(content),
                 hashlib.md5(content, usedforsecurity=False).hexdigest())


def check_digest(report: Report, data_file: DataFile, size: int, md5: str) -> None:
    """Refuse a data file of `size` bytes and MD5 `md5` (hex) unless the manifest says so."""
    where = f"s3://{report.report_bucket}/{data_file.key}"
    if size != data_file.size:
        raise ReportError(f"{where}: {size} bytes, but the manifest says {data_file.size}; "
                          "refusing the report")
    if md5.lower() != data_file.md5.lower():
        raise ReportError(f"{where}: its MD5 does not match the manifest; refusing the report")
