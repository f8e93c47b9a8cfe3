"""The CloudWatch dashboard `MONITORING["dashboard"]`: one row per rule (latency, pending
operations, pending bytes, failed operations), each widget reading the Region where S3
publishes its metric (the destination's for latency and pending, the source's for failures:
metrics.published_in), so that one dashboard shows every Region. It lives in the Region of
the first bucket of BUCKETS that any rule replicates from, and serves both scripts: its body is
built from the rules both agree on (see lanes.py), so either script's run leaves it as the
other wants.
The whole body is managed: a widget added by hand shows as drift.
"""

from __future__ import annotations

import json
from typing import Any

from ..aws.calls import is_not_found, read_or_none
from ..config.model import RuleSpec
from ..engine.context import Context
from ..engine.items import Item
from .metrics import (
    FAILED_OPERATIONS,
    LATENCY,
    NAMESPACE,
    PENDING_BYTES,
    PENDING_OPERATIONS,
    STATISTIC,
    published_in,
)

WIDTH, HEIGHT = 6, 6
PANELS = ((LATENCY, "latency (seconds)"), (PENDING_OPERATIONS, "pending operations"),
          (PENDING_BYTES, "pending bytes"), (FAILED_OPERATIONS, "failed operations"))


def home_region(ctx: Context) -> str | None:
    """The Region of the first bucket in BUCKETS that is the source of any rule in the config."""
    sources = {r.source for r in ctx.config.all_rules()}
    return next((b.region for n, b in ctx.config.buckets.items() if n in sources), None)


def widget(ctx: Context, rule: RuleSpec, metric: str, title: str, x: int, y: int) -> dict:
    properties: dict[str, Any] = {
        "metrics": [[NAMESPACE, metric, "SourceBucket", rule.source,
                     "DestinationBucket", rule.destination, "RuleId", rule.id]],
        "stat": STATISTIC[metric],
        "period": 300,
        "region": published_in(metric, ctx.bucket(rule.source).region,
                               ctx.bucket(rule.destination).region),
        "title": f"{rule.id} ({rule.source} -> {rule.destination}): {title}",
        "view": "timeSeries",
    }
    if metric == LATENCY and rule.rtc:
        properties["annotations"] = {"horizontal": [{
            "label": "alarm threshold",
            "value": ctx.config.monitoring.latency_threshold_seconds}]}
    return {"type": "metric", "x": x, "y": y, "width": WIDTH, "height": HEIGHT,
            "properties": properties}


def body(ctx: Context, rules: list[RuleSpec]) -> dict[str, Any] | None:
    if not rules:
        return None
    return {"widgets": [widget(ctx, rule, metric, title, column * WIDTH, row * HEIGHT)
                        for row, rule in enumerate(rules)
                        for column, (metric, title) in enumerate(PANELS)]}


def shown_rules(text: str | None, home: str) -> list[tuple[str, str, str]]:
    """(source bucket, rule id, Region) of each rule a dashboard body (JSON, as GetDashboard
    gives it) shows a replication metric of; a widget without a Region reads `home`'s."""
    try:
        widgets = json.loads(text).get("widgets", []) if text else []
    except (ValueError, AttributeError):  # not JSON of a dashboard: shows no rule of ours
        return []
    shown = []
    for widget in widgets if isinstance(widgets, list) else []:
        properties = widget.get("properties", {}) if isinstance(widget, dict) else {}
        for metric in properties.get("metrics", []) if isinstance(properties, dict) else []:
            if not isinstance(metric, list) or metric[:1] != [NAMESPACE]:
                continue
            words = [m for m in metric[2:] if isinstance(m, str)]  # without the options
            pairs = dict(zip(words[::2], words[1::2], strict=False))
            source, rule_id = pairs.get("SourceBucket"), pairs.get("RuleId")
            if isinstance(source, str) and isinstance(rule_id, str):
                shown.append((source, rule_id, str(properties.get("region") or home)))
    return list(dict.fromkeys(shown))


def by_title(found: Any) -> Any:
    """A body as {widget title: widget}, other keys kept: a plan then names each widget."""
    if found is None:
        return None
    widgets = {w.get("properties", {}).get("title", f"#{n}"): w
               for n, w in enumerate(found.get("widgets", []))}
    return {**{k: v for k, v in found.items() if k != "widgets"}, **widgets}


def item(ctx: Context, name: str, region: str, rules: list[RuleSpec]) -> Item:
    cloudwatch = ctx.clients.get("cloudwatch", region)
    wanted = body(ctx, rules)

    def read() -> Any:
        text = read_or_none(lambda: cloudwatch.get_dashboard(DashboardName=name)[
            "DashboardBody"], "ResourceNotFound")
        return None if text is None else json.loads(text)

    def write(_: Any) -> None:
        if wanted is None:
            try:
                cloudwatch.delete_dashboards(DashboardNames=[name])
            except Exception as exc:  # gone already: a retry whose answer was lost
                if not is_not_found(exc, "DashboardNotFoundError", "ResourceNotFound"):
                    raise
        else:
            cloudwatch.put_dashboard(DashboardName=name, DashboardBody=json.dumps(wanted))

    return Item(f"dashboard {name} ({region})", "widgets", by_title(wanted), read, write,
                project=by_title)
