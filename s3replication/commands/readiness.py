"""`readiness [NAME]`: before a failover, the checks AWS advises for the buckets of each
Multi-Region Access Point, each passed or failed with its evidence
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/MrapFailover.html,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointBucketReplication.html):

- versioning on every bucket;
- two-way replication: between every two buckets, an enabled rule each way, with replica
  modification sync (so metadata changes made during a failover flow back);
- RTC and replication metrics on those rules;
- backlog: latency of those rules in CloudWatch under the latency threshold, no failed
  operations, and for failback no pending operations toward the buckets that take the traffic
  back; no pending figure leaves the check `unknown` (shown as such; failback refuses on it);
- a canary written to each bucket reaches each other bucket (every direction, with the rule of
  the config between them); one that did not arrive in time fails;
- the current routes (information).

Exit 0 when every check passes, 3 when one does not.
"""

from __future__ import annotations

import argparse
from collections.abc import Collection
from itertools import permutations
from typing import Any

from ..aws.calls import explain, read_or_none
from ..aws.naming import script_name
from ..config.model import AccessPointSpec, RuleSpec
from ..engine.context import Context
from ..errors import ExitStatus, UsageError
from ..monitoring import metrics
from ..output.failover_results import AccessPointReadiness, Check, ReadinessResult
from ..resources.access_point_routes import read_routes
from ..resources.access_points import access_point_arn, read_access_point

CANARY_TIMEOUT = 120.0  # seconds for each canary by default


def readiness(ctx: Context, args: argparse.Namespace) -> ReadinessResult:
    chosen = chosen_access_points(ctx, getattr(args, "name", None))
    timeout = getattr(args, "timeout", None) or CANARY_TIMEOUT
    found = [check_access_point(ctx, spec, timeout) for spec in chosen]
    ready = all(a.ready for a in found)
    return ReadinessResult(script_name(ctx.kind),
                           ExitStatus.OK if ready else ExitStatus.ATTENTION, found)


def chosen_access_points(ctx: Context, name: str | None) -> list[AccessPointSpec]:
    points = ctx.config.access_points
    if name is None:
        if not points:
            raise UsageError("the config has no ACCESS_POINTS")
        return list(points.values())
    if name not in points:
        raise UsageError(f"no access point {name!r} in ACCESS_POINTS "
                         f"(it has: {', '.join(points) or 'none'})")
    return [points[name]]


def check_access_point(ctx: Context, spec: AccessPointSpec, canary_timeout: float,
                       catching_up: Collection[str] = ()) -> AccessPointReadiness:
    """`catching_up`: failback's buckets that take the traffic back (see backlog_check)."""
    found = read_access_point(ctx, spec.name)
    if found is None:
        missing = Check("access point", False, [f"{spec.name} does not exist: run apply"])
        return AccessPointReadiness(spec.name, None, {}, [missing])
    routes = read_routes(ctx, access_point_arn(ctx, found["Alias"]))
    pairs = live_rules(ctx, spec)
    checks = [versioning_check(ctx, spec), two_way_check(spec, pairs), rtc_check(pairs),
              backlog_check(ctx, spec, pairs, catching_up),
              canary_check(ctx, spec, canary_timeout),
              Check("routes", True, [f"{b}: {dial}" for b, dial in sorted(routes.items())])]
    return AccessPointReadiness(spec.name, found["Alias"], routes, checks)


def versioning_check(ctx: Context, spec: AccessPointSpec) -> Check:
    seen = {b: ctx.s3_of(ctx.bucket(b)).get_bucket_versioning(Bucket=b).get("Status")
            for b in spec.buckets}
    return Check("versioning", all(s == "Enabled" for s in seen.values()),
                 [f"{b}: {s or 'never enabled'}" for b, s in seen.items()])


def live_rules(ctx: Context, spec: AccessPointSpec) -> dict[tuple[str, str], dict[str, Any]]:
    """(source, destination) -> the first enabled rule between two members, as S3 has it."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for source in spec.buckets:
        answer = _replication(ctx, source)
        for rule in (answer or {}).get("ReplicationConfiguration", {}).get("Rules", []):
            target = str(rule.get("Destination", {}).get("Bucket", "")).split(":::")[-1]
            if target in spec.buckets and rule.get("Status") == "Enabled":
                found.setdefault((source, target), rule)
    return found


def _replication(ctx: Context, source: str) -> Any:
    s3 = ctx.s3_of(ctx.bucket(source))
    return read_or_none(lambda: s3.get_bucket_replication(Bucket=source),
                        "ReplicationConfigurationNotFoundError")


def two_way_check(spec: AccessPointSpec, pairs: dict[tuple[str, str], dict[str, Any]]) -> Check:
    evidence, ok = [], True
    for pair in permutations(spec.buckets, 2):
        rule = pairs.get(pair)
        sync = rule is not None and rule.get("SourceSelectionCriteria", {}).get(
            "ReplicaModifications", {}).get("Status") == "Enabled"
        ok = ok and sync
        evidence.append(f"{pair[0]} -> {pair[1]}: " + (
            "no enabled rule" if rule is None else
            f"rule {rule.get('ID')}" + ("" if sync else ", replica modification sync off")))
    return Check("two-way replication", ok, evidence)


def rtc_check(pairs: dict[tuple[str, str], dict[str, Any]]) -> Check:
    evidence, ok = [], bool(pairs)
    for (source, target), rule in sorted(pairs.items()):
        destination = rule.get("Destination", {})
        rtc = destination.get("ReplicationTime", {}).get("Status") == "Enabled"
        measured = destination.get("Metrics", {}).get("Status") == "Enabled"
        ok = ok and rtc and measured
        evidence.append(f"{source} -> {target} ({rule.get('ID')}): RTC "
                        f"{'on' if rtc else 'off'}, metrics {'on' if measured else 'off'}")
    return Check("RTC and metrics", ok, evidence or ["no rule between the buckets"])


def backlog_check(ctx: Context, spec: AccessPointSpec,
                  pairs: dict[tuple[str, str], dict[str, Any]],
                  catching_up: Collection[str] = ()) -> Check:
    """Per rule between the buckets, from CloudWatch (monitoring/metrics.py): the latency under
    latency_threshold_seconds and no failed operations in the last 15 minutes (S3 does not
    retry them: "If object replication fails after you upload an object, you can't retry
    replication", https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-status.html).
    Toward a bucket of `catching_up` (failback: the buckets that take the traffic back), no
    pending operation either: an outage leaves the writes made meanwhile PENDING, not FAILED
    ("For temporary failures, such as if a bucket or Region is unavailable, replication status
    will not transition to FAILED, but will remain PENDING", same page), so the old primary
    has caught up only once they are gone. No pending figure is no evidence of an empty
    backlog (S3 publishes it even when nothing replicates): the check is then `unknown`, for
    the rules toward `catching_up` when given, for every rule otherwise."""
    threshold = ctx.config.monitoring.latency_threshold_seconds
    evidence = [f"latency threshold {threshold} s; failures over the last "
                f"{metrics.WINDOW_MINUTES} minutes"]
    ok, unknown = True, False
    for (source, target), rule in sorted(pairs.items()):
        latency, pending, failed = _backlog_figures(ctx, str(rule.get("ID")), source, target)
        problems = []
        if failed:
            problems.append(f"{failed:g} operations failed to replicate")
        if latency is not None and latency >= threshold:
            problems.append("latency over the threshold")
        if pending and target in catching_up:
            problems.append(f"{target} takes the traffic and has not caught up")
        ok = ok and not problems
        if pending is None:
            unknown = unknown or not catching_up or target in catching_up
            problems.append(f"backlog unknown: no pending figure in CloudWatch in "
                            f"{ctx.bucket(target).region} (metrics off, a rule younger than "
                            "15 minutes, or S3 not publishing)")
        evidence.append(f"{source} -> {target} ({rule.get('ID')}): latency "
                        f"{_figure(latency, 's')}, pending {_figure(pending, 'operations')}, "
                        f"failed {failed or 0:g}" + "".join(f"; {p}" for p in problems))
    return Check("backlog", ok, evidence, unknown=ok and unknown)


def _backlog_figures(ctx: Context, rule_id: str, source: str,
                     target: str) -> tuple[float | None, float | None, float | None]:
    """(latency, pending operations, failed operations) of one rule, each read in the Region
    S3 publishes it in (metrics.published_in)."""
    as_spec = RuleSpec(rule_id, ctx.kind, source, target)
    regions = (ctx.bucket(source).region, ctx.bucket(target).region)
    found: dict[str, float | None] = {}
    for region in dict.fromkeys(regions):
        names = [m for m in (metrics.LATENCY, metrics.PENDING_OPERATIONS,
                             metrics.FAILED_OPERATIONS)
                 if metrics.published_in(m, *regions) == region]
        cloudwatch = ctx.clients.get("cloudwatch", region)
        found.update(metrics.latest_figures(cloudwatch, [as_spec], names=names)[rule_id])
    return (found[metrics.LATENCY], found[metrics.PENDING_OPERATIONS],
            found[metrics.FAILED_OPERATIONS])


def _figure(value: float | None, unit: str) -> str:
    return "no data" if value is None else f"{value:g} {unit}"


def canary_check(ctx: Context, spec: AccessPointSpec, timeout: float) -> Check:
    from .verify import run_canary

    evidence, ok = [], True
    for source, target in permutations(spec.buckets, 2):
        rule = _config_rule(ctx, source, target)
        if rule is None:
            ok = False
            evidence.append(f"{source} -> {target}: no rule of the config to test")
            continue
        try:
            canary = run_canary(ctx, rule, timeout, timeout)
        except Exception as exc:  # noqa: BLE001 - reported as the check's evidence
            canary_ok, words = False, str(explain(exc, f"canary {source} -> {target}"))
        else:
            canary_ok = bool(canary.replicated and not canary.error)
            words = (f"replicated in {canary.latency_seconds} s" if canary_ok
                     else canary.error or f"not replicated within {timeout:.0f} s")
        ok = ok and canary_ok
        evidence.append(f"{source} -> {target} ({rule.id}): {words}")
    return Check("canary", ok, evidence)


def _config_rule(ctx: Context, source: str, target: str) -> RuleSpec | None:
    return next((r for r in ctx.config.all_rules()
                 if r.source == source and r.destination == target), None)
