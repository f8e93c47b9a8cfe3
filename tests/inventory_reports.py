"""Helpers for the S3 Inventory tests: a config with INVENTORY, reports read back as S3 holds
them, the re-drive manifest's entries, the comparison's two tables built by hand in DuckDB, and
a client factory that hands out one given (stubbed) S3 client.

The layout of a report and its files is AWS's
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory-location.html); the
re-drive manifest is a Batch Operations CSV manifest, `bucket,key,versionId` with the key
URL-encoded and no header
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-create-job.html#specify-batchjob-manifest).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s3replication.inventory.query import column_name
from s3replication.inventory.reports import CHECKSUM, MANIFEST
from s3replication.inventory.standin import SCHEMA

SOURCE, DESTINATION = "inv-src-use1", "inv-dst-usw2"
REPORTS = {"us-east-1": "inv-reports-use1", "us-west-2": "inv-reports-usw2"}
REPORTS_USE1, REPORTS_USW2 = REPORTS["us-east-1"], REPORTS["us-west-2"]
RULE, PREFIX = "orders", "orders/"


def config_text(log_file: Path, source: str = SOURCE, destination: str = DESTINATION,
                reports: dict[str, Any] | None = None, extra: str = "") -> str:
    """One CRR rule (`orders/`, no RTC) from a us-east-1 source to a us-west-2 replica, and a
    report bucket per Region."""
    return (f"BUCKETS = {{{source!r}: {{'region': 'us-east-1', 'kms_key': None}},\n"
            f"           {destination!r}: {{'region': 'us-west-2', 'kms_key': None}}}}\n"
            f"CRR_RULES = [{{'id': {RULE!r}, 'source': {source!r}, "
            f"'destination': {destination!r}, 'prefix': {PREFIX!r}, 'rtc': False}}]\n"
            f"SRR_RULES = []\nINVENTORY = {{'buckets': {reports or REPORTS!r}}}\n"
            f"LOG_FILE = {str(log_file)!r}\n{extra}")


@dataclass(frozen=True)
class Delivered:
    """A report as S3 holds it: manifest.json (raw and parsed), manifest.checksum, and each
    data file's bytes by key."""

    raw_manifest: bytes
    manifest: dict[str, Any]
    checksum: str
    data: dict[str, bytes]

    def lines(self) -> list[str]:
        """Every data line, as text, of every file in the manifest's order."""
        return [line for f in self.manifest["files"]
                for line in gzip.decompress(self.data[f["key"]]).decode().splitlines()]


def read_report(s3: Any, report_bucket: str, folder: str) -> Delivered:
    raw = s3.get_object(Bucket=report_bucket, Key=folder + MANIFEST)["Body"].read()
    manifest = json.loads(raw)
    checksum = s3.get_object(Bucket=report_bucket, Key=folder + CHECKSUM)["Body"].read()
    data = {f["key"]: s3.get_object(Bucket=report_bucket, Key=f["key"])["Body"].read()
            for f in manifest["files"]}
    return Delivered(raw, manifest, checksum.decode(), data)


def parse_url(url: str) -> tuple[str, str]:
    assert url.startswith("s3://"), url
    bucket, key = url[5:].split("/", 1)
    return bucket, key


def redrive_entries(s3: Any, url: str) -> list[tuple[str, str, str]]:
    """(bucket, key decoded, version id) of each line of the manifest at `url`."""
    bucket, key = parse_url(url)
    text = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert all(len(row) == 3 for row in rows), rows
    return [(b, urllib.parse.unquote(k), v) for b, k, v in rows]


def comparison_tables(connection: Any, source: Iterable[list[str]],
                      replica: Iterable[list[str]]) -> None:
    """`source_inventory` and `replica_inventory`, every column text as in a CSV report, named
    as the engines name them, filled with report rows (standin.row)."""
    columns = ", ".join(f"{column_name(c)} VARCHAR" for c in SCHEMA)
    marks = ", ".join("?" for _ in SCHEMA)
    for table, rows in (("source_inventory", source), ("replica_inventory", replica)):
        connection.execute(f"CREATE TABLE {table} ({columns})")
        listed = list(rows)
        if listed:
            connection.executemany(f"INSERT INTO {table} VALUES ({marks})", listed)


class OneClient:
    """A client factory (the part Context uses) that answers every `get` with `client`."""

    def __init__(self, client: Any, custom: bool = False) -> None:
        self.client, self.custom = client, custom
        self.endpoint_url = "http://127.0.0.1:1" if custom else None

    def get(self, service: str, region: str) -> Any:
        del service, region
        return self.client

    def custom_endpoint(self) -> bool:
        return self.custom
