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

Run while a Region may be down (cli_parser: `during_outage`): short timeouts, and a Region that
did not answer is called no more (aws/clients.py), so a check that needs it fails at once,
naming the Region and "unreachable", while the checks that need only live Regions still run
and count. The access point's alias comes from the config or its buckets' tags before
GetMultiRegionAccessPoint (us-west-2 only: resources/access_points.find_alias). The
independent checks (versioning, the rules, the routes) run at once; the canary after them,
and not at all for a `failover`/`failback --yes` once an earlier check failed (`stop_early`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Collection
from itertools import permutations
from typing import Any

from ..aws.calls import explain, read_or_none
from ..aws.naming import script_name
from ..config.model import AccessPointSpec, RuleSpec
from ..engine.context import Context
from ..engine.items import parallel_map
from ..errors import ExitStatus, RegionUnreachable, UsageError
from ..monitoring import metrics
from ..output.failover_results import AccessPointReadiness, Check, ReadinessResult
from ..resources.access_point_routes import read_routes
from ..resources.access_points import access_point_arn, find_alias

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
                       catching_up: Collection[str] = (),
                       stop_early: bool = False) -> AccessPointReadiness:
    """Every check of `spec`. `catching_up`: failback's buckets that take the traffic back (see
    backlog_check). With `stop_early` (failover/failback --yes), the canary is not run once
    another check failed: its wait could not change the answer."""
    try:
        alias = find_alias(ctx, spec)
    except Exception as exc:  # noqa: BLE001 - reported as the check's evidence
        missing = Check("access point", False, [why(exc, f"finding the alias of {spec.name}")])
        return AccessPointReadiness(spec.name, None, {}, [missing])
    if alias is None:
        missing = Check("access point", False, [f"{spec.name} does not exist: run apply"])
        return AccessPointReadiness(spec.name, None, {}, [missing])
    found: list[Any] = parallel_map(lambda read: read(), [
        lambda: versioning_check(ctx, spec), lambda: read_rules(ctx, spec),
        lambda: _routes_check(ctx, alias)])
    versioning, (pairs, unread), (routes, routes_seen) = found
    checks = [versioning, two_way_check(spec, pairs, unread), rtc_check(pairs, unread),
              _with_unread(_guarded("backlog", lambda: backlog_check(ctx, spec, pairs,
                                                                 catching_up)),
                           unread)]
    if stop_early and not all(c.ok for c in checks + [routes_seen]):
        checks.append(Check("canary", False, [
            "not run: an earlier check failed, so its answer could not change the outcome"]))
    else:
        checks.append(_guarded("canary", lambda: canary_check(ctx, spec, canary_timeout)))
    return AccessPointReadiness(spec.name, alias, routes, [*checks, routes_seen])


def why(exc: BaseException, doing: str) -> str:
    """A failure as one line of evidence; a Region found down as "REGION unreachable"."""
    if isinstance(exc, RegionUnreachable):
        return f"{exc.region} unreachable" + (f" ({exc.detail})" if exc.detail else "")
    return str(explain(exc, doing))


def _guarded(name: str, check: Callable[[], Check]) -> Check:
    """`check()`, or a failed check with the failure as its evidence (a Region down, ...)."""
    try:
        return check()
    except Exception as exc:  # noqa: BLE001 - reported as the check's evidence
        return Check(name, False, [why(exc, f"{name} check")])


def _with_unread(check: Check, unread: dict[str, str]) -> Check:
    """The check failed for the rules of the sources whose configuration was not read."""
    if not unread:
        return check
    return Check(check.name, False, check.evidence + [
        f"rules of {source}: not read, {reason}" for source, reason in sorted(unread.items())])


def _routes_check(ctx: Context, alias: str) -> tuple[dict[str, int], Check]:
    try:
        routes = read_routes(ctx, access_point_arn(ctx, alias))
    except Exception as exc:  # noqa: BLE001 - reported as the check's evidence
        return {}, Check("routes", False, [why(exc, "reading the routes")])
    return routes, Check("routes", True, [f"{b}: {dial}" for b, dial in sorted(routes.items())])


def versioning_check(ctx: Context, spec: AccessPointSpec) -> Check:
    def status(bucket: str) -> tuple[bool, str]:
        try:
            found = ctx.s3_of(ctx.bucket(bucket)).get_bucket_versioning(Bucket=bucket)
        except Exception as exc:  # noqa: BLE001 - reported as the check's evidence
            return False, why(exc, f"reading the versioning of {bucket}")
        return found.get("Status") == "Enabled", found.get("Status") or "never enabled"

    seen = parallel_map(status, spec.buckets)
    return Check("versioning", all(ok for ok, _ in seen),
                 [f"{b}: {words}" for b, (_, words) in zip(spec.buckets, seen, strict=True)])


def read_rules(ctx: Context, spec: AccessPointSpec,
               ) -> tuple[dict[tuple[str, str], dict[str, Any]], dict[str, str]]:
    """live_rules, and the sources whose configuration could not be read, with why."""
    def read(source: str) -> tuple[Any, str | None]:
        try:
            return _replication(ctx, source), None
        except Exception as exc:  # noqa: BLE001 - reported by the checks that need them
            return None, why(exc, f"reading the replication rules of {source}")

    found: dict[tuple[str, str], dict[str, Any]] = {}
    unread: dict[str, str] = {}
    for source, (answer, failure) in zip(spec.buckets, parallel_map(read, spec.buckets),
                                         strict=True):
        if failure is not None:
            unread[source] = failure
        for rule in (answer or {}).get("ReplicationConfiguration", {}).get("Rules", []):
            target = str(rule.get("Destination", {}).get("Bucket", "")).split(":::")[-1]
            if target in spec.buckets and rule.get("Status") == "Enabled":
                found.setdefault((source, target), rule)
    return found, unread


def live_rules(ctx: Context, spec: AccessPointSpec) -> dict[tuple[str, str], dict[str, Any]]:
    """(source, destination) -> the first enabled rule between two members, as S3 has it."""
    return read_rules(ctx, spec)[0]


def _replication(ctx: Context, source: str) -> Any:
    s3 = ctx.s3_of(ctx.bucket(source))
    return read_or_none(lambda: s3.get_bucket_replication(Bucket=source),
                        "ReplicationConfigurationNotFoundError")


def two_way_check(spec: AccessPointSpec, pairs: dict[tuple[str, str], dict[str, Any]],
                  unread: dict[str, str] | None = None) -> Check:
    evidence, ok = [], True
    for pair in permutations(spec.buckets, 2):
        if pair[0] in (unread or {}):
            ok = False
            evidence.append(f"{pair[0]} -> {pair[1]}: not known, {(unread or {})[pair[0]]}")
            continue
        rule = pairs.get(pair)
        sync = rule is not None and rule.get("SourceSelectionCriteria", {}).get(
            "ReplicaModifications", {}).get("Status") == "Enabled"
        ok = ok and sync
        evidence.append(f"{pair[0]} -> {pair[1]}: " + (
            "no enabled rule" if rule is None else
            f"rule {rule.get('ID')}" + ("" if sync else ", replica modification sync off")))
    return Check("two-way replication", ok, evidence)


def rtc_check(pairs: dict[tuple[str, str], dict[str, Any]],
              unread: dict[str, str] | None = None) -> Check:
    evidence, ok = [], bool(pairs) and not unread
    evidence += [f"rules of {source}: not read, {reason}"
                 for source, reason in sorted((unread or {}).items())]
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
