"""The comparison run by Amazon Athena, for inventories too large for one machine.

Each report's data files are checked against its manifest (size, and MD5: the ETag where it is
one, else read through) and copied (server-side, CopyObject, only while still the object
checked) under a prefix of their own in the report bucket, since a table reads every file under
its location and the report's `data/` folder also holds other days' files; Glue tables over
them (OpenCSVSerde, gzip read by extension:
https://docs.aws.amazon.com/athena/latest/ug/csv-serde.html), the query in Athena, the rows read
back page by page, and the tables and copies removed afterwards
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory-athena-query.html).
"""

from __future__ import annotations

import contextlib
import hashlib
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..engine import interrupt
from ..errors import AwsError
from ..output.progress import waiting
from .query import column_name
from .reports import DataFile, Report, check_digest

DATABASE = "s3_replication_audit"
WORK_PREFIX = "inventory/athena"
POLL_SECONDS = 1.0
QUERY_TIMEOUT = 3600.0


@dataclass
class AthenaSession:
    athena: Any
    glue: Any
    s3: Any
    report_bucket: str
    run_id: str
    tables: tuple[str, ...] = ("source_inventory", "replica_inventory")

    @property
    def work(self) -> str:
        """The prefix of this run's copies and query results."""
        return f"{WORK_PREFIX}/{self.run_id}"

    def run(self, sql: str) -> str:
        """Start `sql`, wait for it, return its execution id."""
        started = self.athena.start_query_execution(
            QueryString=sql, QueryExecutionContext={"Database": DATABASE},
            ResultConfiguration={
                "OutputLocation": f"s3://{self.report_bucket}/{self.work}/results/"})
        execution = started["QueryExecutionId"]
        deadline = time.monotonic() + QUERY_TIMEOUT
        with waiting(f"Athena query {execution}", QUERY_TIMEOUT):
            return self._wait(execution, deadline)

    def _wait(self, execution: str, deadline: float) -> str:
        while True:
            status = self.athena.get_query_execution(QueryExecutionId=execution)[
                "QueryExecution"]["Status"]
            state = status.get("State")
            if state == "SUCCEEDED":
                return str(execution)
            if state in ("FAILED", "CANCELLED"):
                raise AwsError(f"Athena query {execution} {state}: "
                               f"{status.get('StateChangeReason', '')}")
            if time.monotonic() > deadline:
                raise AwsError(f"Athena query {execution} still {state} after "
                               f"{QUERY_TIMEOUT:.0f} s")
            interrupt.pause(POLL_SECONDS)


def _copy_files(session: AthenaSession, report: Report, folder: str, reader: Any,
                on_file: Callable[[int], None]) -> None:
    """The report's files under `folder`, each checked first; `reader`: S3 in the report
    bucket's Region (a replica's report bucket may be in another Region: CopyObject reads
    across Regions)."""
    for n, data_file in enumerate(report.files):
        etag = _checked_etag(reader, report, data_file)
        session.s3.copy_object(
            Bucket=session.report_bucket, Key=f"{folder}{n:06d}.csv.gz",
            CopySource={"Bucket": report.report_bucket, "Key": data_file.key},
            CopySourceIfMatch=etag)
        on_file(1)


def _checked_etag(s3: Any, report: Report, data_file: DataFile) -> str:
    """The data file's ETag, once its size and MD5 are the manifest's. The ETag is the MD5 of
    the content for an object of one part, plain or SSE-S3; not for multipart uploads, SSE-KMS
    or SSE-C (https://docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html): those are read
    through to hash them."""
    head = s3.head_object(Bucket=report.report_bucket, Key=data_file.key)
    etag = str(head["ETag"])
    md5 = etag.strip('"')
    if ("-" in md5 or str(head.get("ServerSideEncryption", "")).startswith("aws:kms")
            or head.get("SSECustomerAlgorithm")):
        body = s3.get_object(Bucket=report.report_bucket, Key=data_file.key,
                             IfMatch=etag)["Body"]
        digest = hashlib.md5(usedforsecurity=False)
        for chunk in iter(lambda: body.read(8 * 1024 * 1024), b""):
            digest.update(chunk)
        md5 = digest.hexdigest()
    check_digest(report, data_file, int(head["ContentLength"]), md5)
    return etag


def _table(session: AthenaSession, name: str, report: Report, folder: str) -> None:
    columns = ", ".join(f"`{column_name(c)}` string" for c in report.columns)
    session.run(
        f"CREATE EXTERNAL TABLE {name} ({columns}) ROW FORMAT SERDE "
        "'org.apache.hadoop.hive.serde2.OpenCSVSerde' WITH SERDEPROPERTIES "
        "('separatorChar' = ',', 'quoteChar' = '\"', 'escapeChar' = '\\\\') "
        f"LOCATION 's3://{session.report_bucket}/{folder}'")


def _ensure_database(glue: Any) -> None:
    try:
        glue.create_database(DatabaseInput={
            "Name": DATABASE, "Description": "S3 replication audits (s3replication)"})
    except Exception as exc:
        from ..aws.calls import error_code

        if error_code(exc) != "AlreadyExistsException":
            raise


@contextlib.contextmanager
def session(clients: Any, source: Report, replica: Report,
            on_file: Callable[[int], None] = lambda n: None) -> Iterator[AthenaSession]:
    """Tables `source_inventory` and `replica_inventory` (named per run) in Athena, in the
    source report bucket's Region; `clients` the caller's client factory."""
    with tables_session(clients, {"source_inventory": source, "replica_inventory": replica},
                        on_file) as found:
        yield found


@contextlib.contextmanager
def tables_session(clients: Any, tables: dict[str, Report],
                   on_file: Callable[[int], None] = lambda n: None) -> Iterator[AthenaSession]:
    """A table (named per run) per report of `tables`, by name, in Athena, in the first
    report bucket's Region."""
    first = next(iter(tables.values()))
    region = first.region
    run_id = uuid.uuid4().hex[:12]
    s3 = clients.get("s3", region)
    found = AthenaSession(clients.get("athena", region), clients.get("glue", region), s3,
                          first.report_bucket, run_id, tuple(tables))
    _ensure_database(found.glue)
    made: list[str] = []
    try:
        for name, report in tables.items():
            folder = f"{found.work}/{name}/"
            _copy_files(found, report, folder, clients.get("s3", report.region), on_file)
            _table(found, f"{name}_{run_id}", report, folder)
            made.append(f"{name}_{run_id}")
        yield found
    finally:
        for table in made:
            with contextlib.suppress(Exception):
                found.glue.delete_table(DatabaseName=DATABASE, Name=table)
        _remove_prefix(s3, found.report_bucket, found.work + "/")


def _remove_prefix(s3: Any, bucket: str, prefix: str) -> None:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})


def rows(found: AthenaSession, sql: str) -> Iterator[dict[str, Any]]:
    """The query's rows as dicts, page by page; the per-run table names substituted."""
    for name in found.tables:
        sql = sql.replace(f"FROM {name}", f"FROM {name}_{found.run_id}")
    execution = found.run(sql)
    names: list[str] | None = None
    for page in found.athena.get_paginator("get_query_results").paginate(
            QueryExecutionId=execution):
        for row in page["ResultSet"]["Rows"]:
            values = [cell.get("VarCharValue") for cell in row.get("Data", [])]
            if names is None:
                names = [str(v) for v in values]  # the first row holds the column names
                continue
            yield dict(zip(names, values, strict=True))
