"""Account-wide names: two configs in one account keep their own alarms, topic and dashboard;
alarms of older versions are renamed, never duplicated; a name another config still uses is
refused before anything changes. On moto.

The AWS rules these rely on:
- An alarm name is unique per account and Region, and PutMetricAlarm on a name that exists
  replaces that alarm ("When you update an existing alarm, its state is left unchanged, but
  the update completely overwrites the previous configuration of the alarm"; AlarmName: "This
  name must be unique within the Region", at most 255 characters):
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
- CreateTopic on a name the account already has returns that topic ("This action is
  idempotent"); topic names are 1 to 256 ASCII letters, digits, underscores and hyphens:
  https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html
- PutDashboard on a name that exists replaces its contents, and "All dashboards in your account
  are global, not region-specific":
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html
- A rule's latency and backlog alarms are in its destination's Region, its failed-operations
  alarm in its source's, where S3 publishes each metric
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/repl-metrics.html): an older version
  left all of them in the source's Region, under the old names.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from s3replication.aws.clients import Clients
from s3replication.config import RuleSpec
from s3replication.monitoring import alarm_names, alarms
from tests.shop import SHIPPED_CONFIG, Run, run_script, shop_config
from tests.test_monitoring import alarms_by_name, every_alarm, monitoring_changes

EAST, WEST = "us-east-1", "us-west-2"
CHECKS = ("failed-operations", "latency", "backlog")
CATALOG_A = ("shopco-data-use1", "catalog-usw2")
CATALOG_B = ("otherco-data-use1", "catalog-usw2")


def other_shop(tmp_path: Path, keep: tuple[str, ...] = ()) -> Path:
    """The shop config of another team in the same account: every bucket, key alias, role,
    topic and dashboard renamed (shopco -> otherco), the rule ids the same. `keep` names
    settings left as the first shop has them (e.g. the topic)."""
    text = SHIPPED_CONFIG.read_text()
    for kept in keep:
        text = text.replace(kept, kept.replace("shopco", "KEPT"))
    text = text.replace("shopco", "otherco").replace("KEPT", "shopco")
    folder = tmp_path / "other"
    folder.mkdir()
    return shop_config(folder, base=text)


def first_shop(tmp_path: Path) -> Path:
    folder = tmp_path / "first"
    folder.mkdir()
    return shop_config(folder)


def run(kind: str, *argv: str) -> Run:
    return run_script(kind, *argv, clients=Clients)


def watched(alarm: dict) -> tuple[str, str]:
    values = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    return values["SourceBucket"], values["RuleId"]


def name(source: str, rule: str, check: str) -> str:
    return f"s3-replication:{source}:{rule}:{check}"


def found_alarms(clients: Clients) -> dict[str, dict]:
    """Name -> alarm, in every Region of the shop's buckets (each name in one Region)."""
    return {alarm_name: alarm for (_, alarm_name), alarm in every_alarm(clients).items()}


def to_old_names(clients: Clients) -> list[str]:
    """The alarms as a version before this one left them: each under `s3-replication:<rule
    id>:<check>`, in the source's Region (us-east-1 for every rule of the shop), acting on
    the topic there, same settings, description and tags (PutMetricAlarm takes them as
    describe_alarms gives them)."""
    cloudwatch = clients.get("cloudwatch", EAST)
    old_names = []
    for (region, alarm_name), alarm in every_alarm(clients).items():
        source, rule = watched(alarm)
        old = alarm_name.replace(f":{source}:", ":", 1)
        actions = [a.replace(region, EAST) for a in alarm["AlarmActions"]]
        cloudwatch.put_metric_alarm(AlarmName=old, **{
            **{k: alarm[k] for k in alarms.MANAGED}, "AlarmActions": actions},
            Tags=[{"Key": "s3replication:managed", "Value": "true"}])
        clients.get("cloudwatch", region).delete_alarms(AlarmNames=[alarm_name])
        old_names.append(old)
    return old_names


@pytest.fixture
def moto(moto_clients: Clients) -> Clients:
    return moto_clients


def test_two_configs_with_the_same_rule_ids_keep_their_own_alarms(moto, tmp_path):
    first, other = first_shop(tmp_path), other_shop(tmp_path)
    for config in (first, other, first, other):  # each applied in turn, twice
        applied = run("crr", "apply", "--config", str(config))
        assert applied.status == 0, applied.stderr
    found = found_alarms(moto)
    assert {watched(a) for a in found.values()} >= {CATALOG_A, CATALOG_B}  # each shop's own
    for source, rule in (CATALOG_A, CATALOG_B):
        for check in CHECKS:
            assert watched(found[name(source, rule, check)]) == (source, rule)
    assert len(every_alarm(moto)) == 2 * 4 * 3  # two shops, four CRR rules each, each once
    for config in (first, other):  # neither undoes the other
        assert monitoring_changes(moto, config, "crr") == []
        again = run("crr", "apply", "--config", str(config))
        assert again.status == 0 and [c for c in again.mutating if c[0] == "cloudwatch"] == []


def test_old_names_are_renamed_not_duplicated_and_others_old_names_stay(moto, tmp_path):
    first, other = first_shop(tmp_path), other_shop(tmp_path)
    for kind in ("crr", "srr"):
        assert run(kind, "apply", "--config", str(first)).status == 0
    old_names = set(to_old_names(moto))  # as an older version left them: they watch `first`
    assert "s3-replication:catalog-usw2:latency" in old_names

    # the other shop, applied with this version: its own alarms; the old names are not its own
    assert run("crr", "apply", "--config", str(other)).status == 0
    found = found_alarms(moto)
    assert watched(found["s3-replication:catalog-usw2:latency"]) == CATALOG_A
    assert watched(found[name(*CATALOG_B, "latency")]) == CATALOG_B

    planned = run("crr", "plan", "--config", str(first), "--json")
    renames = [c for c in json.loads(planned.stdout)["changes"]
               if c["setting"] == "alarm latency" and "catalog-usw2" in c["resource"]]
    assert [(c["current"]["AlarmName"], c["wanted"]["AlarmName"]) for c in renames] == [
        (["s3-replication:catalog-usw2:latency"],
         ["s3-replication:shopco-data-use1:catalog-usw2:latency"])]
    for kind in ("crr", "srr"):
        assert run(kind, "apply", "--config", str(first)).status == 0
    found = found_alarms(moto)
    assert len(found) == len(every_alarm(moto))  # no name twice, in any Region
    assert not set(found) & old_names  # renamed, none left behind
    mine = {n: a for n, a in found.items() if watched(a)[0].startswith("shopco-")}
    assert len(mine) == 6 * 3 - 1  # every check of every rule once (one rule without RTC)
    assert all(n == name(*watched(a), n.rsplit(":", 1)[1]) for n, a in found.items())
    for config, kind in ((first, "crr"), (first, "srr"), (other, "crr")):
        assert monitoring_changes(moto, config, kind) == []


def test_a_crash_between_making_the_new_alarm_and_deleting_the_old_converges(moto, tmp_path):
    first = first_shop(tmp_path)
    assert run("crr", "apply", "--config", str(first)).status == 0
    new_names = set(alarms_by_name(moto))
    cloudwatch = moto.get("cloudwatch", EAST)
    for alarm_name, alarm in alarms_by_name(moto).items():  # old copies beside the new ones
        source, _ = watched(alarm)
        cloudwatch.put_metric_alarm(AlarmName=alarm_name.replace(f":{source}:", ":", 1),
                                    **{k: alarm[k] for k in alarms.MANAGED})
    assert len(alarms_by_name(moto)) == 2 * len(new_names)
    status = run("crr", "status", "--config", str(first))
    assert status.status == 0, status.stdout  # no alarm missing, none twice
    assert run("crr", "apply", "--config", str(first)).status == 0
    assert set(alarms_by_name(moto)) == new_names


def test_status_and_destroy_find_alarms_under_the_old_names(moto, tmp_path):
    first = first_shop(tmp_path)
    assert run("crr", "apply", "--config", str(first)).status == 0
    to_old_names(moto)
    moto.get("cloudwatch", EAST).set_alarm_state(
        AlarmName="s3-replication:orders-usw2:backlog", StateValue="ALARM", StateReason="test")
    status = run("crr", "status", "--config", str(first), "--json")
    rows = {r["rule"]: r for r in json.loads(status.stdout)["rules"]}
    assert rows["catalog-usw2"]["verdict"] == "no data yet"  # found, not "missing"
    assert rows["orders-usw2"]["reasons"] == [
        "alarm s3-replication:orders-usw2:backlog is in ALARM: more than 1000 operations "
        "pending for 15 minutes"]
    assert run("crr", "destroy", "--yes", "--config", str(first)).status == 0
    assert every_alarm(moto) == {}


def test_an_alarm_under_our_name_watching_another_rule_is_refused(moto, tmp_path):
    first = first_shop(tmp_path)
    taken = name(*CATALOG_A, "latency")  # in the destination's Region
    moto.get("cloudwatch", WEST).put_metric_alarm(  # someone else's, under the name we need
        AlarmName=taken, Namespace="AWS/S3", MetricName="ReplicationLatency",
        Statistic="Maximum", Period=300, EvaluationPeriods=1, Threshold=60,
        ComparisonOperator="GreaterThanThreshold",
        Dimensions=[{"Name": "SourceBucket", "Value": "elsewhere"},
                    {"Name": "DestinationBucket", "Value": "elsewhere-copy"},
                    {"Name": "RuleId", "Value": "mirror"}])
    for command in ("plan", "apply"):
        refused = run("crr", command, "--config", str(first))
        assert refused.status == 1, refused.stderr
        assert refused.mutating == []
        assert (f"alarm {taken} (us-west-2) watches rule mirror of bucket elsewhere, but it is "
                "the name of the latency alarm of rule catalog-usw2 of bucket shopco-data-use1"
                ) in refused.stderr
    assert list(every_alarm(moto)) == [(WEST, taken)]


@pytest.mark.parametrize(("shared", "words"), [
    ("shopco-replication-alerts", "SNS topic shopco-replication-alerts (us-east-1) carries the "
                                  "alerts of source bucket shopco-"),
    ('"shopco-replication"', "dashboard shopco-replication shows rule "),
], ids=["topic", "dashboard"])
def test_a_topic_or_dashboard_of_another_config_is_refused(moto, tmp_path, shared, words):
    first, other = first_shop(tmp_path), other_shop(tmp_path, keep=(shared,))
    assert run("crr", "apply", "--config", str(first)).status == 0
    before = alarms_by_name(moto)
    for command in ("plan", "apply", "destroy"):
        refused = run("crr", command, "--yes", "--config", str(other)) if command == "destroy" \
            else run("crr", command, "--config", str(other))
        assert refused.status == 1, (command, refused.stderr)
        assert refused.mutating == []
        assert words in refused.stderr
        assert "of its own" in refused.stderr
    assert alarms_by_name(moto) == before
    assert run("crr", "plan", "--config", str(first)).status in (0, 3)  # the first still runs


def test_long_names_stay_within_255_characters_and_apart():
    source = "b" * 63
    ids = ["r" * 250 + "1", "r" * 250 + "2"]
    rules = [RuleSpec(id=i, kind="crr", source=source, destination="d") for i in ids]
    names = {alarm_names.alarm_name(r.source, r.id, alarm_names.FAILED) for r in rules}
    assert len(names) == 2
    assert all(len(n) <= 255 and n.startswith(f"s3-replication:{source}:") for n in names)
    other = alarm_names.alarm_name("c" * 63, ids[0], alarm_names.FAILED)
    assert other not in names and len(other) <= 255
