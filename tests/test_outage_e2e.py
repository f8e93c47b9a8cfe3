"""`readiness`, `failover` and `failback` while a Region is down, end to end on MiniStack behind
the outage stand-in of tests/faultproxy.py (every request signed for the Region held
unanswered, as an unreachable Regional endpoint behaves). Each command is timed.

What AWS does, and these tests rely on:
- route calls are served in five Regions (us-east-1, us-west-2, ap-southeast-2,
  ap-northeast-1, eu-west-1); when one is impaired, the call is made in another
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingFailover.html,
  https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_SubmitMultiRegionAccessPointRoutes.html);
- GetMultiRegionAccessPoint is served in us-west-2 only (botocore's s3control model: "will
  always be routed to the US West (Oregon) Region",
  https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_GetMultiRegionAccessPoint.html),
  so with us-west-2 down the alias must come from elsewhere (the buckets' tags);
- the route calls name the access point by its ARN, which holds its alias
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointRequests.html);
- STS has Regional endpoints, and botocore uses them by default ("regional"), so the run's
  first call need not reach us-east-1
  (https://docs.aws.amazon.com/sdkref/latest/guide/feature-sts-regionalized-endpoints.html);
- route changes take up to about two minutes on AWS
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/MrapFailover.html).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from botocore.config import Config

from s3replication import sandbox
from s3replication.aws import region_watch
from s3replication.aws.clients import Clients
from s3replication.aws.region_watch import FAIL_FAST_CONNECT, FAIL_FAST_READ, RegionWatch
from tests.faultproxy import FaultProxy
from tests.shop import Run
from tests.test_failover_e2e import Shop, applied, route_calls
from tests.test_failover_e2e import shop as shop

# A Region that is down costs one fail-fast timeout per run (aws/region_watch.py). The
# tests run with every fail-fast time (connect and read timeouts, the probe's wait) and every
# bound below scaled by TIME_SCALE: the same timeouts-to-bound ratio as with the tool's own
# 3/10/15 s and the bounds of issue 20 (90, 90, 120 s), in a quarter of the time.
TIME_SCALE = 0.25
READINESS_BOUND, REFUSAL_BOUND, FORCED_BOUND = (TIME_SCALE * s for s in (90.0, 90.0, 120.0))


@dataclass
class Outage:
    shop: Shop  # straight to MiniStack: set-up and checks
    through: Shop  # through the proxy: the commands under test
    proxy: FaultProxy

    def run(self, *argv: str) -> tuple[Run, float, int]:
        """The command through the proxy: its run, its wall time, and how many requests
        reached the Regions that are down."""
        held = sum(self.proxy.held.values())
        started = time.monotonic()
        done = self.through.run(*argv)
        return done, time.monotonic() - started, sum(self.proxy.held.values()) - held


@pytest.fixture
def outage(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> Iterator[Outage]:
    applied(shop)
    connect, read = (TIME_SCALE * s for s in (FAIL_FAST_CONNECT, FAIL_FAST_READ))
    monkeypatch.setattr(region_watch, "FAIL_FAST", region_watch.FAIL_FAST.merge(
        Config(connect_timeout=connect, read_timeout=read)))
    monkeypatch.setattr(region_watch, "FAIL_FAST_CONNECT", connect)
    monkeypatch.setattr(region_watch, "FAIL_FAST_READ", read)
    monkeypatch.setattr(RegionWatch, "PROBE_WAIT", TIME_SCALE * RegionWatch.PROBE_WAIT)
    with FaultProxy(shop.endpoint, lifetime=900) as proxy:
        yield Outage(shop, dataclasses.replace(shop, endpoint=proxy.url), proxy)


def test_us_east_1_down_readiness_fails_failover_refused_then_forced(outage: Outage) -> None:
    shop = outage.shop
    outage.proxy.take_down("us-east-1")

    ready, took, reached = outage.run("readiness", shop.point)
    print(f"readiness with us-east-1 down: {took:.1f} s")
    assert ready.status == 3, ready.stdout + ready.stderr
    assert took < READINESS_BOUND
    assert "FAIL versioning" in ready.stdout
    assert f"{shop.east}: us-east-1 unreachable" in ready.stdout
    assert f"{shop.west}: Enabled" in ready.stdout  # the live Region's check still ran
    assert "ok   routes" in ready.stdout  # read in another route Region
    assert "Traceback" not in ready.stdout + ready.stderr
    assert reached <= 1, outage.proxy.held  # the one probe, nothing after it

    refused, took, reached = outage.run("failover", shop.point, "--to", shop.west, "--yes")
    print(f"failover --yes with us-east-1 down: {took:.1f} s")
    assert refused.status == 3, refused.stdout + refused.stderr
    assert took < REFUSAL_BOUND
    assert "refused: readiness failed" in refused.stdout
    assert "not run: an earlier check failed" in refused.stdout
    assert route_calls(refused) == []
    assert reached <= 1, outage.proxy.held
    assert shop.routes() == {shop.east: 100, shop.west: 0}

    forced, took, reached = outage.run("failover", shop.point, "--to", shop.west, "--yes",
                                       "--force")
    print(f"failover --yes --force with us-east-1 down: {took:.1f} s")
    assert forced.status == 0, forced.stdout + forced.stderr
    assert took < FORCED_BOUND
    assert f"failover done: traffic goes to {shop.west}" in forced.stdout
    assert reached <= 1, outage.proxy.held
    assert shop.routes() == {shop.east: 0, shop.west: 100}


def test_us_west_2_down_failback_without_get_multi_region_access_point(
        outage: Outage) -> None:
    shop = outage.shop
    moved = shop.run("failover", shop.point, "--to", shop.west, "--yes")
    assert moved.status == 0, moved.stdout + moved.stderr
    outage.proxy.take_down("us-west-2")

    back, took, reached = outage.run("failback", shop.point, "--yes", "--force")
    print(f"failback --yes --force with us-west-2 down: {took:.1f} s")
    assert back.status == 0, back.stdout + back.stderr
    assert took < FORCED_BOUND
    assert "us-west-2 unreachable" in back.stdout
    assert [c for c in back.calls if c[1] == "GetMultiRegionAccessPoint"] == []
    assert reached <= 1, outage.proxy.held
    assert shop.routes() == {shop.east: 100, shop.west: 0}


def test_the_first_call_is_answered_by_a_live_region(outage: Outage) -> None:
    outage.proxy.take_down("us-east-1")
    clients = Clients(endpoint_url=outage.proxy.url, session=sandbox.sandbox_session())
    clients.fail_fast()
    started = time.monotonic()
    assert clients.account_id_from(["us-east-1", "us-west-2"]) == "000000000000"
    assert time.monotonic() - started < 3.0  # not waiting for us-east-1's timeout


def test_failback_from_a_fresh_clone_restores_the_config_active_routes(shop: Shop) -> None:
    applied(shop)
    moved = shop.run("failover", shop.point, "--to", shop.west, "--yes")
    assert moved.status == 0, moved.stdout + moved.stderr
    (shop.tmp_path / f".failover-{shop.point}.json").unlink()  # another machine: no record
    # the backlog toward us-east-1 drained, as S3 publishes it (failback refuses on unknown)
    shop.publish(shop.west, shop.east, OperationsPendingReplication=0, ReplicationLatency=1)

    back = shop.run("failback", shop.point, "--yes")
    assert back.status == 0, back.stdout + back.stderr
    assert ("no failover record found on this machine; restoring the config's active routes: "
            f"{shop.east}") in back.stdout
    assert shop.routes() == {shop.east: 100, shop.west: 0}


def alias_tag(shop: Shop) -> str:
    return f"s3replication:access-point:{shop.point}"


def bucket_tags(shop: Shop, bucket: str) -> dict[str, str]:
    region = "us-east-1" if bucket == shop.east else "us-west-2"
    found = shop.clients().get("s3", region).get_bucket_tagging(Bucket=bucket)["TagSet"]
    return {t["Key"]: t["Value"] for t in found}


def put_tags(shop: Shop, bucket: str, tags: dict[str, str]) -> None:
    region = "us-east-1" if bucket == shop.east else "us-west-2"
    shop.clients().get("s3", region).put_bucket_tagging(Bucket=bucket, Tagging={
        "TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})


def test_apply_records_the_alias_on_each_bucket_keeping_other_tags(shop: Shop) -> None:
    applied(shop)
    alias = shop.alias()
    for bucket in (shop.east, shop.west):
        assert bucket_tags(shop, bucket)[alias_tag(shop)] == alias
    # an owner's tag, and the record gone (as after an upgrade from a version without it)
    others = {k: v for k, v in bucket_tags(shop, shop.east).items() if k != alias_tag(shop)}
    put_tags(shop, shop.east, {**others, "team": "web"})
    plan = shop.run("plan")
    assert plan.status == 3, plan.stdout + plan.stderr
    assert "alias tags on its buckets" in plan.stdout
    again = shop.run("apply")
    assert again.status == 0, again.stdout + again.stderr
    assert bucket_tags(shop, shop.east) == {**others, "team": "web", alias_tag(shop): alias}
    assert shop.run("apply").mutating == []


def test_us_west_2_down_without_tags_the_config_alias_is_used(outage: Outage) -> None:
    shop = outage.shop
    alias = shop.alias()
    for bucket in (shop.east, shop.west):
        put_tags(shop, bucket, {k: v for k, v in bucket_tags(shop, bucket).items()
                                if k != alias_tag(shop)})
    outage.proxy.take_down("us-west-2")

    unknown, took, _ = outage.run("readiness", shop.point)
    print(f"readiness with us-west-2 down, alias unknown: {took:.1f} s")
    assert unknown.status == 3, unknown.stdout + unknown.stderr
    assert "FAIL access point" in unknown.stdout
    assert "us-west-2 unreachable" in unknown.stdout
    assert f'ACCESS_POINTS[{shop.point!r}]["alias"]' in unknown.stdout

    config = shop.tmp_path / "s3_config.py"
    config.write_text(config.read_text()
                      + f'\nACCESS_POINTS[{shop.point!r}]["alias"] = {alias!r}\n')
    moved, took, reached = outage.run("failover", shop.point, "--to", shop.east, "--yes",
                                      "--force")
    print(f"failover --yes --force with us-west-2 down, alias from the config: {took:.1f} s")
    assert moved.status == 0, moved.stdout + moved.stderr
    assert took < FORCED_BOUND
    assert [c for c in moved.calls if c[1] == "GetMultiRegionAccessPoint"] == []
    assert reached <= 1, outage.proxy.held
