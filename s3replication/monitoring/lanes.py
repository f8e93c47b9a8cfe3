"""Monitoring of replication: an SNS topic in each Region of a source bucket or an alarm, each
source bucket's replication event notification, alarms per rule (each in the Region of its
metric, alarms.py), and one dashboard.

Alarms belong to the script of their rule (alarms.py). The topic and its policy, each bucket's
notification entry and the dashboard are shared by both scripts, so both must want the same
value for them, or each run would show drift for the other. Both derive them from the same
rules, the *served* rules of a source bucket:

- this script's config rules on the bucket (none when destroying), and
- the other script's config rules on it that the other script has recorded as its own in the
  bucket's ownership tags (resources/ownership.py), i.e. that it has created and not yet removed.

So after `cr destroy`, `sr plan` is clean, and a shared part goes away only when no rule of
either script uses it any more. Across configs nothing is shared: alarm names hold the source
bucket (alarms.py), and a topic or dashboard another config uses is refused (names.py).
"""

from __future__ import annotations

from ..config.model import CRR, SRR, RuleSpec
from ..engine.context import Context
from ..engine.items import Item
from ..engine.scope import Scope
from ..resources import ownership
from ..resources.bucket_tags import read_tags
from . import alarm_names, alarms, dashboard, notifications, topics


def served_rules(ctx: Context, scope: Scope) -> dict[str, list[RuleSpec]]:
    """Source bucket name -> the rules its shared parts serve, for every bucket that is a
    source in the config or of the scope, in the order of BUCKETS; rules in the config's
    order."""
    other = SRR if ctx.kind == CRR else CRR
    named = {r.source for r in ctx.config.all_rules()} | {s.name for s in scope.sources}
    served: dict[str, list[RuleSpec]] = {}
    for name, bucket in ctx.config.buckets.items():
        if name not in named:
            continue
        theirs = [r for r in ctx.config.rules(other) if r.source == name]
        if theirs:
            tags = read_tags(ctx, bucket)
            theirs = [r for r in theirs if ownership.owns(other, tags, r.id)]
        chosen = {r.id for r in scope.wanted_rules(name)} | {r.id for r in theirs}
        served[name] = [r for r in ctx.config.all_rules() if r.id in chosen]
    return served


def _users(ctx: Context, served: dict[str, list[RuleSpec]], region: str) -> list[str]:
    """The source buckets of `region` whose rules the topic serves (its publish statement)."""
    return [n for n, rules in served.items() if rules and ctx.bucket(n).region == region]


def _alarmed(ctx: Context, served: dict[str, list[RuleSpec]], region: str) -> bool:
    """Whether an alarm of a served rule lives in `region` (alarm_names.alarm_region): an alarm's
    action must be a topic of its own Region, so the topic is wanted there too."""
    return any(alarm_names.alarm_region(ctx, rule, check) == region
               for rules in served.values() for rule in rules for check in alarm_names.checks(rule))


def topic_regions(ctx: Context, scope: Scope) -> list[str]:
    """The Regions where a topic may be wanted or going away: the sources' (their
    notification entries) and those of the alarms (alarms.alarm_regions)."""
    return sorted({s.region for s in scope.sources} | set(alarms.alarm_regions(ctx, scope)))


def topic_lanes(ctx: Context, scope: Scope) -> list[list[Item]]:
    """Per Region of a source or an alarm, the topic when it is wanted: made before the rules,
    beside the keys and buckets (the "topics" stage), since it needs none of them."""
    if not scope.sources:
        return []
    served = served_rules(ctx, scope)
    return [topics.items(ctx, region, _users(ctx, served, region), True) for region in
            topic_regions(ctx, scope) if _users(ctx, served, region)
            or _alarmed(ctx, served, region)]


def lanes(ctx: Context, scope: Scope) -> list[list[Item]]:
    """Per Region of a source or an alarm: the sources' notification entries in one lane,
    with the topic after them when it is going away, before them in destroy (apply and plan
    make a wanted topic in the topics stage); per Region of an alarm, the alarms in another
    lane (alarms.lanes); then the dashboard."""
    sources = scope.sources
    if not sources:
        return []
    served = served_rules(ctx, scope)
    result: list[list[Item]] = []
    for region in topic_regions(ctx, scope):
        here = [s for s in sources if s.region == region]
        users = _users(ctx, served, region)
        wanted = bool(users) or _alarmed(ctx, served, region)
        entries = [notifications.item(ctx, s, served[s.name]) for s in here]
        # S3 checks that it may publish to the topic when the entry is written: topic first
        # (in apply and plan, the topics stage made it), unless the topic is going away, when
        # the entries must go first.
        if wanted and not scope.removing:
            if entries:
                result.append(entries)
        else:
            topic = topics.items(ctx, region, users, wanted)
            result.append(topic + entries if wanted else entries + topic)
    result += alarms.lanes(ctx, scope)
    name, home = ctx.config.monitoring.dashboard, dashboard.home_region(ctx)
    if name and home:
        every_rule = [r for rules in served.values() for r in rules]
        result.append([dashboard.item(ctx, name, home, every_rule)])
    return result
