"""CloudWatch alarms per replication rule, each in the Region where its metric is published,
acting on the topic of that Region.

- `failed-operations`: OperationsFailedReplication, Sum > 0 over one minute: the first failure.
- `latency` (RTC rules only): ReplicationLatency, Maximum >= latency_threshold_seconds over
  five minutes: the 15-minute target is being missed.
- `backlog`: OperationsPendingReplication, Maximum > BACKLOG_OPERATIONS in each of three
  five-minute periods: a backlog that has not come down for the 15 minutes of the RTC target.
  (An alarm on the backlog *growing* needs metric math, DIFF(), which MiniStack does not keep,
  so the sandbox would show drift forever; a level held for three periods is the plain-metric
  equivalent, and it also covers rules without RTC, which have no latency alarm.)

Names, Regions and the alarms older versions left: alarm_names.py.

Dimensions are exactly SourceBucket, DestinationBucket and RuleId (the only ones the metrics
have); missing data is ignored, so an alarm keeps its state, as AWS advises. Each script
manages the alarms of its own rules: those in its config and, on the way out, those of rules
it created (ownership records on the source bucket) but no longer has, in every Region they
may be (alarm_regions). A Region's alarms are read in one call (describe_alarms by name
prefix) and shared by the items of the stage (an item reads its alarm's Region and its
source's, where an older version may have left it).
"""

from __future__ import annotations

import threading
from typing import Any

from ..aws.naming import MANAGED_TAG, script_name
from ..config.model import CRR, RuleSpec
from ..engine.context import Context
from ..engine.items import Item
from ..engine.scope import Scope
from ..resources import ownership
from ..resources.bucket_tags import read_tags
from .alarm_names import (
    BACKLOG,
    BACKLOG_OPERATIONS,
    FAILED,
    MANAGED_BY,
    PREFIX,
    SLOW,
    Check,
    alarm_name,
    alarm_region,
    checks,
    earlier_alarms,
)
from .metrics import (
    NAMESPACE,
    STATISTIC,
    dimensions,
    watched_rule,
)
from .topics import topic_arn

DELETE_BATCH = 100  # DeleteAlarms takes at most 100 names
MANAGED = ("AlarmDescription", "ActionsEnabled", "AlarmActions", "Namespace", "MetricName",
           "Statistic", "Dimensions", "Period", "EvaluationPeriods", "DatapointsToAlarm",
           "Threshold", "ComparisonOperator", "TreatMissingData")


def threshold(ctx: Context, check: Check) -> float:
    if check is SLOW:
        return float(ctx.config.monitoring.latency_threshold_seconds)
    return float(BACKLOG_OPERATIONS if check is BACKLOG else 0)


def alarm_spec(ctx: Context, rule: RuleSpec, check: Check) -> dict[str, Any]:
    """The PutMetricAlarm parameters of one alarm, without its name: its action is the topic
    of the alarm's own Region."""
    return {
        "AlarmDescription": (f"S3 replication rule {rule.id} ({rule.source} -> "
                             f"{rule.destination}): {check.meaning}. {MANAGED_BY}"
                             f"{script_name(rule.kind)}.py."),
        "ActionsEnabled": True,
        "AlarmActions": [topic_arn(ctx, alarm_region(ctx, rule, check))],
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


def read_region(ctx: Context, region: str) -> list[dict[str, Any]]:
    """The Region's alarms of the tool, once per run: the check of the names (names.py) reads
    them before the first stage, the alarms lane takes that answer."""
    cloudwatch = ctx.clients.get("cloudwatch", region)
    return list(ctx.reread(("alarms", region), lambda: read_alarms(cloudwatch)))


class RegionAlarms:
    """A Region's alarms of the tool, read once (describe_alarms by name prefix) and shared by
    the items of its lane."""

    def __init__(self, ctx: Context, region: str):
        self.ctx, self.region = ctx, region
        self.cloudwatch = ctx.clients.get("cloudwatch", region)
        self._found: list[dict[str, Any]] | None = None
        self._lock = threading.Lock()  # the lane's items read at once: one of them asks

    def read(self) -> list[dict[str, Any]]:
        with self._lock:
            if self._found is None:
                self._found = read_region(self.ctx, self.region)
            return self._found


Reads = dict[str, RegionAlarms]  # Region -> its alarms, one reader per Region for the stage


def alarm_item(ctx: Context, reads: Reads, rule: RuleSpec, check: Check) -> Item:
    """One alarm of a rule, in its Region (alarm_region): as `alarm_spec` says under its name,
    or deleted when the rule has no such check; an alarm an older version made for it (under
    the old name, or in the source's Region: earlier_alarms) is renamed or moved: this one
    made first, that one deleted after."""
    region = alarm_region(ctx, rule, check)
    regions = sorted({region, ctx.bucket(rule.source).region})
    name = alarm_name(rule.source, rule.id, check)
    spec = alarm_spec(ctx, rule, check) if check in checks(rule) else None

    def read() -> dict[str, list[dict[str, Any]]]:
        return {r: reads[r].read() for r in regions}

    def named(found: dict[str, list[dict[str, Any]]]) -> dict[str, Any] | None:
        return next((a for a in found[region] if a["AlarmName"] == name), None)

    def project(found: dict[str, list[dict[str, Any]]]) -> Any:
        """The alarm's settings, and under which names and in which Regions it is found (the
        older ones first)."""
        places = earlier_alarms(ctx, found, rule, check)
        current = named(found)
        if current is not None:
            places.append((region, name))
        if not places:
            return None
        shown = current or next(a for a in found[places[0][0]]
                                if a["AlarmName"] == places[0][1])
        return {**normalize(shown), "AlarmName": [n for _, n in places],
                "Region": [r for r, _ in places]}

    def delete(places: list[tuple[str, str]]) -> None:
        for where in sorted({r for r, _ in places}):
            _delete(reads[where].cloudwatch, [n for r, n in places if r == where])

    def write(found: dict[str, list[dict[str, Any]]]) -> None:
        earlier = earlier_alarms(ctx, found, rule, check)
        if spec is None:
            delete([(region, name), *earlier])
            return
        current = named(found)
        if current is None or normalize(current) != normalize(spec):
            tags = {**ctx.config.tags, MANAGED_TAG: "true"}  # only taken on creation
            reads[region].cloudwatch.put_metric_alarm(AlarmName=name, **spec, Tags=[
                {"Key": k, "Value": v} for k, v in tags.items()])
        delete(earlier)  # only once the new one watches the rule

    wanted = {**normalize(spec), "AlarmName": [name], "Region": [region]} if spec else None
    return Item(f"rule {rule.id} of {rule.source} ({region})", f"alarm {check.suffix}",
                wanted, read, write, project=project,
                touches=f"alarm {name}")  # alarms are written at once


def dropped_alarms_item(ctx: Context, scope: Scope, region: str, alarms: RegionAlarms) -> Item:
    """The alarms in `region` of rules this script created and no longer wants (all its
    rules' alarms when removing): deleted."""
    sources = scope.sources
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


def alarm_regions(ctx: Context, scope: Scope) -> list[str]:
    """The Regions where this script's alarms may be: each source's, and each alarm's
    (alarm_region) of its rules in the config; with cr_replication.py also every Region of
    the caller's buckets, since a rule removed from the config may have left its latency and
    backlog alarms in a destination's Region that no rule of the config names any more. (The
    caller's policy grants the alarms and topics of exactly these Regions:
    commands/caller_policies.py.)"""
    found = {s.region for s in scope.sources}
    found |= {alarm_region(ctx, r, c) for s in scope.sources
              for r in ctx.config.rules(ctx.kind) if r.source == s.name
              for c in (FAILED, SLOW, BACKLOG)}
    if ctx.kind == CRR and scope.sources:
        found |= {b.region for b in ctx.config.buckets.values() if not b.account}
    return sorted(found)


def lanes(ctx: Context, scope: Scope) -> list[list[Item]]:
    """The alarms of this script's rules, one lane per Region of `alarm_regions`: an item per
    alarm of each rule in the config that lives in the Region, and one for the alarms there
    of rules it created and no longer has."""
    regions = alarm_regions(ctx, scope)
    reads = {region: RegionAlarms(ctx, region) for region in regions}
    own = [r for s in scope.sources for r in scope.wanted_rules(s.name)]
    return [[alarm_item(ctx, reads, r, c) for r in own for c in (FAILED, SLOW, BACKLOG)
             if alarm_region(ctx, r, c) == region]
            + [dropped_alarms_item(ctx, scope, region, reads[region])] for region in regions]
