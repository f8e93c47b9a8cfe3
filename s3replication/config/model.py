"""The frozen settings the rest of the package relies on: buckets, rules, monitoring."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

CRR = "crr"
SRR = "srr"
RULE_LISTS = {CRR: "CRR_RULES", SRR: "SRR_RULES"}


COMPLIANCE = "COMPLIANCE"
GOVERNANCE = "GOVERNANCE"
LOCK_MODES = (COMPLIANCE, GOVERNANCE)


@dataclass(frozen=True)
class ObjectLockSpec:
    """Object Lock on a bucket and its default retention: every new version placed in it
    (replicas included) is kept `days` or `years` (exactly one is set) in `mode`
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html)."""

    mode: str  # COMPLIANCE or GOVERNANCE
    days: int | None = None
    years: int | None = None

    @property
    def period_days(self) -> int:
        """The retention in days, a year counted as 365, to compare two periods."""
        return self.days if self.days is not None else 365 * (self.years or 0)

    def describe(self) -> str:
        """How plan and status show it: "COMPLIANCE 30 days", "GOVERNANCE 1 year"."""
        count, unit = (self.days, "day") if self.days is not None else (self.years, "year")
        return f"{self.mode} {count} {unit}{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class BucketSpec:
    name: str
    region: str
    kms_key: str | None  # "alias/NAME", a key ARN, or None for SSE-S3
    replication_role: str  # IAM role name; default "<bucket>-replication"
    account: str | None = None  # a name in ACCOUNTS; None: the caller's account
    object_lock: ObjectLockSpec | None = None  # None: the config asks for no Object Lock


@dataclass(frozen=True)
class AccountSpec:
    """Another AWS account of ACCOUNTS, and how the scripts reach it: by assuming `role_arn`
    with the caller's credentials, or with the named `profile`. With `admin_profile` (the
    named profile of that account's own administrators), every write there goes through it,
    and `role_arn`/`profile` only reads (aws/clients.py)."""

    name: str
    account_id: str  # 12 digits
    role_arn: str | None = None
    profile: str | None = None
    admin_profile: str | None = None


@dataclass(frozen=True)
class RuleSpec:
    id: str
    kind: str  # CRR or SRR
    source: str
    destination: str
    prefix: str = ""
    tags: tuple[tuple[str, str], ...] = ()  # sorted by key
    priority: int | None = None  # None: keep the one on the bucket, or take the lowest free
    rtc: bool = True
    delete_markers: bool = True
    storage_class: str = "STANDARD"
    replica_modifications: bool = False
    setting: str = ""  # how the user wrote it, for messages: 'CRR_RULES[2] "images-euw1"'


@dataclass(frozen=True)
class Monitoring:
    sns_topic: str = "replication-alerts"
    alert_emails: tuple[str, ...] = ()
    latency_threshold_seconds: int = 900
    dashboard: str | None = None


@dataclass(frozen=True)
class AccessPointSpec:
    """A Multi-Region Access Point over buckets of the config in different Regions."""

    name: str
    buckets: tuple[str, ...]  # fixed when AWS creates it
    active: tuple[str, ...]  # routed at first (traffic dial 100); the others passive (0)
    setting: str = ""  # as the user wrote it, for messages
    alias: str | None = None  # as AWS named it, when the config says (failover without us-west-2)


@dataclass(frozen=True)
class Inventory:
    """S3 Inventory reports for the audit: a report bucket per Region."""

    buckets: Mapping[str, str]  # Region -> report bucket name
    format: str = "CSV"


@dataclass(frozen=True)
class Config:
    path: Path
    buckets: Mapping[str, BucketSpec]  # in the order the file lists them
    crr_rules: tuple[RuleSpec, ...]
    srr_rules: tuple[RuleSpec, ...]
    tags: Mapping[str, str] = field(default_factory=dict)
    monitoring: Monitoring = Monitoring()
    log_file: Path = Path("logs/replication_logs.txt")
    accounts: Mapping[str, AccountSpec] = field(default_factory=dict)
    access_points: Mapping[str, AccessPointSpec] = field(default_factory=dict)
    inventory: Inventory | None = None

    def rules(self, kind: str) -> tuple[RuleSpec, ...]:
        return self.crr_rules if kind == CRR else self.srr_rules

    def all_rules(self) -> tuple[RuleSpec, ...]:
        return self.crr_rules + self.srr_rules

    def account_of(self, bucket: BucketSpec) -> AccountSpec | None:
        """The ACCOUNTS entry the bucket lives in; None for the caller's own account."""
        return self.accounts[bucket.account] if bucket.account else None

    @property
    def region_of_partition(self) -> str:
        """A Region of the config's one partition (its first bucket's), or us-east-1."""
        return next((b.region for b in self.buckets.values() if b.region), "us-east-1")
