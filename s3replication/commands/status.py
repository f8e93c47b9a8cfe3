"""`status`: how each of this script's rules is doing, from its alarms and the last 15 minutes
of its replication metrics. Per Region of a rule's source or destination: one describe_alarms
call and GetMetricData in batches of up to 500 queries, for the figures S3 publishes in that
Region (latency and pending in the destination's, failures in the source's:
https://docs.aws.amazon.com/AmazonS3/latest/userguide/repl-metrics.html). Read only.

Verdict per rule: `attention` when an alarm is in ALARM or missing ("run apply"), when an RTC
rule's latest latency reached the threshold, or when operations failed in the window;
otherwise `healthy` when there are figures, `no data yet` when there are none (metrics appear
about 15 minutes after a rule is made, and only once objects replicate). Exit 0 unless a rule
needs attention (3).
"""

from __future__ import annotations

import argparse
from typing import Any

from ..aws.calls import explain, read_or_none
from ..aws.naming import script_name
from ..config.model import CRR, BucketSpec, RuleSpec
from ..engine.context import Context
from ..engine.items import parallel_map
from ..errors import ExitStatus
from ..monitoring import alarm_names, alarms, metrics
from ..output.results import RuleHealth, StatusResult

HEALTHY, ATTENTION, NO_DATA = "healthy", "attention", "no data yet"
FIGURES = {"latency_seconds": metrics.LATENCY, "pending_operations": metrics.PENDING_OPERATIONS,
           "pending_bytes": metrics.PENDING_BYTES, "failed_operations": metrics.FAILED_OPERATIONS}


def _look(ctx: Context, region: str, rules: list[RuleSpec]) -> tuple[list, dict]:
    """The tool's alarms in `region`, and the figures of `rules` that S3 publishes there."""
    cloudwatch = ctx.clients.get("cloudwatch", region)

    def published_here(rule: RuleSpec) -> list[str]:
        source, destination = ctx.bucket(rule.source).region, ctx.bucket(rule.destination).region
        return [m for m in FIGURES.values()
                if metrics.published_in(m, source, destination) == region]
    try:
        return alarms.read_alarms(cloudwatch), metrics.latest_figures(
            cloudwatch, rules, metrics_of=published_here)
    except Exception as exc:  # every failure becomes one named line
        raise explain(exc, f"reading replication alarms and metrics in {region}") from exc


def rule_status(ctx: Context, rule: RuleSpec, found: dict[str, list[dict[str, Any]]],
                figures: dict[str, float | None]) -> RuleHealth:
    """The rule's verdict, from the tool's alarms by Region (`found`) and the rule's figures.
    Its alarms are found under their names in their Regions, or, until apply renames or moves
    them, where an older version left them (alarm_names.earlier_alarms)."""
    reasons: list[str] = []
    states: dict[str, str | None] = {}
    for check in alarm_names.checks(rule):
        region = alarm_names.alarm_region(ctx, rule, check)
        name = alarm_names.alarm_name(rule.source, rule.id, check)
        alarm = next((a for a in found[region] if a["AlarmName"] == name), None)
        if alarm is None and (earlier := alarm_names.earlier_alarms(ctx, found, rule, check)):
            region, name = earlier[0]
            alarm = next(a for a in found[region] if a["AlarmName"] == name)
        if alarm is not None and not alarm_names.watches(alarm, rule):  # another config's
            states[check.suffix] = None
            reasons.append(f"alarm {name} watches {alarm_names.watched_text(alarm)}, not this rule")
            continue
        state = alarm["StateValue"] if alarm is not None else None
        states[check.suffix] = state
        if state is None:
            reasons.append(f"alarm {name} is missing: run apply")
        elif state == "ALARM":
            reasons.append(f"alarm {name} is in ALARM: {check.meaning}")
    seen = {key: figures.get(metric) for key, metric in FIGURES.items()}
    limit = ctx.config.monitoring.latency_threshold_seconds
    latency = seen["latency_seconds"]
    if rule.rtc and latency is not None and latency >= limit:
        reasons.append(f"latency {latency:g} s reached the threshold of {limit:g} s")
    if seen["failed_operations"]:
        reasons.append(f"{seen['failed_operations']:g} operations failed to replicate in the "
                       f"last {metrics.WINDOW_MINUTES} minutes")
    verdict = ATTENTION if reasons else (
        NO_DATA if all(v is None for v in seen.values()) else HEALTHY)
    return RuleHealth(rule=rule.id, source=rule.source, destination=rule.destination,
                      rtc=rule.rtc, alarms=states, figures=seen, verdict=verdict,
                      reasons=reasons)


def status(ctx: Context, args: argparse.Namespace) -> StatusResult:
    rules = list(ctx.rules)

    def regions_of(rule: RuleSpec) -> set[str]:
        """Where its alarms and figures are: the source's Region and the destination's
        (metrics.published_in), and where older versions put its alarms (the source's)."""
        return {ctx.bucket(rule.source).region, ctx.bucket(rule.destination).region}

    regions = sorted({region for rule in rules for region in regions_of(rule)})
    by_region = {region: [r for r in rules if region in regions_of(r)] for region in regions}
    looked = dict(zip(regions, parallel_map(lambda g: _look(ctx, g, by_region[g]), regions),
                      strict=True))
    found = {region: alarms_found for region, (alarms_found, _) in looked.items()}
    rows = []
    for rule in rules:
        figures: dict[str, float | None] = {}
        for region in sorted(regions_of(rule)):
            figures.update(looked[region][1][rule.id])
        rows.append(rule_status(ctx, rule, found, figures))
    code = ExitStatus.ATTENTION if any(r.verdict == ATTENTION for r in rows) else ExitStatus.OK
    locks = object_locks(ctx)
    if any(lock.get("attention") for lock in locks.values()):
        code = ExitStatus.ATTENTION
    return StatusResult(script=script_name(ctx.kind), status=code,
                        window_minutes=metrics.WINDOW_MINUTES, rules=rows,
                        access_points=access_point_routes(ctx), object_lock=locks)


def object_locks(ctx: Context) -> dict[str, dict[str, Any]]:
    """Each locked bucket of this script's rules (or one the config locks): {"mode", "days" or
    "years"}, read by GetObjectLockConfiguration through the account's reader
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectLockConfiguration.html);
    "attention" when the config asks for more than the bucket has (run apply)."""
    from ..resources.object_lock import as_seen, loosening, project_lock

    touched = ctx.touched_buckets()

    def read(bucket: BucketSpec) -> Any:
        s3 = ctx.s3_of(bucket)
        try:
            found = read_or_none(lambda: s3.get_object_lock_configuration(
                Bucket=bucket.name)["ObjectLockConfiguration"],
                "ObjectLockConfigurationNotFoundError", "NoSuchBucket")
        except Exception as exc:
            raise explain(exc, f"reading the Object Lock of bucket {bucket.name}") from exc
        return project_lock(None, found)  # type: ignore[arg-type]

    locks: dict[str, dict[str, Any]] = {}
    for bucket, seen in zip(touched, parallel_map(read, touched), strict=True):
        spec = bucket.object_lock
        if seen is None and spec is None:
            continue
        lock = dict(seen or {"enabled": False})
        if spec is not None and (seen is None or loosening(as_seen(spec), seen)):
            lock["attention"] = f"the config asks for {spec.describe()}: run apply"
        locks[bucket.name] = lock
    return locks


def access_point_routes(ctx: Context) -> dict[str, dict[str, int]]:
    """cr_replication.py: each access point's routes now ({} when it does not exist)."""
    if ctx.kind != CRR:
        return {}
    from ..resources.access_point_routes import read_routes
    from ..resources.access_points import access_point_arn, read_access_point

    def routes(name: str) -> dict[str, int]:
        found = read_access_point(ctx, name)
        return {} if found is None else read_routes(ctx, access_point_arn(ctx, found["Alias"]))

    names = list(ctx.config.access_points)
    return dict(zip(names, parallel_map(routes, names), strict=True))
