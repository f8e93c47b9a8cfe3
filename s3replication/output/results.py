"""What commands return: one typed result per command, rendered by `output.render` (text for
people, JSON for `--json`), and the `Outcome` envelope the command line prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..engine.items import Change
from ..errors import ExitStatus
from .failover_results import FailoverResult, ReadinessResult
from .restore_results import RestoreResult


@dataclass
class Outcome:
    """A rendered result: exit status, text for people, data for `--json`, lines for stderr."""

    status: ExitStatus
    text: str
    data: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # failures, for stderr
    notices: list[str] = field(default_factory=list)  # for stderr too, not failures


@dataclass
class ChangesResult:
    """apply, plan or destroy: the changes made (or that would be made)."""

    script: str
    command: str  # apply, plan or destroy
    status: ExitStatus
    changes: list[Change]
    notes: list[str]
    errors: list[str] | None = None  # the failures of a run that stopped part way
    dry_run: bool = False  # destroy without --yes
    # who must run what, per account whose changes were left pending (Change.pending)
    waiting: list[str] = field(default_factory=list)
    saved_to: str | None = None  # plan --out FILE: where the plan was saved


@dataclass
class RuleHealth:
    """status: one rule's alarms and latest figures, and the verdict."""

    rule: str
    source: str
    destination: str
    rtc: bool
    alarms: dict[str, str | None]  # alarm suffix -> state (None: missing)
    figures: dict[str, float | None]
    verdict: str
    reasons: list[str]


@dataclass
class StatusResult:
    script: str
    status: ExitStatus
    window_minutes: int
    rules: list[RuleHealth]
    access_points: dict[str, dict[str, int]] = field(default_factory=dict)  # name -> routes
    # locked buckets: name -> {"enabled", "mode", "days" or "years", "attention"?}
    object_lock: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Canary:
    """verify: one rule's canary, from write to clean-up."""

    rule: str
    source: str
    destination: str
    key: str
    rtc: bool
    rtc_target_seconds: float | None  # RTC's own: 15 minutes (None: the rule has no RTC)
    # what the latency is judged against: the lower of RTC's target and the config's
    # MONITORING latency threshold
    latency_target_seconds: float | None = None
    replicated: bool = False
    latency_seconds: float | None = None
    source_status: str | None = None
    replica_status: str | None = None
    rtc_met: bool | None = None
    removed_versions: int = 0
    error: str | None = None
    versioning_settling: dict[str, str] | None = None  # bucket, enabled_at, settled_by
    # a locked destination's replica, which stays: bucket, until, mode, period, as_read
    kept: dict[str, Any] | None = None
    ok: bool = False


@dataclass
class VerifyResult:
    script: str
    status: ExitStatus
    timeout_seconds: float | None  # None when there is no rule to verify
    rules: list[Canary]


@dataclass
class ProblemObject:
    """audit: an object missing from the replica, or different there."""

    problem: str  # missing, failed, pending, size mismatch, archived or needs key
    key: str
    version_id: str
    size: int
    storage_class: str
    replication_status: str | None  # of the source version, for absent ones
    replica_version_id: str | None  # the destination's current version, when there is one
    replica_size: int | None
    detail: str  # the problem in words


@dataclass
class RuleAuditReport:
    """audit: one rule's counts and its first problem objects."""

    rule: str
    source: str
    destination: str
    prefix: str
    tags: dict[str, str]
    error: str | None
    counts: dict[str, int]
    problems: list[ProblemObject]  # the first --max-report problems
    problems_total: int
    exact_versions: bool
    reports: dict[str, str] | None = None  # audit --inventory: bucket -> when its report is from
    # audit --inventory: "source" and "replica" -> when each report was taken (its manifest's
    # creationTimestamp), ISO 8601 UTC
    report_times: dict[str, str] | None = None
    redrive_manifest: str | None = None  # audit --inventory: s3:// URL of the objects to re-drive
    copy_manifest: str | None = None  # audit --inventory: replicas deleted, to copy in place
    # audit --inventory: no report of a bucket yet (S3 delivers the first within 48 hours)
    no_report: str | None = None


@dataclass
class AuditResult:
    script: str
    status: ExitStatus
    rules: list[RuleAuditReport]


@dataclass
class CopyTarget:
    """backfill --method copy: an object copied in place (or to copy)."""

    key: str
    problem: str
    version_id: str


@dataclass
class SkippedObject:
    """backfill --method copy: an object copy in place cannot repair, and why."""

    key: str
    reason: str
    version_id: str


@dataclass
class RuleCopy:
    """backfill --method copy: one rule's objects to copy, copied, failed and skipped."""

    rule: str
    source: str
    destination: str
    to_copy: int = 0
    copied: int = 0
    copy_failed: int = 0
    objects: list[CopyTarget] = field(default_factory=list)  # the first --max-report
    errors: list[str] = field(default_factory=list)
    error: str | None = None
    skipped: int = 0
    skipped_objects: list[SkippedObject] = field(default_factory=list)  # the first ones
    pending: int = 0


@dataclass
class CopyBackfillResult:
    script: str
    status: ExitStatus
    dry_run: bool
    rules: list[RuleCopy]
    notes: list[str] = field(default_factory=list)  # why this path (a manifest's objects)
    manifest: str | None = None  # backfill --manifest: the manifest whose objects are copied


@dataclass
class BatchJobPlan:
    """backfill --method batch: one source bucket's job (started, or to start)."""

    source: str
    region: str
    role: str
    prefixes: list[str]
    report: str
    role_changes: list[Change]  # made to the batch role (or to make)
    job_id: str | None = None
    statuses: list[str] = field(default_factory=list)  # ObjectReplicationStatuses ([]: manifest)
    why: list[str] = field(default_factory=list)  # what the job selects beyond NONE/FAILED
    elsewhere: list[str] = field(default_factory=list)  # groups that go another path, and why
    manifest: str | None = None  # --manifest: the job's objects are exactly this CSV's (S3 URL)
    manifest_objects: int | None = None  # how many objects it lists


@dataclass
class BatchBackfillResult:
    script: str
    status: ExitStatus
    dry_run: bool
    jobs: list[BatchJobPlan]


@dataclass
class JobProgress:
    """backfill --job ID: a Batch Replication job's state."""

    script: str
    status: ExitStatus
    job_id: str
    region: str
    job_status: str | None
    tasks: dict[str, int]  # total, succeeded, failed
    failure_reasons: list[str]
    report: str | None  # the completion report's location
    status_reason: str | None = None


@dataclass
class PermissionsResult:
    status: ExitStatus
    policies: dict[str, list[dict[str, Any]]]  # account id -> policy documents


Result = (ChangesResult | StatusResult | VerifyResult | AuditResult | CopyBackfillResult
          | BatchBackfillResult | JobProgress | PermissionsResult | ReadinessResult
          | FailoverResult | RestoreResult)
