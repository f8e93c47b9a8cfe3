"""Monitoring: alarms, SNS topic, bucket notifications and dashboard; on moto (the scripts' calls
and what they leave behind) and on MiniStack (whole runs: re-runs, drift, both scripts, destroy).

Where each alarm lives, which neither emulator checks (both evaluate any alarm against data
put in its own Region, and take an action on a topic of any Region):
- S3 publishes a rule's ReplicationLatency, BytesPendingReplication and
  OperationsPendingReplication in the destination bucket's Region, and
  OperationsFailedReplication in the source bucket's ("Which Region is this metric published
  in?", https://docs.aws.amazon.com/AmazonS3/latest/userguide/repl-metrics.html). An alarm
  watches a metric of the Region it is made in (PutMetricAlarm "associates it with the
  specified metric", https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html;
  an alarm on a metric of another Region is refused, "Cannot create an Alarm in region ...
  based on metric ... in ...", https://github.com/aws/aws-cdk/issues/16367): so a CRR rule's
  latency and backlog alarms belong in the destination's Region, or they would never see a
  data point (and, missing data ignored, stay INSUFFICIENT_DATA for ever).
- An alarm's SNS action must be a topic of the alarm's Region: AlarmActions takes
  `arn:aws:sns:region:account-id:sns-topic-name` (API_PutMetricAlarm.html, above), and AWS
  refuses another Region's topic ("ValidationError: Invalid region ca-central-1 specified.
  Only us-west-2 is supported.", https://github.com/cds-snc/notification-terraform/pull/128).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from s3replication.aws.clients import Clients
from s3replication.config import load_config
from s3replication.engine import scope
from s3replication.engine.context import PLAN, Context
from s3replication.engine.items import run_lanes
from s3replication.monitoring import alarms
from s3replication.monitoring import lanes as monitoring
from tests.shop import Run, run_script, shop_config

EAST, WEST, IRELAND = "us-east-1", "us-west-2", "eu-west-1"
MOTO_TOPIC = "arn:aws:sns:us-east-1:123456789012:shopco-replication-alerts"
DESTINATION_REGION = {"catalog-usw2": WEST, "orders-usw2": WEST, "inventory-usw2": WEST,
                      "images-euw1": IRELAND, "customers-backup": EAST,
                      "transactions-archive": EAST}
CRR_RULES = {"catalog-usw2", "orders-usw2", "inventory-usw2", "images-euw1"}
SRR_RULES = {"customers-backup", "transactions-archive"}
USER_ENTRY = {"Id": "shop-uploads", "Events": ["s3:ObjectCreated:*"],
              "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "uploads/"}]}}}
SOURCE = {"catalog-usw2": "shopco-data-use1", "orders-usw2": "shopco-data-use1",
          "inventory-usw2": "shopco-data-use1", "images-euw1": "shopco-assets-use1",
          "customers-backup": "shopco-data-use1", "transactions-archive": "shopco-logs-use1"}
SECOND_EMAIL = 'MONITORING = {**MONITORING, "alert_emails": ["ops@example.com"]}'


def name(rule: str, check: str) -> str:
    """The alarm name of a rule of the shop config: its source bucket, rule id and check."""
    return f"s3-replication:{SOURCE[rule]}:{rule}:{check}"


def dims(source: str, destination: str, rule: str) -> list[dict[str, str]]:
    return [{"Name": "DestinationBucket", "Value": destination}, {"Name": "RuleId", "Value": rule},
            {"Name": "SourceBucket", "Value": source}]


def alarms_by_name(clients: Clients, region: str = EAST) -> dict[str, dict]:
    found = clients.get("cloudwatch", region).describe_alarms(AlarmNamePrefix="s3-replication:")
    return {a["AlarmName"]: a for a in found["MetricAlarms"]}


def every_alarm(clients: Clients) -> dict[tuple[str, str], dict]:
    """(Region, name) -> alarm, in every Region of the shop's buckets."""
    return {(region, alarm_name): alarm for region in (EAST, WEST, IRELAND)
            for alarm_name, alarm in alarms_by_name(clients, region).items()}


def topic(region: str) -> str:
    return MOTO_TOPIC.replace(EAST, region)


def watched_rules(clients: Clients) -> set[str]:
    return {next(d["Value"] for d in a["Dimensions"] if d["Name"] == "RuleId")
            for a in every_alarm(clients).values()}


def topic_policy(clients: Clients, arn: str) -> dict:
    attributes = clients.get("sns", EAST).get_topic_attributes(TopicArn=arn)["Attributes"]
    return json.loads(attributes["Policy"])


def notification(clients: Clients, bucket: str) -> dict:
    found = clients.get("s3", EAST).get_bucket_notification_configuration(Bucket=bucket)
    found.pop("ResponseMetadata")
    return found


def dashboard(clients: Clients) -> dict:
    body = clients.get("cloudwatch", EAST).get_dashboard(DashboardName="shopco-replication")
    return json.loads(body["DashboardBody"])


def add_user_notification(clients: Clients, bucket: str) -> dict:
    """A notification the user made before the scripts ran: their own topic, other events."""
    sns, s3 = clients.get("sns", EAST), clients.get("s3", EAST)
    arn = sns.create_topic(Name="shop-uploads")["TopicArn"]
    s3.create_bucket(Bucket=bucket)
    entry = {**USER_ENTRY, "TopicArn": arn}
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"TopicConfigurations": [entry]})
    return entry


def monitoring_changes(clients: Clients, config: Path, kind: str) -> list:
    """What the monitoring stage alone would change: its plan, through the library."""
    ctx = Context(config=load_config(config), kind=kind, clients=clients,
                  account=clients.account_id(), mode=PLAN)
    return run_lanes(monitoring.lanes(ctx, scope.Scope.of(ctx)), apply=False).changes


# --- moto: the calls and what they leave -------------------------------------------------------


@pytest.fixture
def moto(moto_clients: Clients) -> Clients:
    return moto_clients


def moto_run(kind: str, *argv: str) -> Run:
    result = run_script(kind, *argv, clients=Clients)
    assert result.status in (0, 3), result.stderr
    return result


def test_every_rule_has_alarms_on_its_own_three_dimensions(moto, tmp_path):
    config = str(shop_config(tmp_path))
    moto_run("crr", "apply", "--config", config)
    moto_run("srr", "apply", "--config", config)
    alarms = every_alarm(moto)
    common = {"Namespace": "AWS/S3", "ActionsEnabled": True, "TreatMissingData": "ignore"}
    expected = {
        "failed-operations": {"MetricName": "OperationsFailedReplication", "Statistic": "Sum",
                              "ComparisonOperator": "GreaterThanThreshold", "Threshold": 0.0,
                              "Period": 60, "EvaluationPeriods": 1, "DatapointsToAlarm": 1},
        "latency": {"MetricName": "ReplicationLatency", "Statistic": "Maximum",
                    "ComparisonOperator": "GreaterThanOrEqualToThreshold", "Threshold": 900.0,
                    "Period": 300, "EvaluationPeriods": 1, "DatapointsToAlarm": 1},
        "backlog": {"MetricName": "OperationsPendingReplication", "Statistic": "Maximum",
                    "ComparisonOperator": "GreaterThanThreshold", "Threshold": 1000.0,
                    "Period": 300, "EvaluationPeriods": 3, "DatapointsToAlarm": 3},
    }
    where = {"failed-operations": EAST, "latency": WEST, "backlog": WEST}  # catalog: use1->usw2
    for check, settings in expected.items():
        alarm = alarms[(where[check], name("catalog-usw2", check))]
        assert {k: alarm[k] for k in [*common, *settings]} == {**common, **settings}, check
        assert alarm["AlarmActions"] == [topic(where[check])], check
        assert sorted(alarm["Dimensions"], key=lambda d: d["Name"]) == dims(
            "shopco-data-use1", "shopco-data-usw2", "catalog-usw2")
    every = {(EAST if check == "failed-operations" else DESTINATION_REGION[rule],
              name(rule, check)) for rule in CRR_RULES | SRR_RULES for check in expected}
    assert set(alarms) == every - {(EAST, name("transactions-archive", "latency"))}  # no RTC


def test_each_alarm_acts_on_a_topic_of_its_own_region(moto, tmp_path):
    """A CRR rule's latency and backlog alarms are in its destination's Region, acting on the
    alert topic made there, with the alert_emails subscribed; its failed-operations alarm in
    the source's Region; a second apply changes nothing."""
    config = str(shop_config(tmp_path, extra=SECOND_EMAIL))
    moto_run("crr", "apply", "--config", config)
    for region in (EAST, WEST, IRELAND):
        subscribed = moto.get("sns", region).list_subscriptions_by_topic(TopicArn=topic(region))
        assert [s["Endpoint"] for s in subscribed["Subscriptions"]] == ["ops@example.com"]
    for (region, _), alarm in every_alarm(moto).items():
        assert alarm["AlarmActions"] == [topic(region)]
    images = {check: region for (region, alarm_name) in every_alarm(moto)
              if ":images-euw1:" in alarm_name for check in [alarm_name.rsplit(":", 1)[1]]}
    assert images == {"failed-operations": EAST, "latency": IRELAND, "backlog": IRELAND}
    # S3 publishes to the topics of the sources' Regions only: no statement where none is
    west_policy = json.loads(moto.get("sns", WEST).get_topic_attributes(
        TopicArn=topic(WEST))["Attributes"]["Policy"])
    assert "S3ReplicationEventsPublish" not in {s.get("Sid") for s in west_policy["Statement"]}
    again = moto_run("crr", "apply", "--config", config)
    assert [c for c in again.mutating if c[0] in ("cloudwatch", "sns")] == []
    assert monitoring_changes(moto, Path(config), "crr") == []
    planned = json.loads(moto_run("crr", "plan", "--config", config, "--json").stdout)
    assert [c for c in planned["changes"] if c["resource"].startswith("SNS topic")] == []
    moto_run("crr", "destroy", "--yes", "--config", config)
    assert every_alarm(moto) == {}
    for region in (EAST, WEST, IRELAND):  # made by the tool, nothing else on them: gone
        assert moto.get("sns", region).list_topics()["Topics"] == [], region


def test_alarms_made_in_the_source_region_are_moved_not_duplicated(moto, tmp_path):
    """An upgrade: the version before this one made every alarm in the source's Region. The
    latency and backlog alarms of each CRR rule move to the destination's Region (plan shows
    the move; apply makes the new one, then deletes the old one), none is left twice, and
    `status` finds them where they are before and after."""
    config = str(shop_config(tmp_path))
    moto_run("crr", "apply", "--config", config)
    east = moto.get("cloudwatch", EAST)
    moved = {}
    for (region, alarm_name), alarm in every_alarm(moto).items():  # as the old version left them
        if region != EAST:
            east.put_metric_alarm(AlarmName=alarm_name, **{
                **{k: alarm[k] for k in alarms.MANAGED}, "AlarmActions": [MOTO_TOPIC]})
            moto.get("cloudwatch", region).delete_alarms(AlarmNames=[alarm_name])
            moved[alarm_name] = region
    assert len(moved) == 2 * len(CRR_RULES) and set(every_alarm(moto)) == {
        (EAST, n) for n in alarms_by_name(moto)}
    east.set_alarm_state(AlarmName=name("orders-usw2", "backlog"), StateValue="ALARM",
                         StateReason="test")
    before = json.loads(moto_run("crr", "status", "--config", config, "--json").stdout)
    verdicts = {r["rule"]: r["verdict"] for r in before["rules"]}
    assert verdicts == {"catalog-usw2": "no data yet", "orders-usw2": "attention",
                        "inventory-usw2": "no data yet", "images-euw1": "no data yet"}

    planned = json.loads(moto_run("crr", "plan", "--config", config, "--json").stdout)
    moves = {c["wanted"]["AlarmName"][0]: (c["current"]["Region"], c["wanted"]["Region"])
             for c in planned["changes"] if c["setting"].startswith("alarm ")}
    assert moves == {n: ([EAST], [region]) for n, region in moved.items()}
    moto_run("crr", "apply", "--config", config)
    found = every_alarm(moto)
    assert {(r, n) for r, n in found if n in moved} == {(r, n) for n, r in moved.items()}
    assert len(found) == 3 * len(CRR_RULES)  # each alarm once
    assert monitoring_changes(moto, Path(config), "crr") == []


def test_a_crash_between_making_the_moved_alarm_and_deleting_the_old_one_converges(moto,
                                                                                   tmp_path):
    config = str(shop_config(tmp_path))
    moto_run("crr", "apply", "--config", config)
    east = moto.get("cloudwatch", EAST)
    for (region, alarm_name), alarm in every_alarm(moto).items():  # old copies left behind
        if region != EAST:
            east.put_metric_alarm(AlarmName=alarm_name, **{
                **{k: alarm[k] for k in alarms.MANAGED}, "AlarmActions": [MOTO_TOPIC]})
    assert len(every_alarm(moto)) == 3 * len(CRR_RULES) + 2 * len(CRR_RULES)
    status = moto_run("crr", "status", "--config", config)
    assert status.status == 0, status.stdout
    moto_run("crr", "apply", "--config", config)
    assert len(every_alarm(moto)) == 3 * len(CRR_RULES)
    moto_run("crr", "destroy", "--yes", "--config", config)
    assert every_alarm(moto) == {}


def test_topic_policy_lets_s3_publish_for_the_accounts_source_buckets_only(moto, tmp_path):
    sns = moto.get("sns", EAST)
    sns.create_topic(Name="shopco-replication-alerts")  # made by hand before, with a statement
    hand_made = {"Sid": "OpsCanPublish", "Effect": "Allow",
                 "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sns:Publish",
                 "Resource": MOTO_TOPIC}
    sns.set_topic_attributes(TopicArn=MOTO_TOPIC, AttributeName="Policy", AttributeValue=json.dumps(
        {"Version": "2012-10-17", "Statement": [hand_made]}))
    config = str(shop_config(tmp_path))
    moto_run("crr", "apply", "--config", config)
    moto_run("srr", "apply", "--config", config)
    statements = {s["Sid"]: s for s in topic_policy(moto, MOTO_TOPIC)["Statement"]}
    assert statements["OpsCanPublish"] == hand_made
    assert statements["S3ReplicationEventsPublish"] == {
        "Sid": "S3ReplicationEventsPublish", "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sns:Publish",
        "Resource": MOTO_TOPIC,
        "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"},
                      "ArnLike": {"aws:SourceArn": ["arn:aws:s3:::shopco-assets-use1",
                                                    "arn:aws:s3:::shopco-data-use1",
                                                    "arn:aws:s3:::shopco-logs-use1"]}}}
    moto_run("crr", "destroy", "--yes", "--config", config)
    moto_run("srr", "destroy", "--yes", "--config", config)
    # not made by the scripts: kept, with only the hand-made statement left
    assert topic_policy(moto, MOTO_TOPIC)["Statement"] == [hand_made]


def test_alert_emails_are_subscribed_and_only_ours_are_removed(moto, tmp_path):
    sns = moto.get("sns", EAST)
    config = str(shop_config(tmp_path, extra=SECOND_EMAIL))
    moto_run("crr", "apply", "--config", config)
    sns.subscribe(TopicArn=MOTO_TOPIC, Protocol="email", Endpoint="pager@example.com")

    def endpoints() -> set[str]:
        found = sns.list_subscriptions_by_topic(TopicArn=MOTO_TOPIC)["Subscriptions"]
        return {s["Endpoint"] for s in found}

    assert endpoints() == {"ops@example.com", "pager@example.com"}
    moto_run("crr", "apply", "--config", str(shop_config(tmp_path)))  # no alert_emails now
    assert endpoints() == {"pager@example.com"}
    moto_run("crr", "destroy", "--yes", "--config", config)
    # someone else's subscription: the topic stays for it
    assert endpoints() == {"pager@example.com"}


def test_notification_entry_is_merged_and_follows_rtc(moto, tmp_path):
    user_entry = add_user_notification(moto, "shopco-data-use1")
    config = str(shop_config(tmp_path))
    moto_run("srr", "apply", "--config", config)
    entries = {e["Id"]: e for e in notification(moto, "shopco-data-use1")["TopicConfigurations"]}
    assert entries["shop-uploads"] == user_entry
    assert entries["s3-replication-events"] == {
        "Id": "s3-replication-events", "TopicArn": MOTO_TOPIC,
        "Events": ["s3:Replication:OperationFailedReplication",
                   "s3:Replication:OperationMissedThreshold",
                   "s3:Replication:OperationReplicatedAfterThreshold"]}
    archive = notification(moto, "shopco-logs-use1")["TopicConfigurations"]  # rule without RTC
    assert [e["Events"] for e in archive] == [["s3:Replication:OperationFailedReplication"]]
    moto_run("srr", "destroy", "--yes", "--config", config)
    assert notification(moto, "shopco-data-use1") == {"TopicConfigurations": [user_entry]}
    assert notification(moto, "shopco-logs-use1") == {}


def test_dashboard_shows_each_metric_in_the_region_it_is_published_in(moto, tmp_path):
    config = str(shop_config(tmp_path))
    moto_run("crr", "apply", "--config", config)
    moto_run("srr", "apply", "--config", config)
    widgets = dashboard(moto)["widgets"]
    assert len(widgets) == 4 * len(CRR_RULES | SRR_RULES)
    catalog = [w for w in widgets if w["properties"]["title"].startswith("catalog-usw2 ")]
    assert [w["properties"]["metrics"][0][1] for w in catalog] == [
        "ReplicationLatency", "OperationsPendingReplication", "BytesPendingReplication",
        "OperationsFailedReplication"]
    assert [w["properties"]["stat"] for w in catalog] == ["Maximum", "Maximum", "Maximum", "Sum"]
    assert [w["properties"]["region"] for w in catalog] == [WEST, WEST, WEST, EAST]
    backup = [w for w in widgets if w["properties"]["title"].startswith("customers-backup ")]
    assert {w["properties"]["region"] for w in backup} == {EAST}  # SRR: one Region
    for widget in catalog:
        assert widget["properties"]["metrics"][0][2:] == [
            "SourceBucket", "shopco-data-use1", "DestinationBucket", "shopco-data-usw2",
            "RuleId", "catalog-usw2"]
    positions = {(w["x"], w["y"]) for w in widgets}
    assert len(positions) == len(widgets)  # no two widgets on one spot


def test_monitoring_settles_after_apply_for_both_scripts(moto, tmp_path):
    config = shop_config(tmp_path, extra=SECOND_EMAIL)
    moto_run("crr", "apply", "--config", str(config))
    assert monitoring_changes(moto, config, "crr") == []
    assert monitoring_changes(moto, config, "srr") != []  # its rules are not there yet
    moto_run("srr", "apply", "--config", str(config))
    assert monitoring_changes(moto, config, "srr") == []
    assert monitoring_changes(moto, config, "crr") == []


def test_other_scripts_rules_count_once_it_has_made_them(moto, tmp_path):
    config = shop_config(tmp_path)
    ctx = Context(config=load_config(config), kind="crr", clients=moto,
                  account=moto.account_id(), mode=PLAN)
    before = monitoring.served_rules(ctx, scope.Scope.of(ctx))
    assert [r.id for r in before["shopco-data-use1"]] == [
        "catalog-usw2", "orders-usw2", "inventory-usw2"]
    assert before["shopco-logs-use1"] == []
    moto_run("srr", "apply", "--config", str(config))
    ctx.bucket_tags.clear()
    after = monitoring.served_rules(ctx, scope.Scope.of(ctx))
    assert [r.id for r in after["shopco-data-use1"]] == [
        "catalog-usw2", "orders-usw2", "inventory-usw2", "customers-backup"]
    assert [r.id for r in after["shopco-logs-use1"]] == ["transactions-archive"]


def test_removed_rule_loses_its_alarms_and_widgets_others_stay(moto, tmp_path):
    config = str(shop_config(tmp_path))
    moto_run("crr", "apply", "--config", config)
    moto_run("srr", "apply", "--config", config)
    cloudwatch = moto.get("cloudwatch", EAST)
    cloudwatch.put_metric_alarm(  # a hand-made alarm in our name space, on a rule not ours
        AlarmName="s3-replication:hand-made:failed-operations", Namespace="AWS/S3",
        MetricName="OperationsFailedReplication", Statistic="Sum", Period=60,
        EvaluationPeriods=1, Threshold=0, ComparisonOperator="GreaterThanThreshold",
        Dimensions=dims("shopco-data-use1", "shopco-data-usw2", "hand-made"))
    trimmed = shop_config(tmp_path, extra="CRR_RULES = [r for r in CRR_RULES "
                                          "if r['id'] != 'inventory-usw2']")
    planned = moto_run("crr", "plan", "--config", str(trimmed), "--json")
    settings = {(c["resource"], c["setting"]) for c in json.loads(planned.stdout)["changes"]}
    assert ("cr_replication alarms (us-east-1)", "alarms of removed rules") in settings
    moto_run("crr", "apply", "--config", str(trimmed))
    assert watched_rules(moto) == (CRR_RULES | SRR_RULES | {"hand-made"}) - {"inventory-usw2"}
    titles = {w["properties"]["title"].split(" ")[0] for w in dashboard(moto)["widgets"]}
    assert titles == (CRR_RULES | SRR_RULES) - {"inventory-usw2"}
    moto_run("crr", "destroy", "--yes", "--config", str(trimmed))
    assert watched_rules(moto) == SRR_RULES | {"hand-made"}


def test_a_removed_rule_loses_its_alarms_in_a_region_no_rule_goes_to_any_more(moto, tmp_path):
    """images-euw1 is the only rule toward eu-west-1: once it is gone from the config, its
    latency and backlog alarms there are still found (every Region of the caller's buckets
    is read) and deleted, and so is the topic that only they used."""
    config = str(shop_config(tmp_path))
    moto_run("crr", "apply", "--config", config)
    assert {r for r, n in every_alarm(moto) if ":images-euw1:" in n} == {EAST, IRELAND}
    trimmed = shop_config(tmp_path, extra="CRR_RULES = [r for r in CRR_RULES "
                                          "if r['id'] != 'images-euw1']")
    moto_run("crr", "apply", "--config", str(trimmed))
    assert [n for _, n in every_alarm(moto) if ":images-euw1:" in n] == []
    assert moto.get("sns", IRELAND).list_topics()["Topics"] == []
    assert monitoring_changes(moto, trimmed, "crr") == []


# --- MiniStack: whole runs ---------------------------------------------------------------------


@pytest.fixture
def aws(ministack_endpoint: str, reset_ministack: Callable[[], None]) -> Clients:
    from s3replication import sandbox

    return Clients(endpoint_url=ministack_endpoint, session=sandbox.sandbox_session())


@pytest.fixture
def script(ministack_endpoint: str, aws: Clients) -> Callable[..., Run]:
    from s3replication import sandbox

    def run(kind: str, *argv: str) -> Run:
        return run_script(kind, *argv, clients=lambda: Clients(
            endpoint_url=ministack_endpoint, session=sandbox.sandbox_session()))
    return run


def test_sandbox_both_scripts_settle_and_rerun_reads_only(script, aws, tmp_path):
    config = str(shop_config(tmp_path, extra=SECOND_EMAIL))
    for kind in ("crr", "srr"):
        applied = script(kind, "apply", "--config", config)
        assert applied.status == 0, applied.stderr
    for kind in ("crr", "srr"):
        again = script(kind, "apply", "--config", config)
        assert again.status == 0 and again.mutating == [], again.stdout
        assert script(kind, "plan", "--config", config).status == 0
    topic = "arn:aws:sns:us-east-1:000000000000:shopco-replication-alerts"
    assert set(every_alarm(aws)) >= {(EAST, name("customers-backup", "latency")),
                                     (IRELAND, name("images-euw1", "backlog"))}
    assert alarms_by_name(aws, WEST)[name("orders-usw2", "latency")]["AlarmActions"] == [
        topic.replace(EAST, WEST)]
    assert notification(aws, "shopco-assets-use1")["TopicConfigurations"][0]["TopicArn"] == topic
    assert len(dashboard(aws)["widgets"]) == 24


@pytest.mark.parametrize("drift", ["alarm-deleted", "alarm-threshold", "statement-deleted",
                                   "notification-deleted", "dashboard-deleted"])
def test_sandbox_drift_in_monitoring_is_planned_and_repaired(script, aws, tmp_path, drift):
    config = str(shop_config(tmp_path))
    assert script("crr", "apply", "--config", config).status == 0
    topic = "arn:aws:sns:us-east-1:000000000000:shopco-replication-alerts"
    cloudwatch = aws.get("cloudwatch", WEST if drift.startswith("alarm") else EAST)
    if drift == "alarm-deleted":  # the latency alarm of catalog: in the destination's Region
        cloudwatch.delete_alarms(AlarmNames=[name("catalog-usw2", "latency")])
    elif drift == "alarm-threshold":
        alarm = alarms_by_name(aws, WEST)[name("catalog-usw2", "latency")]
        cloudwatch.put_metric_alarm(**{k: alarm[k] for k in (
            "AlarmName", "Namespace", "MetricName", "Statistic", "Dimensions", "Period",
            "EvaluationPeriods", "ComparisonOperator", "AlarmActions")}, Threshold=3600)
    elif drift == "statement-deleted":
        aws.get("sns", EAST).set_topic_attributes(
            TopicArn=topic, AttributeName="Policy",
            AttributeValue=json.dumps({"Version": "2012-10-17", "Statement": []}))
    elif drift == "notification-deleted":
        aws.get("s3", EAST).put_bucket_notification_configuration(
            Bucket="shopco-data-use1", NotificationConfiguration={})
    else:
        cloudwatch.delete_dashboards(DashboardNames=["shopco-replication"])
    planned = script("crr", "plan", "--config", config)
    assert planned.status == 3
    assert script("crr", "apply", "--config", config).status == 0
    assert script("crr", "plan", "--config", config).status == 0


def test_sandbox_user_notification_survives_apply_plan_and_destroy(script, aws, tmp_path):
    user_entry = add_user_notification(aws, "shopco-data-use1")
    aws.get("s3", EAST).put_bucket_notification_configuration(
        Bucket="shopco-data-use1", NotificationConfiguration={
            "TopicConfigurations": [user_entry], "EventBridgeConfiguration": {}})
    config = str(shop_config(tmp_path))
    for argv in (("crr", "apply"), ("srr", "apply"), ("crr", "plan"), ("srr", "plan")):
        assert script(*argv, "--config", config).status == 0
    found = notification(aws, "shopco-data-use1")
    assert found["EventBridgeConfiguration"] == {}
    assert [e["Id"] for e in found["TopicConfigurations"]] == [
        "shop-uploads", "s3-replication-events"]
    assert found["TopicConfigurations"][0] == user_entry
    for kind in ("crr", "srr"):
        assert script(kind, "destroy", "--yes", "--config", config).status == 0
    assert notification(aws, "shopco-data-use1") == {
        "TopicConfigurations": [user_entry], "EventBridgeConfiguration": {}}


def test_sandbox_cr_destroy_leaves_sr_monitoring_whole(script, aws, tmp_path):
    config = str(shop_config(tmp_path))
    for kind in ("crr", "srr"):
        assert script(kind, "apply", "--config", config).status == 0
    assert script("crr", "destroy", "--yes", "--config", config).status == 0
    assert script("srr", "plan", "--config", config).status == 0
    assert watched_rules(aws) == SRR_RULES
    titles = {w["properties"]["title"].split(" ")[0] for w in dashboard(aws)["widgets"]}
    assert titles == SRR_RULES
    assert "TopicConfigurations" not in notification(aws, "shopco-assets-use1")
    assert len(notification(aws, "shopco-data-use1")["TopicConfigurations"]) == 1
    assert script("srr", "destroy", "--yes", "--config", config).status == 0
    for region in (EAST, WEST, IRELAND):
        assert aws.get("sns", region).list_topics()["Topics"] == [], region
    assert aws.get("cloudwatch", EAST).list_dashboards()["DashboardEntries"] == []
    assert every_alarm(aws) == {}
    assert script("crr", "plan", "--config", config).status == 3  # a fresh start again
