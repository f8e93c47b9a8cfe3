"""The account-wide names of the monitoring, checked before a run changes anything.

An alarm name is unique per account and Region (PutMetricAlarm on a name that exists
"completely overwrites the previous configuration of the alarm",
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html); a
topic name too (CreateTopic "is idempotent, so if the requester already owns a topic with the
specified name, that topic's ARN is returned",
https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html); a dashboard name per account
(PutDashboard on a name that exists replaces its contents, and "all dashboards in your account
are global", https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html).
Writing under a name another config uses takes its alarm, topic or dashboard over, and each
config's apply undoes the other's.

Alarm names say their source bucket and rule (alarms.py), so two configs' alarms differ; the
topic and the dashboard are named by the config (MONITORING). Before the first stage, a run is
refused (NameTaken, naming both sides) where:

- an alarm under a name the run would write watches another rule (an old-style name equal to
  ours, a cut name whose hash collides, an alarm made by hand);
- the topic's publish statement (topics.py) lets a source bucket of no rule of this config
  publish, and an alarm of the tool on that bucket's rules still acts on the topic;
- the dashboard shows a rule of a source bucket of no rule of this config, and an alarm of the
  tool still watches that rule.

A bucket no alarm of the tool watches any more is no config's: the run drops it, as before.
"""

from __future__ import annotations

from typing import Any

from ..aws.calls import explain, policy_document, read_or_none
from ..engine.context import Context
from ..engine.scope import Scope
from ..errors import NameTaken, ReplicationToolError
from . import alarm_names, alarms, dashboard
from .lanes import topic_regions
from .metrics import watched_rule
from .topics import STATEMENT_SID, topic_arn


class RegionAlarms:
    """Each Region's alarms of the tool, read once by this check (and then kept for the alarms
    lane of the run, alarms.read_region)."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.found: dict[str, list[dict[str, Any]]] = {}

    def __call__(self, region: str) -> list[dict[str, Any]]:
        if region not in self.found:
            self.found[region] = alarms.read_region(self.ctx, region)
        return self.found[region]

    def of_rule(self, region: str, source: str, rule_id: str) -> list[dict[str, Any]]:
        """The tool's alarms in `region` that watch rule `rule_id` of `source` (any rule of it
        when `rule_id` is empty)."""
        return [a for a in self(region) if alarm_names.made_by_tool(a) and (
            watched := watched_rule(a.get("Dimensions") or [])) is not None
            and watched[0] == source and rule_id in ("", watched[1])]


def alarm_clashes(ctx: Context, scope: Scope, found: RegionAlarms) -> list[str]:
    problems = []
    for source in scope.sources:
        for rule in scope.wanted_rules(source.name):
            # each one's item
            for check in (alarm_names.FAILED, alarm_names.SLOW, alarm_names.BACKLOG):
                name = alarm_names.alarm_name(rule.source, rule.id, check)
                region = alarm_names.alarm_region(ctx, rule, check)
                alarm = next((a for a in found(region) if a["AlarmName"] == name), None)
                if alarm is not None and not alarm_names.watches(alarm, rule):
                    problems.append(
                        f"alarm {name} ({region}) watches {alarm_names.watched_text(alarm)}, "
                        f"but it is the name of the {check.suffix} "
                        f"alarm of rule {rule.id} of bucket {rule.source} ({rule.setting}); "
                        "rename or delete that alarm (if an older version of this tool made it "
                        "for another config, apply that config first: it renames its alarms)")
    return problems


def _statement_buckets(attributes: dict[str, Any] | None) -> list[str]:
    """The source buckets our publish statement on the topic names."""
    statements = (policy_document((attributes or {}).get("Policy")) or {}).get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        if statement.get("Sid") == STATEMENT_SID:
            arns = statement.get("Condition", {}).get("ArnLike", {}).get("aws:SourceArn", [])
            return [arn.rsplit(":", 1)[-1] for arn in ([arns] if isinstance(arns, str) else arns)]
    return []


def topic_clashes(ctx: Context, region: str, found: RegionAlarms) -> list[str]:
    arn = topic_arn(ctx, region)
    sns = ctx.clients.get("sns", region)
    attributes = read_or_none(lambda: sns.get_topic_attributes(TopicArn=arn)["Attributes"],
                              "NotFound", "ResourceNotFound")
    problems = []
    for bucket in _statement_buckets(attributes):
        if bucket in ctx.config.buckets:
            continue
        acting = [a for a in found.of_rule(region, bucket, "") if arn in a.get("AlarmActions", [])]
        if acting:
            problems.append(
                f"SNS topic {ctx.config.monitoring.sns_topic} ({region}) carries the alerts of "
                f"source bucket {bucket}, which is in no rule of this config (alarm "
                f"{acting[0]['AlarmName']} acts on the topic): it is another config's topic; "
                'give this config a MONITORING["sns_topic"] of its own')
    return problems


def dashboard_clashes(ctx: Context, found: RegionAlarms) -> list[str]:
    name, home = ctx.config.monitoring.dashboard, dashboard.home_region(ctx)
    if not name or not home:
        return []
    cloudwatch = ctx.clients.get("cloudwatch", home)
    body = read_or_none(lambda: cloudwatch.get_dashboard(DashboardName=name)["DashboardBody"],
                        "ResourceNotFound")
    problems: list[str] = []
    for source, rule_id, region in dashboard.shown_rules(body, home):
        if source in ctx.config.buckets:
            continue
        watching = found.of_rule(region, source, rule_id)
        if watching:
            problem = (f"dashboard {name} shows rule {rule_id} of bucket {source} ({region}), "
                       f"which is in no rule of this config (alarm {watching[0]['AlarmName']} "
                       "watches it): it is another config's dashboard; give this config a "
                       'MONITORING["dashboard"] of its own')
            if problem not in problems:
                problems.append(problem)
    return problems


def check(ctx: Context, scope: Scope) -> None:
    """Refuse the run (NameTaken, every clash) when a name it would write is another's."""
    sources = scope.sources
    if not sources:
        return
    found = RegionAlarms(ctx)
    try:
        problems = alarm_clashes(ctx, scope, found)
        for region in topic_regions(ctx, scope):
            problems += topic_clashes(ctx, region, found)
        problems += dashboard_clashes(ctx, found)
    except ReplicationToolError:
        raise
    except Exception as exc:  # every failure becomes one named line
        raise explain(exc, "checking the names of the alarms, topics and dashboard") from exc
    if problems:
        raise NameTaken(problems)
