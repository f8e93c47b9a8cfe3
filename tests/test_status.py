"""`status`: verdicts per rule from alarm states and the last 15 minutes of metrics; exit codes,
text and JSON; batched reads. On moto (which never evaluates alarms) and on MiniStack (whose
alarm evaluation ignores dimensions: tests set alarm states with set_alarm_state and read
figures with GetMetricData, which does respect them).

Where the figures are: S3 publishes a rule's ReplicationLatency, BytesPendingReplication and
OperationsPendingReplication in the destination bucket's Region, OperationsFailedReplication in
the source bucket's ("Which Region is this metric published in?",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/repl-metrics.html); the tests put each
data point where S3 would, and status must read it there (the emulators keep whatever is put
in any Region)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from s3replication.aws.clients import Clients
from s3replication.config import RuleSpec
from s3replication.monitoring import metrics
from tests.shop import Run, run_script, shop_config

EAST, WEST = "us-east-1", "us-west-2"
CATALOG = {"SourceBucket": "shopco-data-use1", "DestinationBucket": "shopco-data-usw2",
           "RuleId": "catalog-usw2"}
REGIONS = {"shopco-data-use1": EAST, "shopco-data-usw2": WEST,
           "shopco-data-use1-backup": EAST, "shopco-logs-use1-archive": EAST}


def put_figures(clients: Clients, dimensions: dict[str, str], **values: float) -> None:
    """Data points a minute old, as S3 would publish them for one rule: each in the Region S3
    publishes it in (metrics.published_in)."""
    when = datetime.now(UTC) - timedelta(minutes=1)
    for name, value in values.items():
        region = metrics.published_in(name, REGIONS[dimensions["SourceBucket"]],
                                      REGIONS[dimensions["DestinationBucket"]])
        put_in(clients, region, dimensions, when, name, value)


def put_in(clients: Clients, region: str, dimensions: dict[str, str], when: datetime,
           name: str, value: float) -> None:
    clients.get("cloudwatch", region).put_metric_data(Namespace="AWS/S3", MetricData=[
        {"MetricName": name, "Value": value, "Timestamp": when,
         "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()]}])


def rows(result: Run) -> dict[str, dict]:
    return {row["rule"]: row for row in json.loads(result.stdout)["rules"]}


# --- moto ---------------------------------------------------------------------------------------


@pytest.fixture
def applied(moto_clients: Clients, tmp_path) -> Callable[..., Run]:
    """cr_replication.py applied on moto; returns a runner of `cr_replication.py status`."""
    config = str(shop_config(tmp_path))
    assert run_script("crr", "apply", "--config", config, clients=Clients).status == 0

    def status(*argv: str) -> Run:
        return run_script("crr", "status", "--config", config, *argv, clients=Clients)
    return status


def test_without_alarms_every_rule_needs_attention_run_apply(moto_clients, tmp_path):
    result = run_script("crr", "status", "--config", str(shop_config(tmp_path)), "--json",
                        clients=Clients)
    assert result.status == 3
    assert result.mutating == []
    catalog = rows(result)["catalog-usw2"]
    assert catalog["verdict"] == "attention"
    assert catalog["reasons"] == [
        f"alarm s3-replication:shopco-data-use1:catalog-usw2:{check} is missing: run apply"
        for check in ("failed-operations", "latency", "backlog")]


def test_after_apply_without_metrics_there_is_no_data_yet(applied):
    result = applied()
    assert result.status == 0, result.stdout
    assert "no data yet" in result.stdout
    assert {row["verdict"] for row in rows(applied("--json")).values()} == {"no data yet"}


def test_healthy_figures_are_shown_and_exit_0(applied, moto_clients):
    put_figures(moto_clients, CATALOG, ReplicationLatency=4, OperationsPendingReplication=2,
                BytesPendingReplication=2048, OperationsFailedReplication=0)
    result = applied("--json")
    assert result.status == 0
    catalog = rows(result)["catalog-usw2"]
    assert catalog == {
        "rule": "catalog-usw2", "source": "shopco-data-use1", "destination": "shopco-data-usw2",
        "rtc": True, "verdict": "healthy", "reasons": [],
        "alarms": {"failed-operations": "OK", "latency": "OK", "backlog": "OK"},
        "figures": {"latency_seconds": 4.0, "pending_operations": 2.0, "pending_bytes": 2048.0,
                    "failed_operations": 0.0}}
    assert rows(result)["orders-usw2"]["verdict"] == "no data yet"  # other dimensions


def test_status_reads_each_figure_in_the_region_it_is_published_in(applied, moto_clients):
    """The latency and pending figures of catalog-usw2 (us-east-1 -> us-west-2) are read in
    us-west-2, its failures in us-east-1; a figure put in the other Region, where S3 never
    publishes it, is not read."""
    when = datetime.now(UTC) - timedelta(minutes=1)
    put_in(moto_clients, WEST, CATALOG, when, "ReplicationLatency", 1200)
    put_in(moto_clients, WEST, CATALOG, when, "OperationsPendingReplication", 7)
    put_in(moto_clients, EAST, CATALOG, when, "OperationsFailedReplication", 2)
    put_in(moto_clients, EAST, CATALOG, when, "BytesPendingReplication", 99)  # not S3's Region
    result = applied("--json")
    assert result.status == 3
    catalog = rows(result)["catalog-usw2"]
    assert catalog["figures"] == {"latency_seconds": 1200.0, "pending_operations": 7.0,
                                  "pending_bytes": None, "failed_operations": 2.0}
    assert catalog["reasons"] == ["latency 1200 s reached the threshold of 900 s",
                                  "2 operations failed to replicate in the last 15 minutes"]


def test_an_alarm_in_alarm_state_names_the_rule_and_exits_3(applied, moto_clients):
    moto_clients.get("cloudwatch", WEST).set_alarm_state(
        AlarmName="s3-replication:shopco-data-use1:orders-usw2:backlog", StateValue="ALARM",
        StateReason="test")
    result = applied()
    assert result.status == 3
    assert ("orders-usw2: alarm s3-replication:shopco-data-use1:orders-usw2:backlog is in ALARM: "
            "more than 1000 operations pending for 15 minutes") in result.stdout
    assert {r: row["verdict"] for r, row in rows(applied("--json")).items()} == {
        "catalog-usw2": "no data yet", "orders-usw2": "attention",
        "inventory-usw2": "no data yet", "images-euw1": "no data yet"}


@pytest.mark.parametrize(("figures", "reason"), [
    ({"ReplicationLatency": 1200}, "latency 1200 s reached the threshold of 900 s"),
    ({"OperationsFailedReplication": 3}, "3 operations failed to replicate in the last 15 minutes"),
], ids=["latency", "failures"])
def test_figures_past_the_limits_need_attention(applied, moto_clients, figures, reason):
    put_figures(moto_clients, CATALOG, **figures)
    result = applied("--json")
    assert result.status == 3
    assert rows(result)["catalog-usw2"]["reasons"] == [reason]


def test_status_reads_once_per_region_and_changes_nothing(applied):
    result = applied()
    assert result.mutating == []
    monitoring_calls = [c[1:] for c in result.calls if c[0] == "cloudwatch"]
    # the sources' Region and the destinations' (catalog, orders and inventory go to
    # us-west-2, images to eu-west-1): once each
    assert sorted(monitoring_calls) == sorted(
        (operation, region) for operation in ("DescribeAlarms", "GetMetricData")
        for region in (EAST, WEST, "eu-west-1"))


# --- GetMetricData batching, on a recording client ----------------------------------------------


class RecordingCloudWatch:
    def __init__(self) -> None:
        self.batches: list[int] = []

    def get_metric_data(self, MetricDataQueries, **_):  # boto3's parameter name
        self.batches.append(len(MetricDataQueries))
        now = datetime.now(UTC)
        return {"MetricDataResults": [
            {"Id": q["Id"], "Timestamps": [now - timedelta(minutes=2), now], "Values": [1.0, 2.0]}
            for q in MetricDataQueries]}


def test_metric_queries_go_500_to_a_call():
    rules = [RuleSpec(id=f"r{n}", kind="crr", source="s", destination="d") for n in range(130)]
    cloudwatch = RecordingCloudWatch()
    figures = metrics.latest_figures(cloudwatch, rules)
    assert cloudwatch.batches == [500, 20]
    assert figures["r129"] == {"ReplicationLatency": 2.0, "OperationsPendingReplication": 2.0,
                               "BytesPendingReplication": 2.0, "OperationsFailedReplication": 3.0}


# --- MiniStack: the command end to end -----------------------------------------------------------


@pytest.fixture
def sandbox_status(ministack_endpoint: str, sandbox_clients: Clients,
                   tmp_path) -> Callable[..., Run]:
    from s3replication import sandbox

    config = str(shop_config(tmp_path))

    def run(*argv: str) -> Run:
        return run_script("srr", *argv, "--config", config, clients=lambda: Clients(
            endpoint_url=ministack_endpoint, session=sandbox.sandbox_session()))
    assert run("apply").status == 0
    return lambda *argv: run("status", *argv)


BACKUP = {"SourceBucket": "shopco-data-use1", "DestinationBucket": "shopco-data-use1-backup",
          "RuleId": "customers-backup"}


def test_sandbox_status_healthy(sandbox_status, sandbox_clients):
    put_figures(sandbox_clients, BACKUP, ReplicationLatency=3, OperationsPendingReplication=0,
                BytesPendingReplication=0, OperationsFailedReplication=0)
    result = sandbox_status("--json")
    assert result.status == 0, result.stdout
    assert rows(result)["customers-backup"]["verdict"] == "healthy"
    assert rows(result)["transactions-archive"]["verdict"] == "no data yet"


def test_sandbox_status_alarm_in_alarm_state(sandbox_status, sandbox_clients):
    sandbox_clients.get("cloudwatch", EAST).set_alarm_state(
        AlarmName="s3-replication:shopco-logs-use1:transactions-archive:failed-operations",
        StateValue="ALARM", StateReason="test")
    result = sandbox_status()
    assert result.status == 3
    assert ("transactions-archive: alarm s3-replication:shopco-logs-use1:transactions-archive:"
            "failed-operations is in ALARM") in result.stdout
    assert "customers-backup:" not in result.stdout


def test_sandbox_status_latency_above_threshold(sandbox_status, sandbox_clients):
    put_figures(sandbox_clients, BACKUP, ReplicationLatency=1800)
    result = sandbox_status("--json")
    assert result.status == 3
    backup = rows(result)["customers-backup"]
    assert backup["figures"]["latency_seconds"] == 1800
    assert "latency 1800 s reached the threshold of 900 s" in backup["reasons"]
    # GetMetricData keeps to the rule's dimensions (MiniStack's alarms would not)
    assert rows(result)["transactions-archive"]["figures"]["latency_seconds"] is None
