"""The comparison run by DuckDB in this process: each report's data files are streamed from S3
to a temporary folder (checked against the manifest on the way: size and MD5), then read by
DuckDB as gzip'd CSV. Memory is bounded by DuckDB's limit, which spills to disk
(https://duckdb.org/docs/stable/configuration/pragmas#memory-limit), not by the object count.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .query import column_name
from .reports import DataFile, Report, check_digest

MEMORY_LIMIT = "400MB"
CHUNK = 8 * 1024 * 1024


def fetch(s3: Any, report: Report, folder: Path,
          on_file: Callable[[int], None] = lambda n: None) -> list[Path]:
    """Every data file of the report, on disk, each checked against the manifest."""
    paths = []
    for n, data_file in enumerate(report.files):
        path = folder / f"{n:06d}.csv.gz"
        _download(s3, report, data_file, path)
        paths.append(path)
        on_file(1)
    return paths


def _download(s3: Any, report: Report, data_file: DataFile, path: Path) -> None:
    digest, size = hashlib.md5(usedforsecurity=False), 0
    body = s3.get_object(Bucket=report.report_bucket, Key=data_file.key)["Body"]
    with open(path, "wb") as out:
        for chunk in iter(lambda: body.read(CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    check_digest(report, data_file, size, digest.hexdigest())


def _table(connection: Any, name: str, report: Report, paths: list[Path]) -> None:
    columns = ", ".join(f"'{column_name(c)}': 'VARCHAR'" for c in report.columns)
    files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
    if not paths:  # a bucket with no objects: an empty table of the same columns
        names = ", ".join(f"NULL::VARCHAR AS {column_name(c)}" for c in report.columns)
        connection.execute(f"CREATE VIEW {name} AS SELECT {names} WHERE FALSE")
        return
    connection.execute(
        f"CREATE VIEW {name} AS SELECT * FROM read_csv([{files}], header = false, "
        f"columns = {{{columns}}}, compression = 'gzip', quote = '\"', escape = '\"', "
        "auto_detect = false)")


@contextlib.contextmanager
def session(clients: Any, source: Report, replica: Report,
            on_file: Callable[[int], None] = lambda n: None) -> Iterator[Any]:
    """A DuckDB connection with `source_inventory` and `replica_inventory`; `clients` the
    caller's client factory (each report is read in its report bucket's Region); `on_file`
    called as each data file is read."""
    with tables_session(clients, {"source_inventory": source, "replica_inventory": replica},
                        on_file) as connection:
        yield connection


@contextlib.contextmanager
def tables_session(clients: Any, tables: dict[str, Report],
                   on_file: Callable[[int], None] = lambda n: None) -> Iterator[Any]:
    """A DuckDB connection with a table (a view over its data files) per report of
    `tables`, by name."""
    import duckdb

    with tempfile.TemporaryDirectory(prefix="s3replication-inventory-") as tmp:
        connection = duckdb.connect()
        try:
            connection.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
            connection.execute(f"SET temp_directory = '{Path(tmp) / 'spill'}'")
            for name, report in tables.items():
                folder = Path(tmp) / name
                folder.mkdir()
                _table(connection, name, report,
                       fetch(clients.get("s3", report.region), report, folder, on_file))
            yield connection
        finally:
            connection.close()


def rows(connection: Any, sql: str, size: int = 10_000) -> Iterator[dict[str, Any]]:
    """The query's rows as dicts, fetched in batches."""
    cursor = connection.execute(sql)
    names = [d[0] for d in cursor.description]
    while batch := cursor.fetchmany(size):
        for row in batch:
            yield dict(zip(names, row, strict=True))
