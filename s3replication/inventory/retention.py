"""The retention a replica in a bucket with Object Lock must have, judged the same way by the
listing audit (GetObjectRetention on each replica) and the inventory audit (the report's
ObjectLockMode and ObjectLockRetainUntilDate fields).

A replica placed in a bucket with Object Lock gets the bucket's default retention unless its
source version carries retention of its own, which the replica keeps
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html, "Using
Object Lock with S3 Replication"; https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html,
"Bucket configuration"). The rule: a replica is a problem when

- it has no retention ("retention missing": it can be deleted by anyone allowed to), or
- its mode is GOVERNANCE in a COMPLIANCE bucket (s3:BypassGovernanceRetention can lift it), or
- its retain-until date is earlier than its last-modified time plus the bucket's default
  period (a year as 365 days) less TOLERANCE ("retention shorter than the vault's default").

TOLERANCE is a day: a source's own retention is counted from the source's creation, a moment
before the replica's, by up to the replication's lag. A replica written before the default was
raised is reported too: it is kept less than the vault now promises.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ..aws.calls import read_or_none
from ..config.model import COMPLIANCE, GOVERNANCE, ObjectLockSpec

NO_RETENTION, SHORT_RETENTION = "retention missing", "retention short"
TOLERANCE = timedelta(days=1)
# inventory fields a locked destination's report carries (resources/inventory.py)
LOCK_FIELDS = ("ObjectLockRetainUntilDate", "ObjectLockMode")


def read_retention(s3: Any, bucket: str, key: str, version_id: str) -> dict[str, Any] | None:
    """{"Mode", "RetainUntilDate"} of a version, None when it has none
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectRetention.html)."""
    found = read_or_none(lambda: s3.get_object_retention(
        Bucket=bucket, Key=key, VersionId=version_id), "NoSuchObjectLockConfiguration")
    retention = (found or {}).get("Retention") or {}
    return retention if retention.get("Mode") else None


def judge(default: ObjectLockSpec, found: dict[str, Any] | None,
          modified: datetime | None) -> tuple[str | None, str | None]:
    """(NO_RETENTION or SHORT_RETENTION, in words), or (None, None) when the retention is right."""
    if found is None:
        return NO_RETENTION, f"no retention: the vault's default is {default.describe()}"
    mode, until = found["Mode"], found["RetainUntilDate"]
    if default.mode == COMPLIANCE and mode == GOVERNANCE:
        return SHORT_RETENTION, (f"GOVERNANCE until {until:%Y-%m-%d %H:%M} UTC, weaker than the "
                                 f"vault's default {default.describe()}")
    if modified is not None and until < modified + timedelta(days=default.period_days) - TOLERANCE:
        return SHORT_RETENTION, (f"kept until {until:%Y-%m-%d %H:%M} UTC, shorter than the "
                                 f"vault's default {default.describe()} from "
                                 f"{modified:%Y-%m-%d %H:%M} UTC")
    return None, None


def sql_verdict(default: ObjectLockSpec, mode: str, until: str, modified: str) -> str:
    """The same rule as a SQL CASE over the inventory's text columns (DuckDB and Athena):
    'retention_missing', 'retention_short' (the audit's counts), or NULL. Times as their
    first 19 characters, `YYYY-MM-DDTHH:MM:SS`, cast to TIMESTAMP, which both engines read
    alike."""
    def stamp(column: str) -> str:
        return f"CAST(replace(substr({column}, 1, 19), 'T', ' ') AS TIMESTAMP)"
    hours = default.period_days * 24 - int(TOLERANCE.total_seconds() // 3600)
    weaker = f"{mode} = '{GOVERNANCE}'" if default.mode == COMPLIANCE else "FALSE"
    return (f"CASE WHEN coalesce({mode}, '') = '' OR coalesce({until}, '') = '' "
            f"THEN 'retention_missing' WHEN {weaker} THEN 'retention_short' "
            f"WHEN {stamp(until)} < {stamp(modified)} + INTERVAL '{hours}' HOUR "
            "THEN 'retention_short' END")
