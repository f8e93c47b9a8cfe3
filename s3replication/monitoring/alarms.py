"""CloudWatch alarms per replication rule, in the source bucket's Region, acting on the topic.

- `failed-operations`: OperationsFailedReplication, Sum > 0 over one minute: the first failure.
- `latency` (RTC rules only): ReplicationLatency, Maximum >= latency_threshold_seconds over
  five minutes: the 15-minute target is being missed.
- `backlog`: OperationsPendingReplication, Maximum > BACKLOG_OPERATIONS in each of three
  five-minute periods: a backlog that has not come down for the 15 minutes of the RTC target.
  (An alarm on the backlog *growing* needs metric math, DIFF(), which MiniStack does not keep,
  so the sandbox would show drift forever; a level held for three periods is the plain-metric
  equivalent, and it also covers rules without RTC, which have no latency alarm.)

Dimensions are exactly SourceBucket, DestinationBucket and RuleId (the only ones the metrics
have); missing data is ignored, so an alarm keeps its state, as AWS advises. Each script
manages the alarms of its own rules: those in its config and, on the way out, those of rules
it created (ownership records on the source bucket) but no longer has. A Region's alarms are
read in one call (describe_alarms by name prefix) and shared by the items of its lane.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from ..aws.naming import MANAGED_TAG, script_name, short_hash
from ..config.model import BucketSpec, RuleSpec
from ..engine.context import Context
from ..engine.items import Item
from ..engine.scope import Scope
from ..resources import ownership
from ..resources.bucket_tags import read_tags
from .metrics import (
    FAILED_OPERATIONS,
    LATENCY,
    NAMESPACE,
    PENDING_OPERATIONS,
    STATISTIC,
    dimensions,
    watched_rule,
)
from .topics import topic_arn

PREFIX = "s3-replication:"
NAME_LIMIT = 255
BACKLOG_OPERATIONS = 1000
DELETE_BATCH = 100  # DeleteAlarms takes at most 100 names
MANAGED = ("AlarmDescription", "ActionsEnabled", "AlarmActions", "Namespace", "MetricName",
           "Statistic", "Dimensions", "Period", "EvaluationPeriods", "DatapointsToAlarm",
           "Threshold", "ComparisonOperator", "TreatMissingData")


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


def alarm_name(rule_id: str, check: Check) -> str:
    """`s3-replication:<rule id>:<check>`; a rule id too long for that is cut and hashed."""
    name = f"{PREFIX}{rule_id}:{check.suffix}"
    if len(name) <= NAME_LIMIT:
        return name
    digest = short_hash(rule_id, 10)
    room = NAME_LIMIT - len(PREFIX) - len(check.suffix) - len(digest) - 2
    return f"{PREFIX}{rule_id[:room]}~{digest}:{check.suffix}"


def threshold(ctx: Context, check: Check) -> float:
    if check is SLOW:
        return float(ctx.config.monitoring.latency_threshold_seconds)
    return float(BACKLOG_OPERATIONS if check is BACKLOG else 0)


def alarm_spec(ctx: Context, rule: RuleSpec, check: Check) -> dict[str, Any]:
    """The PutMetricAlarm parameters of one alarm, without its name."""
    region = ctx.bucket(rule.source).region
    return {
        "AlarmDescription": (f"S3 replication rule {rule.id} ({rule.source} -> "
                             f"{rule.destination}): {check.meaning}. Managed by "
                             f"{script_name(rule.kind)}.py."),
        "ActionsEnabled": True,
        "AlarmActions": [topic_arn(ctx, region)],
        "Namespace": NAMESPACE,
        "MetricName": check.metric,
        "Statistic": STATISTIC[check.metric],
        "Dimensions": dimensions(rule),
        "Period": check.period,
        "EvaluationPeriods": check.periods,
        "DatapointsToAlarm": check.periods,
        "Threshold": threshold(ctx, check),
        "ComparisonOperator": check.comparison,
        "TreatMissingData": "ignore",
    }


def normalize(alarm: dict[str, Any]) -> dict[str, Any]:
    """The settings we manage, as describe_alarms and our own specs both give them."""
    seen = {key: alarm.get(key) for key in MANAGED}
    seen["Dimensions"] = sorted(seen["Dimensions"] or [], key=lambda d: d["Name"])
    seen["AlarmActions"] = sorted(seen["AlarmActions"] or [])
    seen["Threshold"] = float(seen["Threshold"]) if seen["Threshold"] is not None else None
    return seen


def read_alarms(cloudwatch: Any) -> list[dict[str, Any]]:
    """Every metric alarm of the tool in the client's Region."""
    pages = cloudwatch.get_paginator("describe_alarms").paginate(AlarmNamePrefix=PREFIX)
    return [alarm for page in pages for alarm in page.get("MetricAlarms", [])]


def _delete(cloudwatch: Any, names: list[str]) -> None:
    for first in range(0, len(names), DELETE_BATCH):
        cloudwatch.delete_alarms(AlarmNames=names[first:first + DELETE_BATCH])


class RegionAlarms:
    """A Region's alarms of the tool, read once (describe_alarms by name prefix) and shared by
    the items of its lane."""

    def __init__(self, cloudwatch: Any):
        self.cloudwatch = cloudwatch
        self._found: list[dict[str, Any]] | None = None
        self._lock = threading.Lock()  # the lane's items read at once: one of them asks

    def read(self) -> list[dict[str, Any]]:
        with self._lock:
            if self._found is None:
                self._found = read_alarms(self.cloudwatch)
            return self._found


def alarm_item(ctx: Context, region: str, alarms: RegionAlarms, rule: RuleSpec,
               check: Check) -> Item:
    """One alarm of a rule: as `alarm_spec` says, or deleted when the rule has no such check."""
    name = alarm_name(rule.id, check)
    spec = alarm_spec(ctx, rule, check) if check in checks(rule) else None

    def project(found: list[dict[str, Any]]) -> Any:
        return next((normalize(a) for a in found if a["AlarmName"] == name), None)

    def write(_: Any) -> None:
        if spec is None:
            _delete(alarms.cloudwatch, [name])
            return
        tags = {**ctx.config.tags, MANAGED_TAG: "true"}  # only taken on creation
        alarms.cloudwatch.put_metric_alarm(AlarmName=name, **spec, Tags=[
            {"Key": k, "Value": v} for k, v in tags.items()])

    return Item(f"rule {rule.id} ({region})", f"alarm {check.suffix}",
                normalize(spec) if spec else None, alarms.read, write, project=project,
                touches=f"alarm {name}")  # alarms are written at once


def dropped_alarms_item(ctx: Context, scope: Scope, region: str, alarms: RegionAlarms,
                        sources: list[BucketSpec]) -> Item:
    """The alarms of rules this script created and no longer wants (all its rules' alarms
    when removing): deleted."""
    wanted = {(r.source, r.id) for s in sources for r in scope.wanted_rules(s.name)}
    config_ids = scope.removed_without_record()
    by_name = {s.name: s for s in sources}

    def dropped(watched: tuple[str, str] | None) -> bool:
        if watched is None or watched in wanted or watched[0] not in by_name:
            return False
        source, rule_id = watched
        return rule_id in config_ids or ownership.owns(
            ctx.kind, read_tags(ctx, by_name[source]), rule_id)

    def project(found: list[dict[str, Any]]) -> Any:
        return {a["AlarmName"]: normalize(a) for a in found
                if dropped(watched_rule(a.get("Dimensions") or []))} or None

    def delete(found: list[dict[str, Any]]) -> None:
        _delete(alarms.cloudwatch, sorted(project(found) or {}))

    setting = "alarms of its rules" if scope.removing else "alarms of removed rules"
    return Item(f"{script_name(ctx.kind)} alarms ({region})", setting, None, alarms.read,
                delete, project=project, touches="dropped alarms")


def lane(ctx: Context, scope: Scope, region: str, sources: list[BucketSpec]) -> list[Item]:
    """The alarms of this script's rules on `sources` (all in `region`): one item per alarm of
    each rule in the config, and one for the alarms of rules it created and no longer has."""
    alarms = RegionAlarms(ctx.clients.get("cloudwatch", region))
    own = [r for s in sources for r in scope.wanted_rules(s.name)]
    return [alarm_item(ctx, region, alarms, r, c) for r in own for c in (FAILED, SLOW, BACKLOG)]\
        + [dropped_alarms_item(ctx, scope, region, alarms, sources)]
