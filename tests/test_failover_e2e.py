"""Multi-Region Access Point failover end to end on MiniStack: apply creates the access point over
two buckets with two-way replication, requests through it reach the active bucket, and
`failover`, `failback` and `readiness` move and check its traffic.

What AWS does, and these tests rely on:
- an access point's routes give each bucket a traffic dial; 100 is active, 0 passive, and
  requests go to active buckets only; failover swaps them
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingFailover.html,
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointRequestRouting.html,
  https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_GetMultiRegionAccessPointRoutes.html);
- before a failover the buckets should replicate both ways, with replica modification sync
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/MrapFailover.html,
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointBucketReplication.html);
- requests through the access point name its ARN as the bucket
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointRequests.html);
- the buckets of an access point are fixed at creation; creation is asynchronous, in
  us-west-2, and sets the access point's public access block
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/multi-region-access-point-buckets.html,
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointRestrictions.html,
  https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_CreateMultiRegionAccessPoint.html);
- a replicated object reads back COMPLETED in its source bucket and REPLICA in the other
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-status.html);
- deleting one object version by id is not replicated
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html);
- a rule replicates only the objects its filter selects
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-add-config.html);
- S3 publishes a rule's OperationsPendingReplication and ReplicationLatency in the destination
  bucket's Region, with the dimensions SourceBucket, DestinationBucket and RuleId; writes made
  while a Region is unavailable stay PENDING
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/repl-metrics.html,
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-status.html). MiniStack
  publishes no replication metric: the tests put the data points S3 would.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

import s3replication.resources.access_point_routes as access_point_routes
from s3replication import sandbox
from s3replication.aws.clients import Clients
from tests.mrap_client import mrap_arn, mrap_s3_of
from tests.shop import Run, run_script, shop_config

ROUTE_CALL = "SubmitMultiRegionAccessPointRoutes"
CONTROL_REGION = "us-west-2"  # where S3 Control takes the access point's own calls


@dataclass
class Shop:
    tmp_path: Path
    endpoint: str
    point: str  # the access point's name
    east: str  # us-east-1, active at first
    west: str  # us-west-2, passive at first
    third: str  # eu-west-1, in no access point at first

    def clients(self) -> Clients:
        return Clients(endpoint_url=self.endpoint, session=sandbox.sandbox_session())

    def write_config(self, members: tuple[str, ...] | None = None) -> Path:
        members = members or (self.east, self.west)
        return shop_config(self.tmp_path, base=f'''
BUCKETS = {{{self.east!r}: {{"region": "us-east-1"}}, {self.west!r}: {{"region": "us-west-2"}},
           {self.third!r}: {{"region": "eu-west-1"}}}}
CRR_RULES = [
    {{"id": "east-to-west", "source": {self.east!r}, "destination": {self.west!r},
     "replica_modifications": True}},
    {{"id": "west-to-east", "source": {self.west!r}, "destination": {self.east!r},
     "replica_modifications": True}},
]
SRR_RULES = []
ACCESS_POINTS = {{{self.point!r}: {{"buckets": {list(members)!r}, "active": [{self.east!r}]}}}}
''')

    def run(self, *argv: str) -> Run:
        config = self.tmp_path / "s3_config.py"
        return run_script("crr", "--config", str(config), *argv, clients=self.clients)

    def alias(self) -> str:
        aws = self.clients()
        found = aws.get("s3control", CONTROL_REGION).get_multi_region_access_point(
            AccountId=aws.account_id(), Name=self.point)
        return str(found["AccessPoint"]["Alias"])

    def arn(self) -> str:
        return mrap_arn(self.clients().account_id(), self.alias())

    def routes(self) -> dict[str, int]:
        aws = self.clients()
        found = aws.get("s3control", CONTROL_REGION).get_multi_region_access_point_routes(
            AccountId=aws.account_id(), Mrap=self.arn())["Routes"]
        return {r["Bucket"]: int(r["TrafficDialPercentage"]) for r in found}

    def status(self, bucket: str, key: str) -> str:
        region = "us-east-1" if bucket == self.east else "us-west-2"
        return str(self.clients().get("s3", region).head_object(
            Bucket=bucket, Key=key).get("ReplicationStatus"))

    def through_point(self) -> Any:
        return mrap_s3_of(self.clients())

    def publish(self, source: str, destination: str, ago: float = 60, **values: float) -> None:
        """Replication metrics of the config's rule source -> destination, `ago` seconds old,
        in the destination's Region, as S3 publishes them."""
        rule = "east-to-west" if source == self.east else "west-to-east"
        region = "us-east-1" if destination == self.east else "us-west-2"
        when = datetime.now(UTC) - timedelta(seconds=ago)
        dimensions = [{"Name": "SourceBucket", "Value": source},
                      {"Name": "DestinationBucket", "Value": destination},
                      {"Name": "RuleId", "Value": rule}]
        self.clients().get("cloudwatch", region).put_metric_data(Namespace="AWS/S3", MetricData=[
            {"MetricName": name, "Value": value, "Timestamp": when, "Dimensions": dimensions}
            for name, value in values.items()])


@pytest.fixture
def shop(ministack_endpoint: str, reset_ministack: Callable[[], None], tmp_path: Path,
         unique_name: Callable[[str], str]) -> Shop:
    made = Shop(tmp_path, ministack_endpoint, unique_name("shop"), unique_name("east"),
                unique_name("west"), unique_name("third"))
    made.write_config()
    return made


def applied(shop: Shop) -> Shop:
    done = shop.run("apply")
    assert done.status == 0, done.stdout + done.stderr
    return shop


def route_calls(run: Run) -> list[tuple[str, str, str]]:
    return [c for c in run.calls if c[1] == ROUTE_CALL]


def test_apply_creates_the_access_point_with_the_first_routes(shop: Shop) -> None:
    applied(shop)
    aws = shop.clients()
    found = aws.get("s3control", CONTROL_REGION).get_multi_region_access_point(
        AccountId=aws.account_id(), Name=shop.point)["AccessPoint"]
    assert sorted(r["Bucket"] for r in found["Regions"]) == sorted([shop.east, shop.west])
    assert all(found["PublicAccessBlock"].values()), found["PublicAccessBlock"]
    assert shop.routes() == {shop.east: 100, shop.west: 0}
    assert not list(shop.tmp_path.glob(".access-point-*.pending"))
    again = shop.run("apply")
    assert again.status == 0, again.stderr
    assert again.mutating == [], again.mutating
    assert shop.routes() == {shop.east: 100, shop.west: 0}
    ready = shop.run("readiness")
    assert ready.status == 0, ready.stdout + ready.stderr
    assert f"access point {shop.point} ({shop.alias()}): ready" in ready.stdout
    assert "FAIL" not in ready.stdout


def test_failover_moves_reads_and_writes_and_failback_restores(shop: Shop) -> None:
    applied(shop)
    point, arn = shop.through_point(), shop.arn()
    point.put_object(Bucket=arn, Key="before.txt", Body=b"order 1")
    assert shop.status(shop.east, "before.txt") == "COMPLETED"  # written in the active bucket
    assert shop.status(shop.west, "before.txt") == "REPLICA"
    assert point.head_object(Bucket=arn, Key="before.txt")["ReplicationStatus"] == "COMPLETED"
    # a key only the passive bucket has: written in east, replicated, then that version deleted
    east = shop.clients().get("s3", "us-east-1")
    version = east.put_object(Bucket=shop.east, Key="west-only.txt", Body=b"west")["VersionId"]
    assert shop.status(shop.west, "west-only.txt") == "REPLICA"
    east.delete_object(Bucket=shop.east, Key="west-only.txt", VersionId=version)
    with pytest.raises(ClientError, match="NoSuchKey"):
        point.get_object(Bucket=arn, Key="west-only.txt")

    moved = shop.run("failover", shop.point, "--to", shop.west, "--yes")
    assert moved.status == 0, moved.stdout + moved.stderr
    assert f"failover done: traffic goes to {shop.west}" in moved.stdout
    assert shop.routes() == {shop.east: 0, shop.west: 100}
    assert (shop.tmp_path / f".failover-{shop.point}.json").exists()
    assert point.get_object(Bucket=arn, Key="west-only.txt")["Body"].read() == b"west"
    assert point.head_object(Bucket=arn, Key="before.txt")["ReplicationStatus"] == "REPLICA"
    point.put_object(Bucket=arn, Key="after.txt", Body=b"order 2")
    assert shop.status(shop.west, "after.txt") == "COMPLETED"  # the new active bucket
    assert shop.status(shop.east, "after.txt") == "REPLICA"  # and replicated back

    plan = shop.run("plan")
    assert plan.status == 0, plan.stdout + plan.stderr
    assert (f"access point {shop.point} ({shop.alias()}): active {shop.west}; passive "
            f"{shop.east}") in plan.stdout
    assert route_calls(plan) == []

    shop.publish(shop.west, shop.east, OperationsPendingReplication=0, ReplicationLatency=1)
    back = shop.run("failback", shop.point, "--yes")  # east has caught up
    assert back.status == 0, back.stdout + back.stderr
    assert shop.routes() == {shop.east: 100, shop.west: 0}
    assert not (shop.tmp_path / f".failover-{shop.point}.json").exists()
    assert point.head_object(Bucket=arn, Key="after.txt")["ReplicationStatus"] == "REPLICA"
    twice = shop.run("failback", shop.point, "--yes")  # no record: the config's active routes
    assert twice.status == 0, twice.stdout + twice.stderr
    assert "no failover record found on this machine" in twice.stdout
    assert shop.routes() == {shop.east: 100, shop.west: 0}


def test_failover_without_yes_changes_nothing(shop: Shop) -> None:
    applied(shop)
    dry = shop.run("failover", shop.point, "--to", shop.west)
    assert dry.status == 3, dry.stdout + dry.stderr
    assert route_calls(dry) == []
    assert shop.routes() == {shop.east: 100, shop.west: 0}
    assert not (shop.tmp_path / f".failover-{shop.point}.json").exists()
    assert re.search(rf"routes before:\s+{shop.east} 100, {shop.west} 0", dry.stdout), dry.stdout
    assert re.search(rf"routes after:\s+{shop.east} 0, {shop.west} 100", dry.stdout), dry.stdout
    assert "dry run: nothing changed" in dry.stdout


def test_without_the_reverse_rule_failover_is_refused_unless_forced(shop: Shop) -> None:
    applied(shop)
    shop.clients().get("s3", "us-west-2").delete_bucket_replication(Bucket=shop.west)
    ready = shop.run("readiness", shop.point, "--timeout", "2")
    assert ready.status == 3, ready.stdout + ready.stderr
    assert "NOT ready" in ready.stdout
    assert "FAIL two-way replication" in ready.stdout
    assert f"{shop.west} -> {shop.east}: no enabled rule" in ready.stdout

    refused = shop.run("failover", shop.point, "--to", shop.west, "--yes", "--timeout", "2")
    assert refused.status == 3, refused.stdout + refused.stderr
    assert "refused: readiness failed" in refused.stdout
    assert route_calls(refused) == []
    assert shop.routes() == {shop.east: 100, shop.west: 0}

    forced = shop.run("failover", shop.point, "--to", shop.west, "--yes", "--force",
                      "--timeout", "2")
    assert forced.status == 0, forced.stdout + forced.stderr
    assert "forced: readiness failed and the routes were changed anyway" in forced.stdout
    assert shop.routes() == {shop.east: 0, shop.west: 100}


def test_changing_the_buckets_of_an_access_point_is_refused_with_the_way_out(shop: Shop) -> None:
    applied(shop)
    shop.write_config(members=(shop.east, shop.third))
    changed = shop.run("apply")
    assert changed.status == 1, changed.stdout + changed.stderr
    assert f"access point {shop.point}: its buckets are" in changed.stderr
    assert "AWS cannot change them" in changed.stderr
    assert "add a new access point under another name to ACCESS_POINTS" in changed.stderr
    assert f"delete-multi-region-access-point --region {CONTROL_REGION}" in changed.stderr
    assert [c for c in changed.calls if "MultiRegionAccessPoint" in c[1]
            and not c[1].startswith(("Get", "Describe"))] == []
    aws = shop.clients()
    found = aws.get("s3control", CONTROL_REGION).get_multi_region_access_point(
        AccountId=aws.account_id(), Name=shop.point)["AccessPoint"]
    assert sorted(r["Bucket"] for r in found["Regions"]) == sorted([shop.east, shop.west])


def test_a_crash_after_creation_is_finished_by_the_next_apply(
        shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    real, crashes = access_point_routes.submit_routes, [RuntimeError("simulated crash")]

    def crash_once(*args: Any, **kwargs: Any) -> dict[str, int]:
        if crashes:
            raise crashes.pop()
        return real(*args, **kwargs)

    monkeypatch.setattr(access_point_routes, "submit_routes", crash_once)
    crashed = shop.run("apply")
    assert crashed.status == 1, crashed.stdout + crashed.stderr
    assert "simulated crash" in crashed.stderr
    assert (shop.tmp_path / f".access-point-{shop.point}.pending").exists()
    assert shop.alias()  # created, but its first routes never set

    plan = shop.run("plan")
    assert plan.status == 3, plan.stdout + plan.stderr
    assert '~ first routes: "pending" -> "set"' in plan.stdout

    finished = shop.run("apply")
    assert finished.status == 0, finished.stdout + finished.stderr
    assert "CreateMultiRegionAccessPoint" not in [c[1] for c in finished.calls]
    assert route_calls(finished), finished.calls
    assert shop.routes() == {shop.east: 100, shop.west: 0}
    assert not (shop.tmp_path / f".access-point-{shop.point}.pending").exists()
    assert shop.run("plan").status == 0


def test_failback_waits_until_the_old_primary_has_caught_up(shop: Shop) -> None:
    applied(shop)
    moved = shop.run("failover", shop.point, "--to", shop.west, "--yes")
    assert moved.status == 0, moved.stdout + moved.stderr  # no metrics: failover goes on
    assert "  unknown backlog" in moved.stdout
    assert shop.routes() == {shop.east: 0, shop.west: 100}

    unknown = shop.run("failback", shop.point, "--yes")
    assert unknown.status == 3, unknown.stdout + unknown.stderr
    assert "refused: backlog unknown" in unknown.stdout
    assert (f"{shop.west} -> {shop.east} (west-to-east): latency no data, pending no data, "
            "failed 0; backlog unknown: no pending figure in CloudWatch in us-east-1") \
        in unknown.stdout
    assert route_calls(unknown) == []

    shop.publish(shop.west, shop.east, ago=120, OperationsPendingReplication=40,
                 ReplicationLatency=30)
    behind = shop.run("failback", shop.point, "--yes")
    assert behind.status == 3, behind.stdout + behind.stderr
    assert "  FAIL backlog" in behind.stdout
    assert f"pending 40 operations, failed 0; {shop.east} takes the traffic and has not caught " \
        "up" in behind.stdout
    assert "refused: readiness failed" in behind.stdout
    assert route_calls(behind) == []
    assert shop.routes() == {shop.east: 0, shop.west: 100}

    shop.publish(shop.west, shop.east, ago=30, OperationsPendingReplication=0,
                 ReplicationLatency=1)
    back = shop.run("failback", shop.point, "--yes")
    assert back.status == 0, back.stdout + back.stderr
    assert "  ok   backlog" in back.stdout
    assert shop.routes() == {shop.east: 100, shop.west: 0}


def test_readiness_fails_when_one_direction_does_not_replicate(shop: Shop) -> None:
    """Both rules are there, enabled, with replica modification sync, RTC and metrics, so every
    rule check passes; but the rule west -> east selects nothing the shop writes (its filter
    was narrowed to a prefix no key has). Only a canary in that direction can tell."""
    applied(shop)
    west = shop.clients().get("s3", "us-west-2")
    rules = west.get_bucket_replication(Bucket=shop.west)["ReplicationConfiguration"]
    assert [r["ID"] for r in rules["Rules"]] == ["west-to-east"]
    rules["Rules"][0]["Filter"] = {"Prefix": "nothing-is-written-here/"}
    west.put_bucket_replication(Bucket=shop.west, ReplicationConfiguration=rules)
    key = "after-the-change.txt"
    west.put_object(Bucket=shop.west, Key=key, Body=b"order 3")
    with pytest.raises(ClientError, match="404|Not Found"):  # one direction really is broken
        shop.clients().get("s3", "us-east-1").head_object(Bucket=shop.east, Key=key)

    ready = shop.run("readiness", shop.point, "--timeout", "2")
    assert ready.status == 3, ready.stdout + ready.stderr
    assert "NOT ready" in ready.stdout
    for passing in ("versioning", "two-way replication", "RTC and metrics"):
        assert f"  ok   {passing}" in ready.stdout, ready.stdout
    assert "  FAIL canary" in ready.stdout
    assert f"{shop.west} -> {shop.east} (west-to-east): not replicated within 2 s" \
        in ready.stdout
    assert re.search(rf"{shop.east} -> {shop.west} \(east-to-west\): replicated in [0-9.]+ s",
                     ready.stdout), ready.stdout

    refused = shop.run("failover", shop.point, "--to", shop.west, "--yes", "--timeout", "2")
    assert refused.status == 3, refused.stdout + refused.stderr
    assert "refused: readiness failed" in refused.stdout
    assert shop.routes() == {shop.east: 100, shop.west: 0}
