"""Multi-Region Access Points without a server: the ACCESS_POINTS checks, the commands only
cr_replication.py has, and the route calls' move to the next Region.

AWS behaviour relied on:
- access point names: 3 to 50 lowercase letters, digits and hyphens, not beginning or ending
  with a hyphen (https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointRestrictions.html);
- one bucket per Region, fixed at creation
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/multi-region-access-point-buckets.html).
  AWS also takes buckets of other accounts and a single bucket; the tool does not (its own
  rule: it fails over between two or more of the caller's buckets, which it reads and
  replicates with the caller's clients);
- an access point spans Regions, so it belongs with Cross-Region Replication
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointRequestRouting.html);
- route calls are served in five Regions, and when one is impaired the call is made in
  another of them (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingFailover.html,
  https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_SubmitMultiRegionAccessPointRoutes.html);
  route changes take effect after a while, so they are read back until they hold
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/MrapFailover.html).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from s3replication import cli
from s3replication.config import load_config
from s3replication.config.model import AccessPointSpec
from s3replication.engine.context import Context
from s3replication.errors import AwsError, ConfigError
from s3replication.resources import access_point_routes
from s3replication.resources.access_point_routes import (
    ROUNDS,
    ROUTE_REGIONS,
    read_routes,
    submit_routes,
)
from s3replication.resources.access_points import initial_routes

ACCOUNT = "123456789012"
ARN = f"arn:aws:s3::{ACCOUNT}:accesspoint/mfzwi23gnjvgw.mrap"
BUCKETS = {
    "a-use1": {"region": "us-east-1"},
    "b-usw2": {"region": "us-west-2"},
    "c-use1": {"region": "us-east-1"},
    "d-euw1": {"region": "eu-west-1", "account": "backup"},
}
ACCOUNTS = {"backup": {"account_id": "222222222222",
                       "role_arn": "arn:aws:iam::222222222222:role/backup-admin"}}
CRR_RULES = [{"id": "r1", "source": "a-use1", "destination": "b-usw2"},
             {"id": "r2", "source": "a-use1", "destination": "d-euw1"}]


def write(tmp_path: Path, access_points: object) -> Path:
    path = tmp_path / "s3_config.py"
    path.write_text("\n".join(f"{name} = {value!r}" for name, value in {
        "BUCKETS": BUCKETS, "ACCOUNTS": ACCOUNTS, "CRR_RULES": CRR_RULES, "SRR_RULES": [],
        "ACCESS_POINTS": access_points, "LOG_FILE": str(tmp_path / "log.txt")}.items()) + "\n")
    return path


def test_every_bad_access_point_is_named_in_one_config_error(tmp_path: Path) -> None:
    both, a = ["a-use1", "b-usw2"], ["a-use1"]
    points = {
        "unknown-bucket": {"buckets": ["a-use1", "nope-usw2"], "active": a},
        "one-region": {"buckets": ["a-use1", "c-use1"], "active": a},
        "not-a-member": {"buckets": both, "active": ["c-use1"]},
        "Shop_Front": {"buckets": both, "active": a},
        "ab": {"buckets": both, "active": a},
        "-shop": {"buckets": both, "active": a},
        "x" * 51: {"buckets": both, "active": a},
        "other-account": {"buckets": ["a-use1", "d-euw1"], "active": a},
        "lonely": {"buckets": ["a-use1"], "active": a},
        "none-active": {"buckets": both, "active": []},
        "typo": {"buckets": both, "active": a, "actve": a},
    }
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, points))
    not_a_name = ("is not a Multi-Region Access Point name (3 to 50 lowercase letters, digits "
                  "and hyphens, beginning and ending with a letter or digit)")
    assert caught.value.problems == [
        'ACCESS_POINTS["unknown-bucket"]["buckets"]: "nope-usw2" is not in BUCKETS',
        'ACCESS_POINTS["one-region"]["buckets"]: "c-use1" and "a-use1" are both in us-east-1; '
        "an access point takes one bucket per Region",
        'ACCESS_POINTS["not-a-member"]["active"]: "c-use1" is not one of its "buckets"',
        f'ACCESS_POINTS["Shop_Front"]: "Shop_Front" {not_a_name}',
        f'ACCESS_POINTS["ab"]: "ab" {not_a_name}',
        f'ACCESS_POINTS["-shop"]: "-shop" {not_a_name}',
        f'ACCESS_POINTS["{"x" * 51}"]: "{"x" * 51}" {not_a_name}',
        'ACCESS_POINTS["other-account"]["buckets"]: "d-euw1" is in account "backup"; the '
        "buckets of an access point must be the caller's",
        'ACCESS_POINTS["lonely"]["buckets"]: needs 2 or more buckets, in different Regions',
        'ACCESS_POINTS["none-active"]["active"]: name at least one bucket, or no request would '
        "be served",
        'ACCESS_POINTS["typo"]: unknown key "actve" (did you mean "active"?)',
    ]
    assert str(tmp_path / "s3_config.py") in str(caught.value)


def test_access_points_of_the_wrong_shape_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, {"shop": ["a-use1", "b-usw2"],
                                     "shop-two": {"buckets": "a-use1", "active": ["a-use1"]}}))
    assert caught.value.problems == [
        'ACCESS_POINTS["shop"]: must be a dict such as {"buckets": ["a", "b"], "active": ["a"]}, '
        "not ['a-use1', 'b-usw2']",
        'ACCESS_POINTS["shop-two"]["buckets"]: must be a list of bucket names, not "a-use1"',
        'ACCESS_POINTS["shop-two"]["buckets"]: needs 2 or more buckets, in different Regions',
        'ACCESS_POINTS["shop-two"]["active"]: "a-use1" is not one of its "buckets"',
    ]
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, ["shop"]))
    assert caught.value.problems == [
        "ACCESS_POINTS: must be a dict of access point name to settings, not list"]


@pytest.mark.parametrize("command", [["readiness"], ["readiness", "shop"],
                                     ["failover", "shop", "--to", "a-use1", "--yes"],
                                     ["failback", "shop", "--yes"]])
def test_sr_replication_has_no_access_point_commands(
        command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main("srr", command) == 2
    assert f"invalid choice: '{command[0]}'" in capsys.readouterr().err


def test_only_cr_replication_lists_the_access_point_commands(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main("crr", ["--help"]) == 0
    crr = capsys.readouterr().out
    assert cli.main("srr", ["--help"]) == 0
    srr = capsys.readouterr().out
    for command in ("readiness", "failover", "failback"):
        assert command in crr
        assert command not in srr


class FakeControl:
    """S3 Control in one Region: unreachable, refusing, or answering with the routes."""

    def __init__(self, region: str, world: FakeWorld):
        self.region, self.world = region, world

    def _answer(self, operation: str) -> None:
        self.world.calls.append((operation, self.region))
        failure = self.world.failures.get(self.region)
        if failure is not None:
            raise failure

    def get_multi_region_access_point_routes(self, AccountId: str, Mrap: str) -> dict[str, Any]:
        self._answer("get")
        assert (AccountId, Mrap) == (ACCOUNT, ARN)
        routes = self.world.reads.pop(0) if len(self.world.reads) > 1 else self.world.reads[0]
        return {"Mrap": Mrap, "Routes": [{"Bucket": b, "TrafficDialPercentage": d}
                                         for b, d in routes.items()]}

    def submit_multi_region_access_point_routes(self, AccountId: str, Mrap: str,
                                                RouteUpdates: list[dict[str, Any]]) -> None:
        self._answer("submit")
        assert (AccountId, Mrap) == (ACCOUNT, ARN)
        self.world.submitted.append(RouteUpdates)


class FakeWorld:
    def __init__(self, failures: dict[str, Exception], reads: list[dict[str, int]]):
        self.failures, self.reads = failures, reads
        self.calls: list[tuple[str, str]] = []
        self.submitted: list[list[dict[str, Any]]] = []

    def single_attempt(self, service: str, region: str) -> FakeControl:
        """Route calls make one attempt per Region: a Region that is down must not hold up
        the next one with botocore's retries."""
        assert service == "s3control"
        return FakeControl(region, self)

    def ctx(self) -> Context:
        return cast(Context, SimpleNamespace(clients=self, account=ACCOUNT))


def unreachable(region: str) -> EndpointConnectionError:
    return EndpointConnectionError(endpoint_url=f"https://s3-control.{region}.amazonaws.com")


def client_error(code: str, status: int) -> ClientError:
    answer = {"Error": {"Code": code, "Message": code},
              "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(cast(Any, answer), "GetMultiRegionAccessPointRoutes")


def test_route_calls_are_served_in_the_five_regions_aws_names() -> None:
    assert set(ROUTE_REGIONS) == {"us-east-1", "us-west-2", "ap-southeast-2",
                                  "ap-northeast-1", "eu-west-1"}


def test_routes_are_read_in_the_next_region_when_one_is_unreachable() -> None:
    world = FakeWorld({"us-east-1": unreachable("us-east-1")}, [{"a-use1": 100, "b-usw2": 0}])
    assert read_routes(world.ctx(), ARN) == {"a-use1": 100, "b-usw2": 0}
    assert world.calls == [("get", "us-east-1"), ("get", "us-west-2")]


def test_routes_are_changed_in_the_next_region_and_read_back_until_they_hold(
        monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr(access_point_routes.interrupt, "pause", sleeps.append)
    world = FakeWorld({"us-east-1": unreachable("us-east-1")},
                      [{"a-use1": 100, "b-usw2": 0}, {"a-use1": 0, "b-usw2": 100}])
    updates = [{"Bucket": "a-use1", "TrafficDialPercentage": 0},
               {"Bucket": "b-usw2", "TrafficDialPercentage": 100}]
    assert submit_routes(world.ctx(), ARN, updates) == {"a-use1": 0, "b-usw2": 100}
    assert world.submitted == [updates]
    assert world.calls == [("submit", "us-east-1"), ("submit", "us-west-2"),
                           ("get", "us-east-1"), ("get", "us-west-2"),  # still the old routes
                           ("get", "us-east-1"), ("get", "us-west-2")]
    assert len(sleeps) == 1


def test_routes_that_never_hold_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(access_point_routes.interrupt, "pause", lambda seconds: None)
    world = FakeWorld({}, [{"a-use1": 100, "b-usw2": 0}])
    with pytest.raises(AwsError, match="still .* after 0 s"):
        submit_routes(world.ctx(), ARN, [{"Bucket": "b-usw2", "TrafficDialPercentage": 100}],
                      timeout=0)


def test_a_throttled_region_is_passed_over_too() -> None:
    world = FakeWorld({"us-east-1": client_error("SlowDown", 503)}, [{"a-use1": 100}])
    assert read_routes(world.ctx(), ARN) == {"a-use1": 100}
    assert [region for _, region in world.calls] == ["us-east-1", "us-west-2"]


def test_a_refusal_is_not_retried_elsewhere() -> None:
    world = FakeWorld({"us-east-1": client_error("AccessDenied", 403)}, [{"a-use1": 100}])
    with pytest.raises(AwsError, match="reading the routes of .*access denied"):
        read_routes(world.ctx(), ARN)
    assert world.calls == [("get", "us-east-1")]


def test_no_region_answering_names_each_one(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr(access_point_routes.interrupt, "pause", sleeps.append)
    world = FakeWorld({r: unreachable(r) for r in ROUTE_REGIONS}, [{"a-use1": 100}])
    with pytest.raises(AwsError, match="no route Region answered") as caught:
        read_routes(world.ctx(), ARN)
    # every Region once per round, a pause between rounds
    assert [region for _, region in world.calls] == list(ROUTE_REGIONS) * ROUNDS
    assert len(sleeps) == ROUNDS - 1
    for region in ROUTE_REGIONS:
        assert f"{region}: " in str(caught.value)
    assert "\n" not in str(caught.value)  # one line, as every error of the tool


def test_first_routes_make_the_active_buckets_100_and_the_others_0() -> None:
    spec = AccessPointSpec("shop", ("a-use1", "b-usw2", "e-euw1"), ("b-usw2",))
    assert initial_routes(spec) == [{"Bucket": "a-use1", "TrafficDialPercentage": 0},
                                    {"Bucket": "b-usw2", "TrafficDialPercentage": 100},
                                    {"Bucket": "e-euw1", "TrafficDialPercentage": 0}]
