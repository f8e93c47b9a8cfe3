"""`status`: how each of this script's rules is doing, from its alarms and the last 15 minutes
of its replication metrics. Per source Region: one describe_alarms call and GetMetricData in
batches of up to 500 queries. Read only.

Verdict per rule: `attention` when an alarm is in ALARM or missing ("run apply"), when an RTC
rule's latest latency reached the threshold, or when operations failed in the window;
otherwise `healthy` when there are figures, `no data yet` when there are none (metrics appear
about 15 minutes after a rule is made, and only once objects replicate). Exit 0 unless a rule
needs attention (3).
"""

from __future__ import annotations

import argparse
from typing import Any

from ..aws.calls import explain
from ..aws.naming import script_name
from ..config.model import RuleSpec
from ..engine.context import Context
from ..engine.items import parallel_map
from ..errors import ExitStatus
from ..monitoring import alarms, metrics
from ..output.results import Outcome

HEALTHY, ATTENTION, NO_DATA = "healthy", "attention", "no data yet"
FIGURES = {"latency_seconds": metrics.LATENCY, "pending_operations": metrics.PENDING_OPERATIONS,
           "pending_bytes": metrics.PENDING_BYTES, "failed_operations": metrics.FAILED_OPERATIONS}
STATE = {"OK": "OK", "ALARM": "ALARM", "INSUFFICIENT_DATA": "NODATA", None: "MISSING"}
COLUMNS = ("RULE", "SOURCE -> DESTINATION", "RTC", "ALARMS f/l/b", "LATENCY s", "PENDING ops",
           "PENDING bytes", "FAILED", "VERDICT")


def _look(ctx: Context, region: str, rules: list[RuleSpec]) -> tuple[dict, dict]:
    cloudwatch = ctx.clients.get("cloudwatch", region)
    try:
        found = {a["AlarmName"]: a for a in alarms.read_alarms(cloudwatch)}
        return found, metrics.latest_figures(cloudwatch, rules)
    except Exception as exc:  # noqa: BLE001 - every failure becomes one named line
        raise explain(exc, f"reading replication alarms and metrics in {region}") from exc


def rule_status(ctx: Context, rule: RuleSpec, found: dict[str, Any],
                figures: dict[str, float | None]) -> dict[str, Any]:
    reasons, states = [], {}
    for check in alarms.checks(rule):
        name = alarms.alarm_name(rule.id, check)
        state = found[name]["StateValue"] if name in found else None
        states[check.suffix] = state
        if state is None:
            reasons.append(f"alarm {name} is missing: run apply")
        elif state == "ALARM":
            reasons.append(f"alarm {name} is in ALARM: {check.meaning}")
    seen = {key: figures.get(metric) for key, metric in FIGURES.items()}
    limit = ctx.config.monitoring.latency_threshold_seconds
    if rule.rtc and seen["latency_seconds"] is not None and seen["latency_seconds"] >= limit:
        reasons.append(f"latency {seen['latency_seconds']:g} s reached the threshold of "
                       f"{limit:g} s")
    if seen["failed_operations"]:
        reasons.append(f"{seen['failed_operations']:g} operations failed to replicate in the "
                       f"last {metrics.WINDOW_MINUTES} minutes")
    verdict = ATTENTION if reasons else (
        NO_DATA if all(v is None for v in seen.values()) else HEALTHY)
    return {"rule": rule.id, "source": rule.source, "destination": rule.destination,
            "rtc": rule.rtc, "alarms": states, "figures": seen, "verdict": verdict,
            "reasons": reasons}


def status(ctx: Context, args: argparse.Namespace) -> Outcome:
    rules = list(ctx.rules)
    regions = sorted({ctx.bucket(r.source).region for r in rules})
    by_region = {region: [r for r in rules if ctx.bucket(r.source).region == region]
                 for region in regions}
    looked = dict(zip(regions, parallel_map(lambda g: _look(ctx, g, by_region[g]), regions),
                      strict=True))
    rows = []
    for rule in rules:
        found, figures = looked[ctx.bucket(rule.source).region]
        rows.append(rule_status(ctx, rule, found, figures[rule.id]))
    code = ExitStatus.ATTENTION if any(r["verdict"] == ATTENTION for r in rows) else ExitStatus.OK
    data = {"script": script_name(ctx.kind), "command": "status", "status": int(code),
            "window_minutes": metrics.WINDOW_MINUTES, "rules": rows}
    return Outcome(code, _text(ctx, rows), data)


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _text(ctx: Context, rows: list[dict[str, Any]]) -> str:
    if not rows:
        return f"{script_name(ctx.kind)}.py has no rules in the config."
    table = [COLUMNS] + [(
        row["rule"], f"{row['source']} -> {row['destination']}", "on" if row["rtc"] else "off",
        "/".join(STATE.get(row["alarms"].get(c), "?") if c in row["alarms"] else "-"
                 for c in (alarms.FAILED.suffix, alarms.SLOW.suffix, alarms.BACKLOG.suffix)),
        *(_figure(row["figures"][key]) for key in FIGURES), row["verdict"],
    ) for row in rows]
    widths = [max(len(line[n]) for line in table) for n in range(len(COLUMNS))]
    lines = [f"Replication status of {script_name(ctx.kind)}.py's rules "
             f"(last {metrics.WINDOW_MINUTES} minutes):"]
    lines += ["  " + "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
              for line in table]
    lines.append("  (ALARMS: states of the failed-operations/latency/backlog alarms; NODATA: "
                 "insufficient data; -: no such alarm for the rule)")
    for row in rows:
        lines += [f"  {row['rule']}: {reason}" for reason in row["reasons"]]
    return "\n".join(lines)
