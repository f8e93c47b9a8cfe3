"""verify's canary into a destination with Object Lock: which buckets are locked, and until
when the canary's replica stays there.

A replica in a bucket with Object Lock gets the bucket's default retention, and a version under
COMPLIANCE retention cannot be deleted by anyone before its retain-until date; one under
GOVERNANCE only with s3:BypassGovernanceRetention, which production's principals must not hold
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html). A locked destination
is also, with `admin_profile`, a vault production may read and not write. So verify never
deletes there: the canary's replica stays until its retention ends, and the lifecycle rule
apply sets on the vault (resources/canary_expiry.py) removes it afterwards.

Until when: the replica's own retention, as HeadObject shows it to a caller allowed
s3:GetObjectRetention (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html,
"Permissions for viewing lock information"); without it (or where, as on emulators, the replica
got none), its last-modified time plus the bucket's default period, said to be so.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ..config.model import RuleSpec
from ..engine.context import Context

RUN = "s3replication-canary-run"  # user metadata: which verify run wrote the canary


def locked(ctx: Context, bucket: str) -> bool:
    """Whether the config gives the bucket Object Lock."""
    spec = ctx.config.buckets.get(bucket)
    return spec is not None and spec.object_lock is not None


def kept(ctx: Context, rule: RuleSpec, key: str, run: str) -> dict[str, Any] | None:
    """{"bucket", "until" (ISO 8601, UTC), "mode", "period" ("30 days"), "as_read"
    (False: computed from the default)} for this run's replica; None when it is not found."""
    destination = ctx.bucket(rule.destination)
    spec = destination.object_lock
    assert spec is not None
    # the current version, which this run's replica is once verify saw it (s3:GetObject, which
    # the reader holds for the canary; a version id would need s3:GetObjectVersion there)
    head = ctx.s3_of(destination).head_object(Bucket=rule.destination, Key=key)
    if head.get("Metadata", {}).get(RUN) != run:
        return None
    until = head.get("ObjectLockRetainUntilDate")
    mode = head.get("ObjectLockMode")
    if until is None:
        modified: datetime = head["LastModified"]
        until = modified + timedelta(days=spec.period_days)
        mode = spec.mode
    return {"bucket": rule.destination,
            "until": until.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "mode": mode,
            "period": spec.describe().split(" ", 1)[1], "as_read": "ObjectLockMode" in head}
