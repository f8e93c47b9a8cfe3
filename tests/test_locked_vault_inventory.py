"""`audit --inventory` with a locked destination: the inventory configuration asks for the
Object Lock fields, and the comparison judges each healthy replica's retention by the same
rule as the listing audit (s3replication/inventory/retention.py).

AWS: S3 Inventory's optional fields ObjectLockRetainUntilDate and ObjectLockMode give each
version's retention (https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory.html,
"Amazon S3 Inventory list"; "Using Object Lock with Amazon S3 Inventory",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html#object-lock-inv-report);
a replica placed in a bucket with Object Lock gets the bucket's default retention
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from s3replication.config import load_config
from s3replication.config.model import ObjectLockSpec, RuleSpec
from s3replication.inventory.query import Comparison, column_name
from s3replication.inventory.retention import LOCK_FIELDS
from s3replication.inventory.standin import SCHEMA, row
from s3replication.resources.inventory import wanted_configuration
from tests.inventory_reports import DESTINATION, config_text

SRC, DST = "src", "dst"
WRITTEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DEFAULT = ObjectLockSpec("COMPLIANCE", days=30)


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def tables(replicas: dict[str, tuple[str, str]]) -> Any:
    """Source and locked-replica tables, one healthy pair per key; each replica with the
    (mode, retain-until) given."""
    connection = duckdb.connect()
    plain = ", ".join(f"{column_name(c)} VARCHAR" for c in SCHEMA)
    locked = plain + ", " + ", ".join(f"{column_name(c)} VARCHAR" for c in LOCK_FIELDS)
    connection.execute(f"CREATE TABLE source_inventory ({plain})")
    connection.execute(f"CREATE TABLE replica_inventory ({locked})")
    for key, (mode, until) in replicas.items():
        connection.execute(f"INSERT INTO source_inventory VALUES ({', '.join('?' * len(SCHEMA))})",
                           row(SRC, key, f"s-{key}", True, False, 10, WRITTEN,
                               status="COMPLETED"))
        connection.execute(
            f"INSERT INTO replica_inventory VALUES ({', '.join('?' * (len(SCHEMA) + 2))})",
            row(DST, key, f"r-{key}", True, False, 10, WRITTEN, status="REPLICA")
            + [until, mode])
    return connection


def test_a_replica_without_or_with_short_retention_is_reported() -> None:
    full = stamp(WRITTEN + timedelta(days=30))
    connection = tables({
        "p/kept.txt": ("COMPLIANCE", full),
        "p/within-a-day.txt": ("COMPLIANCE", stamp(WRITTEN + timedelta(days=29, hours=1))),
        "p/bare.txt": ("", ""),
        "p/brief.txt": ("COMPLIANCE", stamp(WRITTEN + timedelta(days=2))),
        "p/governed.txt": ("GOVERNANCE", full),
    })
    comparison = Comparison(RuleSpec("r", "crr", SRC, DST, prefix="p/"), exact_versions=False,
                            retention=DEFAULT)
    counts = dict(connection.execute(comparison.counts()).fetchall())
    assert counts == {"ok": 2, "retention_missing": 1, "retention_short": 2}
    problems = [(r[0], r[-1]) for r in connection.execute(comparison.problems(10)).fetchall()]
    assert problems == [("p/bare.txt", "retention_missing"), ("p/brief.txt", "retention_short"),
                        ("p/governed.txt", "retention_short")]
    assert connection.execute(comparison.redrive()).fetchall() == []  # nothing to replicate


def test_without_a_lock_the_retention_columns_are_not_read() -> None:
    connection = tables({"p/bare.txt": ("", "")})
    comparison = Comparison(RuleSpec("r", "crr", SRC, DST, prefix="p/"), exact_versions=False)
    assert dict(connection.execute(comparison.counts()).fetchall()) == {"ok": 1}


@pytest.mark.parametrize("locked", [True, False])
def test_the_inventory_of_a_locked_bucket_asks_for_the_object_lock_fields(
        tmp_path: Path, locked: bool) -> None:
    lock = (f"BUCKETS[{DESTINATION!r}]['object_lock'] = {{'mode': 'COMPLIANCE', 'days': 30}}"
            if locked else "")
    path = tmp_path / "s3_config.py"
    path.write_text(config_text(tmp_path / "log.txt", extra=lock))
    config = load_config(path)

    class Ctx:
        account = "111111111111"

    Ctx.config = config  # type: ignore[attr-defined]
    fields = wanted_configuration(Ctx(), config.buckets[DESTINATION])["OptionalFields"]
    assert (set(LOCK_FIELDS) <= set(fields)) is locked
