"""Object Lock on a bucket (`BUCKETS[name]["object_lock"]`): enabled, with a default retention
that every new version placed in the bucket gets, replicas included
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html).

- A bucket apply creates is created with Object Lock (CreateBucket ObjectLockEnabledForBucket,
  bucket_settings.create_bucket); an existing one gets it by PutObjectLockConfiguration with
  ObjectLockEnabled, which S3 allows on any versioned bucket
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-configure.html, "Enable
  Object Lock on an existing S3 bucket"); the versioning row runs before this one.
- Object Lock cannot be turned off, nor versioning suspended, once enabled (same page): a
  bucket whose config has no `object_lock` keeps what it has, and plan says so in a note;
  destroy never touches either.
- The default retention may be changed either way at any time, COMPLIANCE included: it applies
  to versions placed afterwards, those already stored keep their own retain-until date
  ("Bucket configuration" on https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html).
  Tightening is an ordinary change; loosening (a shorter period, or COMPLIANCE to GOVERNANCE,
  which s3:BypassGovernanceRetention can override) is marked as such in its plan line.
"""

from __future__ import annotations

from typing import Any

from ..aws.calls import read_or_none
from ..config.messages import show
from ..config.model import COMPLIANCE, GOVERNANCE, ObjectLockSpec
from .bucket_target import BucketTarget

LOOSENS = ("loosens the vault's retention: versions written from now on are kept less; "
           "those stored keep theirs")
ACTIONS = ("s3:GetBucketObjectLockConfiguration", "s3:PutBucketObjectLockConfiguration")


def read_lock(on: BucketTarget) -> Any:
    return read_or_none(
        lambda: on.s3.get_object_lock_configuration(Bucket=on.name)["ObjectLockConfiguration"],
        "ObjectLockConfigurationNotFoundError")


def as_seen(spec: ObjectLockSpec | None) -> Any:
    """How plan shows Object Lock: None when off, else enabled with its default retention."""
    if spec is None:
        return None
    period = {"days": spec.days} if spec.days is not None else {"years": spec.years}
    return {"enabled": True, "mode": spec.mode, **period}


def as_wanted(on: BucketTarget) -> Any:
    return as_seen(on.bucket.object_lock)


def spec_of(seen: Any) -> ObjectLockSpec | None:
    """The default retention in a seen value, None when there is none."""
    if not isinstance(seen, dict) or "mode" not in seen:
        return None
    return ObjectLockSpec(seen["mode"], seen.get("days"), seen.get("years"))


def project_lock(_: BucketTarget, current: Any) -> Any:
    if not current or current.get("ObjectLockEnabled") != "Enabled":
        return None
    retention = (current.get("Rule") or {}).get("DefaultRetention") or {}
    if not retention.get("Mode"):
        return {"enabled": True}
    # a period AWS does not hold may read 0 (moto answers "Years": 0 next to "Days")
    return as_seen(ObjectLockSpec(retention["Mode"], retention.get("Days") or None,
                                  retention.get("Years") or None))


def desired_lock(on: BucketTarget, current: Any) -> Any:
    """The config's Object Lock; without one, whatever the bucket has (it cannot be turned
    off), with a note when that is Object Lock."""
    spec = on.bucket.object_lock
    if spec is not None:
        return as_seen(spec)
    seen = project_lock(on, current)
    if seen is not None:
        found = spec_of(seen)
        retention = f" ({found.describe()} by default)" if found else ""
        into = [r.id for r in on.ctx.config.all_rules() if r.destination == on.name]
        rules = (f"; rules into it ({', '.join(into)}) are set up as into an unlocked bucket "
                 "(delete markers replicated, no s3:GetObjectRetention for the role)"
                 if into else "")
        on.ctx.note(f"{on.resource} has Object Lock{retention}, which cannot be turned off, "
                    f'and BUCKETS[{show(on.name)}] has no "object_lock": apply leaves it as '
                    f"it is and does not manage its default retention{rules}; add object_lock "
                    "to manage it")
    return seen


def loosening(before: Any, after: Any) -> bool:
    """Whether going from `before` to `after` (seen values) keeps new versions less: a shorter
    period, or COMPLIANCE to GOVERNANCE (which s3:BypassGovernanceRetention can override)."""
    old, new = spec_of(before), spec_of(after)
    if old is None:
        return False
    if new is None:
        return True
    return (old.mode == COMPLIANCE and new.mode == GOVERNANCE) or (
        new.period_days < old.period_days)


def remark_lock(_: BucketTarget, seen: Any, wanted: Any) -> str | None:
    return LOOSENS if loosening(seen, wanted) else None


def write_lock(on: BucketTarget, _: Any) -> None:
    """Object Lock enabled (a no-op on a bucket that has it) with the config's default
    retention (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectLockConfiguration.html)."""
    spec = on.bucket.object_lock
    if spec is None:  # desired_lock wants what is there: nothing to write
        return
    retention: dict[str, Any] = {"Mode": spec.mode}
    retention.update({"Days": spec.days} if spec.days is not None else {"Years": spec.years})
    on.s3.put_object_lock_configuration(Bucket=on.name, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": retention}})

