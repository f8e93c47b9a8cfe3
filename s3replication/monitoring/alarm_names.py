"""Which alarms a replication rule has, what each is called, in which Region it lives, and
which alarms an older version left for it (alarms.py makes and keeps them).

Names: `s3-replication:<source bucket>:<rule id>:<check>`. An alarm name is unique per account
and Region, and PutMetricAlarm on a name that exists "completely overwrites the previous
configuration of the alarm" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/
API_PutMetricAlarm.html), so a name must say which rule it watches across every config of the
account: a rule id is unique only within one bucket's replication configuration, so the source
bucket is part of the name. Names of older versions, `s3-replication:<rule id>:<check>`, are
renamed (the new alarm made first, then the old one deleted: the rule is watched throughout,
and a run after a crash in between finishes the job) when the old alarm is the tool's and
watches this very rule (its SourceBucket and RuleId dimensions, and "Managed by" the rule's
script in its description); an old name watching another bucket's rule is another config's,
and left alone. The alarm under the new name must watch our rule too: names.py refuses a run
where it watches another.

Regions: S3 publishes a rule's ReplicationLatency and OperationsPendingReplication in the
destination bucket's Region, and OperationsFailedReplication in the source bucket's
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/repl-metrics.html, "Which Region is this
metric published in?"; metrics.published_in). An alarm sees only the metrics of its own Region
(PutMetricAlarm, above: the alarm "associates it with the specified metric" of the Region the
call is sent to), so a CRR rule's `latency` and `backlog` alarms live in the destination's
Region, its `failed-operations` alarm in the source's; an SRR rule's all in its one Region.
An alarm's SNS action must be a topic of the alarm's own Region (AWS answers PutMetricAlarm
with "ValidationError: Invalid region <topic's> specified. Only <alarm's> is supported."),
so each alarm acts on the alert topic of its Region (topics.py; lanes.py makes one in every
Region that holds an alarm). Versions before this one put every alarm in the source's Region:
such an alarm of this rule and check (under the old or the new name, the tool's, watching
this rule) is moved the same way it is renamed: the alarm in the right Region made first, the
one in the source's Region deleted after.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..aws.naming import script_name, short_hash
from ..config.model import RuleSpec
from ..engine.context import Context
from .metrics import FAILED_OPERATIONS, LATENCY, PENDING_OPERATIONS, published_in, watched_rule

PREFIX = "s3-replication:"
MANAGED_BY = "Managed by "  # in each alarm's description, then the script's file name
NAME_LIMIT = 255
BACKLOG_OPERATIONS = 1000


@dataclass(frozen=True)
class Check:
    suffix: str  # the end of the alarm name
    metric: str
    comparison: str
    period: int  # seconds
    periods: int  # consecutive breaching periods before it fires
    meaning: str


FAILED = Check("failed-operations", FAILED_OPERATIONS, "GreaterThanThreshold", 60, 1,
               "objects failed to replicate")
SLOW = Check("latency", LATENCY, "GreaterThanOrEqualToThreshold", 300, 1,
             "replication latency reached the threshold")
BACKLOG = Check("backlog", PENDING_OPERATIONS, "GreaterThanThreshold", 300, 3,
                f"more than {BACKLOG_OPERATIONS} operations pending for 15 minutes")


def checks(rule: RuleSpec) -> list[Check]:
    return [FAILED, SLOW, BACKLOG] if rule.rtc else [FAILED, BACKLOG]


def alarm_name(source: str, rule_id: str, check: Check) -> str:
    """`s3-replication:<source bucket>:<rule id>:<check>`. Over the 255 characters an alarm
    name may have (API_PutMetricAlarm.html, AlarmName), the rule id is cut and followed by a
    hash of the bucket and the whole id, so two rules still get two names. A bucket name has
    no ":" (at most 63 letters, digits, dots and hyphens), so the name says where the bucket
    ends whatever the rule id holds."""
    name = f"{PREFIX}{source}:{rule_id}:{check.suffix}"
    if len(name) <= NAME_LIMIT:
        return name
    digest = short_hash(f"{source}/{rule_id}", 10)
    room = NAME_LIMIT - len(PREFIX) - len(source) - len(check.suffix) - len(digest) - 3
    return f"{PREFIX}{source}:{rule_id[:room]}~{digest}:{check.suffix}"


def old_alarm_name(rule_id: str, check: Check) -> str:
    """The name versions before this one gave the alarm: after the rule id alone, which two
    configs (or two buckets) may share."""
    name = f"{PREFIX}{rule_id}:{check.suffix}"
    if len(name) <= NAME_LIMIT:
        return name
    digest = short_hash(rule_id, 10)
    room = NAME_LIMIT - len(PREFIX) - len(check.suffix) - len(digest) - 2
    return f"{PREFIX}{rule_id[:room]}~{digest}:{check.suffix}"


def made_by_tool(alarm: dict[str, Any], kind: str | None = None) -> bool:
    """Whether the tool made `alarm` (for `kind`'s script, when given): its description says
    "Managed by <script>.py", as `alarm_spec` writes it."""
    scripts = [script_name(kind)] if kind else [script_name("crr"), script_name("srr")]
    description = alarm.get("AlarmDescription") or ""
    return any(f"{MANAGED_BY}{script}.py" in description for script in scripts)


def watches(alarm: dict[str, Any], rule: RuleSpec) -> bool:
    """Whether `alarm` watches the metrics of `rule` (its source bucket and rule id)."""
    return watched_rule(alarm.get("Dimensions") or []) == (rule.source, rule.id)


def watched_text(alarm: dict[str, Any]) -> str:
    """What an alarm watches, in words: "rule R of bucket B", or its metric when no rule's."""
    watched = watched_rule(alarm.get("Dimensions") or [])
    if watched is None:
        return f"metric {alarm.get('MetricName')} of no replication rule"
    return f"rule {watched[1]} of bucket {watched[0]}"


def old_alarm(found: list[dict[str, Any]], rule: RuleSpec, check: Check) -> str | None:
    """The name of the alarm an older version made for this check of this rule, if any: an
    old name that watches this rule and says the rule's script made it."""
    name = old_alarm_name(rule.id, check)
    if name == alarm_name(rule.source, rule.id, check):  # a rule id that looks like a new name
        return None
    alarm = next((a for a in found if a["AlarmName"] == name), None)
    if alarm is None or not watches(alarm, rule) or not made_by_tool(alarm, rule.kind):
        return None
    return name


def alarm_region(ctx: Context, rule: RuleSpec, check: Check) -> str:
    """The Region of the alarm: where S3 publishes the check's metric for the rule."""
    return published_in(check.metric, ctx.bucket(rule.source).region,
                        ctx.bucket(rule.destination).region)


def earlier_alarms(ctx: Context, found: dict[str, list[dict[str, Any]]], rule: RuleSpec,
                   check: Check) -> list[tuple[str, str]]:
    """(Region, name) of each alarm an older version made for this check of this rule and
    that is still there: under the old name in the alarm's Region, and, when that is not the
    source's Region (where older versions put every alarm), under either name there; each
    the tool's, for the rule's script, watching this rule. `found`: the tool's alarms by
    Region, of the alarm's Region and the source's."""
    region, source_region = alarm_region(ctx, rule, check), ctx.bucket(rule.source).region
    left = []
    if (old := old_alarm(found.get(region, []), rule, check)) is not None:
        left.append((region, old))
    if source_region != region:
        there = found.get(source_region, [])
        name = alarm_name(rule.source, rule.id, check)
        alarm = next((a for a in there if a["AlarmName"] == name), None)
        if alarm is not None and watches(alarm, rule) and made_by_tool(alarm, rule.kind):
            left.append((source_region, name))
        if (old := old_alarm(there, rule, check)) is not None:
            left.append((source_region, old))
    return left
