"""The canary's expiry in a locked destination: one lifecycle rule per replication rule into
the bucket, which removes the canary's old versions once their retention has ended.

`verify` cannot delete its canary's replica in a bucket with Object Lock: the replica gets the
bucket's default retention, and a version under COMPLIANCE retention cannot be deleted by
anyone before its date (under GOVERNANCE only with s3:BypassGovernanceRetention, which no
principal of production holds)
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html). So into a locked
bucket the canary has one fixed key per rule (`locked_canary_key`): each verify adds a version
of it, never a new key, and this row's lifecycle rule expires the versions made noncurrent by
the next verify `NoncurrentDays` after that, which is never before their retain-until date
(the next version is made after this one, and NoncurrentDays is the retention period plus a
day, a year counted as 366 days). S3 Lifecycle does not delete a version still under
retention; it acts once retention has ended ("Managing S3 Lifecycle policies with Object Lock",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html#object-lock-managing-lifecycle).
The current version stays: one object per rule, never a pile.

A lifecycle configuration is one document: the row keeps every rule it did not make (its
rules' IDs start with RULE_ID_PREFIX) and replaces its own
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLifecycleConfiguration.html).
It is a write in the vault's account, made through its administrators' profile when the
account has one (aws/clients.py), never by verify.
"""

from __future__ import annotations

from typing import Any

from ..aws.calls import read_or_none
from ..config.model import RuleSpec
from .bucket_target import BucketTarget

CANARY_FOLDER = ".s3-replication-canary/"
RULE_ID_PREFIX = "s3replication-canary-"
ACTIONS = ("s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration")


def locked_canary_key(rule: RuleSpec) -> str:
    """The one key of the rule's canary into a locked bucket (under the rule's prefix, so that
    the rule selects it)."""
    return f"{rule.prefix}{CANARY_FOLDER}{rule.id}"


def expiry_days(on: BucketTarget) -> int:
    """The retention period in days, a year counted as 366, plus one day."""
    spec = on.bucket.object_lock
    assert spec is not None
    return (spec.days if spec.days is not None else 366 * (spec.years or 0)) + 1


def wanted_rules(on: BucketTarget) -> Any:
    """Our lifecycle rules on the bucket: one per rule (of either script) into it when it has
    Object Lock in the config; None when there is none."""
    if on.bucket.object_lock is None:
        return None
    into = sorted((r for r in on.ctx.config.all_rules() if r.destination == on.name),
                  key=lambda r: r.id)
    days = expiry_days(on)
    found = [{"ID": f"{RULE_ID_PREFIX}{r.id}", "Filter": {"Prefix": locked_canary_key(r)},
              "Status": "Enabled", "NoncurrentVersionExpiration": {"NoncurrentDays": days}}
             for r in into]
    return found or None


def read_lifecycle(on: BucketTarget) -> Any:
    """The bucket's lifecycle rules; not read (None) on a bucket without Object Lock in the
    config, which has no rule of ours to keep right."""
    if on.bucket.object_lock is None:
        return None
    return read_or_none(
        lambda: on.s3.get_bucket_lifecycle_configuration(Bucket=on.name)["Rules"],
        "NoSuchLifecycleConfiguration")


def _ours(rule: dict[str, Any]) -> bool:
    return str(rule.get("ID", "")).startswith(RULE_ID_PREFIX)


def project_rules(_: BucketTarget, current: Any) -> Any:
    """Our rules as wanted_rules shows them; None when there is none."""
    found = sorted((r for r in current or [] if _ours(r)), key=lambda r: r["ID"])
    seen = [{"ID": r["ID"], "Filter": {"Prefix": (r.get("Filter") or {}).get("Prefix", "")},
             "Status": r.get("Status"), "NoncurrentVersionExpiration": {
                 "NoncurrentDays": (r.get("NoncurrentVersionExpiration") or {}).get(
                     "NoncurrentDays")}} for r in found]
    return seen or None


def write_rules(on: BucketTarget, current: Any) -> None:
    """The configuration as it is, with our rules in place of any earlier ones."""
    rules = [r for r in current or [] if not _ours(r)] + list(wanted_rules(on) or [])
    if rules:
        on.s3.put_bucket_lifecycle_configuration(
            Bucket=on.name, LifecycleConfiguration={"Rules": rules})
    else:
        on.s3.delete_bucket_lifecycle(Bucket=on.name)
