"""Partitions (aws-cn, aws-us-gov), where the log goes, and alerts that would reach nobody.

AWS pages that state the behaviour relied on:
- Partitions are isolated: IAM, credentials and ARNs are per partition, with their own global
  Region and DNS suffix:
  https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/partitions.html
  and ARN format `arn:PARTITION:...`:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html
- The China Regions' endpoints end in amazonaws.com.cn:
  https://docs.amazonaws.cn/en_us/aws/latest/userguide/endpoints-Beijing.html
- kms:ViaService holds the endpoint host of the service that calls KMS:
  https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service
- An SNS topic delivers only to confirmed subscriptions:
  https://docs.aws.amazon.com/sns/latest/dg/SendMessageToHttp.confirm.html
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from s3replication.aws import naming
from s3replication.aws.clients import Clients
from s3replication.config import PROJECT_ROOT, load_config
from s3replication.errors import ConfigError
from tests.shop import run_script, shop_config

CN_CONFIG = """
BUCKETS = {
    "shop-data-cnn1": {"region": "cn-north-1", "kms_key": "alias/shop-cnn1"},
    "shop-data-cnnw1": {"region": "cn-northwest-1", "kms_key": "alias/shop-cnnw1"},
}
CRR_RULES = [{"id": "data-cnnw1", "source": "shop-data-cnn1", "destination": "shop-data-cnnw1"}]
SRR_RULES = []
"""


def _write(tmp_path: Path, text: str) -> Path:
    return shop_config(tmp_path, base=text)


def test_buckets_spanning_partitions_are_a_config_error(tmp_path: Path) -> None:
    path = _write(tmp_path, """
BUCKETS = {"shop-a": {"region": "us-east-1"}, "shop-b": {"region": "cn-north-1"},
           "shop-c": {"region": "us-gov-west-1"}}
CRR_RULES = []
SRR_RULES = []
""")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    problems = raised.value.problems
    assert any(p.startswith('BUCKETS["shop-b"]["region"]: cn-north-1 is in partition aws-cn')
               for p in problems), problems
    assert any(p.startswith('BUCKETS["shop-c"]["region"]: us-gov-west-1 is in partition '
                            "aws-us-gov") for p in problems), problems


def test_key_arn_of_another_partition_is_a_config_error(tmp_path: Path) -> None:
    path = _write(tmp_path, """
BUCKETS = {"shop-a": {"region": "cn-north-1",
                      "kms_key": "arn:aws:kms:cn-north-1:111122223333:key/abc"}}
CRR_RULES = []
SRR_RULES = []
""")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert raised.value.problems == [
        'BUCKETS["shop-a"]["kms_key"]: key ARN "arn:aws:kms:cn-north-1:111122223333:key/abc" '
        "names partition aws, but Region cn-north-1 is in partition aws-cn"]


@pytest.mark.parametrize(("region", "partition", "global_region", "host"), [
    ("us-west-2", "aws", "us-east-1", "s3.us-west-2.amazonaws.com"),
    ("cn-northwest-1", "aws-cn", "cn-north-1", "s3.cn-northwest-1.amazonaws.com.cn"),
    ("us-gov-east-1", "aws-us-gov", "us-gov-west-1", "s3.us-gov-east-1.amazonaws.com"),
])
def test_partition_names(region: str, partition: str, global_region: str, host: str) -> None:
    assert naming.partition(region) == partition
    assert naming.global_region(region) == global_region
    assert naming.s3_service_host(region) == host
    assert naming.bucket_arn("b", region) == f"arn:{partition}:s3:::b"


def test_china_config_calls_iam_and_sts_in_cn_north_1_with_aws_cn_arns(
        moto_clients: Clients, tmp_path: Path) -> None:
    """A config in the China Regions: IAM, STS and ListBuckets go to the partition's global
    Region (not us-east-1), and every ARN the tool writes names aws-cn."""
    path = str(_write(tmp_path, CN_CONFIG))
    result = run_script("crr", "apply", "--config", path, clients=Clients)
    assert result.status == 0, result.stderr
    global_calls = {(service, region) for service, op, region in result.calls
                    if service in ("iam", "sts") or op == "ListBuckets"}
    assert global_calls and {region for _, region in global_calls} == {"cn-north-1"}, \
        global_calls
    iam = moto_clients.get("iam", "cn-north-1")
    policy = iam.get_role_policy(RoleName="shop-data-cnn1-replication",
                                 PolicyName="s3-replication-crr")["PolicyDocument"]
    policy = json.loads(policy) if isinstance(policy, str) else policy
    text = json.dumps(policy)
    assert "arn:aws:" not in text and "arn:aws-cn:s3:::shop-data-cnnw1/*" in text
    assert "s3.cn-north-1.amazonaws.com.cn" in text
    s3 = moto_clients.get("s3", "cn-north-1")
    role = s3.get_bucket_replication(Bucket="shop-data-cnn1")["ReplicationConfiguration"]["Role"]
    assert role.startswith("arn:aws-cn:iam::")


def test_relative_log_file_is_under_the_project_root_wherever_the_config_is(
        tmp_path: Path) -> None:
    elsewhere = tmp_path / "ops" / "configs" / "s3_config.py"
    elsewhere.parent.mkdir(parents=True)
    elsewhere.write_text('BUCKETS = {}\nCRR_RULES = []\nSRR_RULES = []\n'
                         'LOG_FILE = "logs/shop-replication.txt"\n')
    assert load_config(elsewhere).log_file == PROJECT_ROOT / "logs" / "shop-replication.txt"
    default = tmp_path / "s3_config.py"
    default.write_text("BUCKETS = {}\nCRR_RULES = []\nSRR_RULES = []\n")
    assert load_config(default).log_file == PROJECT_ROOT / "logs" / "replication_logs.txt"


def test_alerts_without_a_subscriber_are_named_in_plan_and_apply(
        moto_clients: Clients, tmp_path: Path) -> None:
    path = str(shop_config(tmp_path, 'MONITORING = {"sns_topic": "shop-alerts", '
                                     '"alert_emails": []}'))
    for command in ("plan", "apply", "plan"):
        result = run_script("crr", command, "--config", path, clients=Clients)
        assert result.status in (0, 3), result.stderr
        assert "SNS topic shop-alerts (us-east-1): alarms and replication events go to this " \
               "topic, which has no subscriber" in result.stdout, (command, result.stdout)
    log = (tmp_path / "replication_logs.txt").read_text()
    assert "which has no subscriber" in log


def test_alerts_with_a_confirmed_subscriber_say_nothing(
        moto_clients: Clients, tmp_path: Path) -> None:
    """moto confirms e-mail subscriptions at once, so the topic has a confirmed subscriber.
    (moto's replication configuration is lossy, so plan shows rule drift: not looked at.)"""
    path = str(shop_config(tmp_path, 'MONITORING = {"sns_topic": "shop-alerts", '
                                     '"alert_emails": ["ops@example.com"]}'))
    assert run_script("crr", "apply", "--config", path, clients=Clients).status == 0
    result = run_script("crr", "plan", "--config", path, clients=Clients)
    assert result.status in (0, 3), result.stderr
    assert "subscriber" not in result.stdout and "Notes:" not in result.stdout
