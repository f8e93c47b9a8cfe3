"""Readiness judges the backlog of the rules between an access point's buckets (issue 20, item
4), on moto's CloudWatch, which answers GetMetricData from the data points put, per Region and
per dimension; and failback refuses on a backlog it cannot see.

What AWS does, and these tests rely on:
- the replication metrics exist per rule, with the dimensions SourceBucket, DestinationBucket
  and RuleId; ReplicationLatency and OperationsPendingReplication are read as Maximum,
  OperationsFailedReplication as Sum
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/metrics-dimensions.html, "S3
  Replication metrics in CloudWatch");
- ReplicationLatency and OperationsPendingReplication are published in the Region of the
  destination bucket, and still published when nothing replicates; OperationsFailedReplication
  in the Region of the source bucket, and only when something replicates
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/repl-metrics.html, the table's
  "Which Region is this metric published in?" and "Is this metric still published if
  replication doesn't occur?"). So no pending figure is no evidence of an empty backlog;
- "For temporary failures, such as if a bucket or Region is unavailable, replication status
  will not transition to FAILED, but will remain PENDING", and a failed replication is not
  retried (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-status.html): the
  writes made during an outage wait, pending, for the old primary's Region to come back, and
  a failback before they are gone serves stale data.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from s3replication.aws.clients import Clients
from s3replication.commands import failover
from s3replication.commands.readiness import backlog_check
from s3replication.config import load_config
from s3replication.engine.context import Context
from s3replication.output.failover_results import AccessPointReadiness, Check
from s3replication.output.failover_text import readiness_lines

ACCOUNT = "123456789012"
EAST, WEST = "shop-web-use1", "shop-web-usw2"
REGION = {EAST: "us-east-1", WEST: "us-west-2"}
RULE = {(EAST, WEST): "east-to-west", (WEST, EAST): "west-to-east"}
THRESHOLD = 900


def write_config(tmp_path: Path) -> Path:
    path = tmp_path / "s3_config.py"
    path.write_text(f'''
BUCKETS = {{{EAST!r}: {{"region": "us-east-1"}}, {WEST!r}: {{"region": "us-west-2"}}}}
CRR_RULES = [
    {{"id": "east-to-west", "source": {EAST!r}, "destination": {WEST!r},
     "replica_modifications": True}},
    {{"id": "west-to-east", "source": {WEST!r}, "destination": {EAST!r},
     "replica_modifications": True}},
]
SRR_RULES = []
ACCESS_POINTS = {{"storefront": {{"buckets": [{EAST!r}, {WEST!r}], "active": [{EAST!r}]}}}}
MONITORING = {{"latency_threshold_seconds": {THRESHOLD}}}
LOG_FILE = {str(tmp_path / "log.txt")!r}
''')
    return path


@pytest.fixture
def ctx(moto_clients: Clients, tmp_path: Path) -> Context:
    return Context(config=load_config(write_config(tmp_path)), kind="crr", clients=moto_clients,
                   account=ACCOUNT)


def pairs() -> dict[tuple[str, str], dict[str, Any]]:
    """The two enabled rules, as GetBucketReplication shows them (readiness.live_rules)."""
    return {(s, d): {"ID": rule, "Status": "Enabled",
                     "Destination": {"Bucket": f"arn:aws:s3:::{d}"}}
            for (s, d), rule in RULE.items()}


def publish(clients: Clients, source: str, destination: str, region: str | None = None,
            ago: float = 120, **values: float) -> None:
    """Data points `ago` seconds old, as S3 publishes them for the rule source -> destination:
    in `region`, by default the destination's (the failures: the source's)."""
    when = datetime.now(UTC) - timedelta(seconds=ago)
    dimensions = [{"Name": "SourceBucket", "Value": source},
                  {"Name": "DestinationBucket", "Value": destination},
                  {"Name": "RuleId", "Value": RULE[(source, destination)]}]
    for name, value in values.items():
        where = region or REGION[source if name == "OperationsFailedReplication" else destination]
        clients.get("cloudwatch", where).put_metric_data(Namespace="AWS/S3", MetricData=[
            {"MetricName": name, "Value": value, "Timestamp": when, "Dimensions": dimensions}])


def caught_up(clients: Clients) -> None:
    """Both rules idle and healthy, as S3 shows them."""
    for source, destination in RULE:
        publish(clients, source, destination, ReplicationLatency=2,
                OperationsPendingReplication=0)


def line(check: Check, source: str, destination: str) -> str:
    return next(e for e in check.evidence if e.startswith(f"{source} -> {destination} "))


def test_pending_operations_toward_the_bucket_taking_the_traffic_back_fail_failback(
        ctx: Context, moto_clients: Clients) -> None:
    caught_up(moto_clients)
    # failed over to west, then writes there; east (the old primary) has not caught up yet
    publish(moto_clients, WEST, EAST, OperationsPendingReplication=1250, ReplicationLatency=40)
    back = backlog_check(ctx, ctx.config.access_points["storefront"], pairs(),
                         catching_up=[EAST])
    assert (back.ok, back.state) == (False, "FAIL")
    assert line(back, WEST, EAST) == (
        f"{WEST} -> {EAST} (west-to-east): latency 40 s, pending 1250 operations, failed 0; "
        f"{EAST} takes the traffic and has not caught up")
    assert line(back, EAST, WEST).endswith("pending 0 operations, failed 0")
    # the same figures do not stop readiness alone or a failover to west: pending operations
    # are the normal life of a busy bucket; the latency judges how far behind it is
    alone = backlog_check(ctx, ctx.config.access_points["storefront"], pairs())
    assert (alone.ok, alone.state) == (True, "ok"), alone.evidence
    # and once east has caught up (the latest figure), failback may go
    publish(moto_clients, WEST, EAST, ago=60, OperationsPendingReplication=0)
    assert backlog_check(ctx, ctx.config.access_points["storefront"], pairs(),
                         catching_up=[EAST]).state == "ok"


def test_failed_operations_fail_readiness_in_either_direction(
        ctx: Context, moto_clients: Clients) -> None:
    caught_up(moto_clients)
    publish(moto_clients, EAST, WEST, OperationsFailedReplication=3)
    found = backlog_check(ctx, ctx.config.access_points["storefront"], pairs())
    assert (found.ok, found.state) == (False, "FAIL")
    assert line(found, EAST, WEST).endswith("failed 3; 3 operations failed to replicate")
    assert line(found, WEST, EAST).endswith("failed 0")
    failback = backlog_check(ctx, ctx.config.access_points["storefront"], pairs(),
                             catching_up=[EAST])
    assert failback.state == "FAIL"  # west lacks those objects: the next failover would miss them


def test_no_pending_figure_is_unknown_not_an_empty_backlog(
        ctx: Context, moto_clients: Clients) -> None:
    found = backlog_check(ctx, ctx.config.access_points["storefront"], pairs())
    assert (found.ok, found.unknown, found.state) == (True, True, "unknown")
    assert line(found, WEST, EAST) == (
        f"{WEST} -> {EAST} (west-to-east): latency no data, pending no data, failed 0; backlog "
        "unknown: no pending figure in CloudWatch in us-east-1 (metrics off, a rule younger "
        "than 15 minutes, or S3 not publishing)")
    point = AccessPointReadiness("storefront", "alias.mrap", {}, [found])
    assert (point.ready, point.unknown) == (True, ["backlog"])  # readiness does not fail on it
    assert readiness_lines(point)[:2] == ["access point storefront (alias.mrap): ready "
                                          "(backlog unknown)", "  unknown backlog"]
    # failback counts only the rules toward the buckets taking the traffic back
    publish(moto_clients, WEST, EAST, ReplicationLatency=1, OperationsPendingReplication=0)
    failback = backlog_check(ctx, ctx.config.access_points["storefront"], pairs(),
                             catching_up=[EAST])
    assert (failback.state, failback.unknown) == ("ok", False), failback.evidence
    assert "backlog unknown" in line(failback, EAST, WEST)  # shown all the same


def test_figures_are_read_in_the_region_s3_publishes_them_in(
        ctx: Context, moto_clients: Clients) -> None:
    # in the wrong Regions: the pending figures in the sources', the failures in the
    # destinations'; none of them counts
    for source, destination in RULE:
        publish(moto_clients, source, destination, region=REGION[source],
                OperationsPendingReplication=0, ReplicationLatency=5000)
        publish(moto_clients, source, destination, region=REGION[destination],
                OperationsFailedReplication=7)
    found = backlog_check(ctx, ctx.config.access_points["storefront"], pairs())
    assert found.state == "unknown", found.evidence


@pytest.mark.parametrize("latency, state", [(THRESHOLD - 1, "ok"), (THRESHOLD, "FAIL")])
def test_latency_stays_under_the_threshold(ctx: Context, moto_clients: Clients, latency: float,
                                           state: str) -> None:
    """As the latency alarm (GreaterThanOrEqualToThreshold) and `status`: reaching the
    threshold is behind."""
    caught_up(moto_clients)
    publish(moto_clients, EAST, WEST, ReplicationLatency=latency)
    found = backlog_check(ctx, ctx.config.access_points["storefront"], pairs())
    assert found.state == state, found.evidence


# --- failback's decision -------------------------------------------------------------------------


class Routes:
    """The access point's routes, without S3 Control (moto has no route calls)."""

    def __init__(self) -> None:
        self.now = {EAST: 0, WEST: 100}
        self.readiness_for: list[list[str]] = []

    def install(self, monkeypatch: pytest.MonkeyPatch, backlog: Check) -> None:
        monkeypatch.setattr(failover, "find_alias", lambda ctx, spec: "a.mrap")
        monkeypatch.setattr(failover, "read_routes", lambda ctx, arn: dict(self.now))

        def submit(ctx: Context, arn: str, updates: list[dict[str, Any]]) -> dict[str, int]:
            self.now = {u["Bucket"]: u["TrafficDialPercentage"] for u in updates}
            return dict(self.now)

        def check(ctx: Context, spec: Any, timeout: float,
                  catching_up: Any = (), stop_early: bool = False) -> AccessPointReadiness:
            self.readiness_for.append(sorted(catching_up))
            return AccessPointReadiness(spec.name, "a.mrap", dict(self.now), [
                Check("versioning", True, []), backlog, Check("canary", True, [])])

        monkeypatch.setattr(failover, "submit_routes", submit)
        monkeypatch.setattr(failover, "check_access_point", check)


def failback(ctx: Context, *flags: str) -> Any:
    record = failover.record_path(ctx, "storefront")
    record.write_text(json.dumps({"access_point": "storefront", "routes": {EAST: 100, WEST: 0}}))
    return failover.failback(ctx, argparse.Namespace(
        name="storefront", yes=True, force="--force" in flags, timeout=1))


def test_failback_refuses_an_unknown_backlog_unless_forced(
        ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    routes = Routes()
    routes.install(monkeypatch, Check("backlog", True, ["no data"], unknown=True))
    refused = failback(ctx)
    assert (refused.done, int(refused.status)) == (False, 3)
    assert refused.message.startswith("refused: backlog unknown (see above)")
    assert routes.now == {EAST: 0, WEST: 100}
    assert routes.readiness_for == [[EAST]]  # judged toward the bucket taking the traffic back

    forced = failback(ctx, "--force")
    assert (forced.done, forced.forced, int(forced.status)) == (True, True, 0)
    assert routes.now == {EAST: 100, WEST: 0}


def test_failover_goes_on_an_unknown_backlog(ctx: Context,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The rules' metrics may be in the Region that is down: no data must not stop a failover."""
    routes = Routes()
    routes.now = {EAST: 100, WEST: 0}
    routes.install(monkeypatch, Check("backlog", True, ["no data"], unknown=True))
    moved = failover.failover(ctx, argparse.Namespace(
        name="storefront", to=WEST, yes=True, force=False, timeout=1))
    assert (moved.done, moved.forced, int(moved.status)) == (True, False, 0)
    assert routes.readiness_for == [[]]
    assert routes.now == {EAST: 0, WEST: 100}

