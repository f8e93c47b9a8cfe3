"""Least privilege, enforced: a MiniStack that evaluates IAM on every call (AUTH=true, over
HTTPS so that the buckets' TLS-only statement lets requests through) and an IAM user whose
only policies are what `permissions` prints for both scripts.

- As that user, both scripts run every command on the shipped (multi-bucket) config.
- Without any one of those actions (each in turn), the command that needs it exits 1 with
  a line on stderr naming that action.
- s3:ListAllMyBuckets is optional by design (HeadBucket per bucket without it): a run without
  it succeeds.

Only the caller's own account is covered here (the rows of the table marked HERE): the shipped
config has no ACCOUNTS. tests/test_least_privilege_cross_account_access_e2e.py covers a
destination in another account.

Actions MiniStack does not check (AWS does) are listed in `NOT_CHECKED_BY_MINISTACK` with the
reason; tests/test_permissions.py evaluates the policy against each of them, citing AWS.
"""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest

from s3replication.aws.clients import Clients
from s3replication.commands import caller_policies
from s3replication.commands import permission_needs as permissions
from s3replication.config import load_config
from tests.shop import Run, run_script, shop_config

pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")

ROOT = ("test", "test")  # the account root under AUTH=true
KINDS = ("crr", "srr")
OPTIONAL = {a.action for a in permissions.NEEDS if a.optional}
HERE = [n for n in permissions.NEEDS if permissions.HERE in n.accounts]  # the caller's rows
# What MiniStack 1.5.x does not check although AWS does (each with the page saying AWS does),
# or what no command reaches on the shipped config in a test.
NOT_CHECKED_BY_MINISTACK = {
    "iam:PassRole": "MiniStack does not check PassRole on PutBucketReplication/CreateJob",
    "kms:GenerateDataKey": "MiniStack does not call KMS as the caller on an SSE-KMS PUT",
    "kms:Decrypt": "MiniStack does not call KMS as the caller on an SSE-KMS copy",
    "kms:TagResource": "MiniStack does not check tagging on CreateKey with Tags",
    "iam:TagRole": "MiniStack does not check tagging on CreateRole with Tags",
    "cloudwatch:TagResource": "MiniStack does not check tagging on PutMetricAlarm with Tags",
    "sns:TagResource": "MiniStack does not check tagging on CreateTopic with Tags (and the "
                       "shipped config has no alert_emails to record)",
    "s3:PutObjectTagging": "MiniStack does not check tagging on PutObject/CopyObject with tags",
    "s3:CreateJob": "MiniStack has no S3 Batch Operations",
    "s3:DescribeJob": "MiniStack has no S3 Batch Operations",
    "s3:PutJobTagging": "MiniStack has no S3 Batch Operations",
}
NOT_REACHED = {
    "s3:AbortMultipartUpload": "only after a failed multipart copy of an object over 5 GB",
    "iam:ListRoleTags": "only when GetRole returns no tags (MiniStack returns them)",
    "iam:UpdateAssumeRolePolicy": "only for an existing role that does not trust S3",
    **dict.fromkeys(
        ("sns:Subscribe", "sns:Unsubscribe", "sns:UntagResource"),
        "only with alert_emails, which the shipped config has none of "
        "(test_an_address_dropped_from_alert_emails_is_unsubscribed)"),
    "s3:GetBucketAcl": "only on adopted buckets (read in tests/test_buckets*)",
    **dict.fromkeys(
        ("s3:PutBucketObjectLockConfiguration", "s3:GetLifecycleConfiguration",
         "s3:PutLifecycleConfiguration", "s3:GetObjectRetention"),
        "only for a bucket with object_lock, which the shipped config has none of "
        "(tests/test_object_lock*.py, tests/test_locked_vault_*.py)"),
    "s3:DeleteBucketPolicy": "only by destroy, on a report bucket whose policy holds the "
                             "inventory delivery statement alone (the tool's report buckets "
                             "keep their TLS statement; tests/test_inventory_shared*.py)",
    "kms:ListResourceTags": "only when the Region already has keys: looking for a key an "
                            "interrupted run made (a key it may not read is not its own)",
    "sts:AssumeRole": "only with ACCOUNTS (tests/test_least_privilege_cross_account_access_e2e.py)",
    **dict.fromkeys(
        ("s3:GetMultiRegionAccessPoint", "s3:CreateMultiRegionAccessPoint",
         "s3:DescribeMultiRegionAccessPointOperation", "s3:GetMultiRegionAccessPointRoutes",
         "s3:SubmitMultiRegionAccessPointRoutes"),
        "only with ACCESS_POINTS (the shipped config has none; tests/test_failover_e2e.py)"),
    **dict.fromkeys(
        ("s3:GetInventoryConfiguration", "s3:PutInventoryConfiguration"),
        "only with INVENTORY, and never sent to an emulator (MiniStack routes them to "
        "CreateBucket/DeleteBucket)"),
}
# Where MiniStack evaluates another resource than AWS does, the user also gets the action on
# "*", only while the printed policies grant it (so removing the action removes both).
MINISTACK_RESOURCE = {
    "kms:CreateAlias": "MiniStack checks CreateAlias against '*' (the request has no KeyId); "
                       "AWS checks the alias and the key "
                       "(https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html)",
    **dict.fromkeys(
        ("cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms", "cloudwatch:GetDashboard",
         "cloudwatch:PutDashboard", "cloudwatch:DeleteDashboards"),
        "MiniStack checks a CloudWatch request without an AlarmName parameter against '*'; "
        "AWS checks the alarms and the dashboard "
        "(https://docs.aws.amazon.com/service-authorization/latest/reference/"
        "list_amazoncloudwatch.html)"),
    **dict.fromkeys(
        ("sns:ListTagsForResource", "sns:TagResource", "sns:UntagResource"),
        "MiniStack checks an SNS request without a TopicArn parameter (ResourceArn) against "
        "'*'; AWS checks the topic "
        "(https://docs.aws.amazon.com/service-authorization/latest/reference/"
        "list_amazonsns.html)"),
}
# Order in which a removed action is looked for: the first command of this list that needs it.
ORDER = (permissions.APPLY, permissions.VERIFY, permissions.AUDIT, permissions.COPY,
         permissions.STATUS, permissions.DESTROY)
ON_DESTROY = {"cloudwatch:DeleteDashboards", "cloudwatch:DeleteAlarms", "sns:DeleteTopic",
              "iam:DeleteRolePolicy", "sns:ListTagsForResource"}


def _first_bucket(endpoint: str, config: Path) -> tuple[Clients, str]:
    bucket = next(iter(load_config(config).buckets.values()))
    return as_root(endpoint).get("s3", bucket.region), bucket.name


def _owner_writes(endpoint: str, config: Path) -> None:
    s3, name = _first_bucket(endpoint, config)
    s3.put_bucket_ownership_controls(
        Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})


def _no_public_access_block(endpoint: str, config: Path) -> None:
    s3, name = _first_bucket(endpoint, config)
    s3.delete_public_access_block(Bucket=name)


# Settings new buckets already have (on AWS too: BucketOwnerEnforced and all four public access
# blocks since April 2023, https://docs.aws.amazon.com/AmazonS3/latest/userguide/create-bucket-overview.html):
# changed by the root after an apply, so that the user's apply has to write them back. HeadBucket
# (s3:ListBucket) is made only for buckets ListBuckets does not list: existing buckets, with
# s3:ListAllMyBuckets also taken away.
# Read by apply only where the bucket or role is there already: one apply makes is written
# unread (engine Item.fresh), so the world is applied first, by the root.
READ_WHEN_THERE = ("s3:GetBucketOwnershipControls", "s3:GetBucketPolicy",
                   "s3:GetBucketPublicAccessBlock", "s3:GetEncryptionConfiguration",
                   "iam:GetRolePolicy", "s3:GetBucketObjectLockConfiguration")
PREPARE: dict[str, Callable[[str, Path], None]] = {
    "s3:PutBucketOwnershipControls": _owner_writes,
    "s3:PutBucketPublicAccessBlock": _no_public_access_block,
    "s3:ListBucket": lambda endpoint, config: None,
    **dict.fromkeys(READ_WHEN_THERE, lambda endpoint, config: None),
}
ALSO_DROPPED = {"s3:ListBucket": {"s3:ListAllMyBuckets"}}
ARGV = {permissions.APPLY: ("apply",), permissions.VERIFY: ("verify", "--timeout", "20"),
        permissions.AUDIT: ("audit",), permissions.COPY: ("backfill", "--method", "copy", "--yes"),
        permissions.STATUS: ("status",), permissions.DESTROY: ("destroy", "--yes")}


def factory(endpoint: str, key: str, secret: str) -> Callable[[], Clients]:
    session = boto3.Session(aws_access_key_id=key, aws_secret_access_key=secret,
                            region_name="us-east-1")
    return lambda: Clients(endpoint_url=endpoint, session=session, verify=False)


def as_root(endpoint: str) -> Clients:
    return factory(endpoint, *ROOT)()


def reset(endpoint: str) -> None:
    import ssl

    context = ssl._create_unverified_context()  # our own server's self-signed certificate
    request = urllib.request.Request(endpoint + "/_ministack/reset", method="POST")
    with urllib.request.urlopen(request, timeout=30, context=context) as answer:
        assert answer.status == 200


def printed_policies(endpoint: str, config: Path, kind: str) -> dict[str, list[dict]]:
    run = run_script(kind, "permissions", "--config", str(config),
                     clients=factory(endpoint, *ROOT))
    assert run.status == 0, run.stderr
    return json.loads(run.stdout)


def user_with(endpoint: str, documents: list[dict]) -> tuple[str, str]:
    """A new IAM user whose only permissions are `documents` (managed policies attached)."""
    iam = as_root(endpoint).get("iam", "us-east-1")
    name = f"caller-{uuid.uuid4().hex[:8]}"
    granted = json.dumps(documents)
    deviations = sorted(a for a in MINISTACK_RESOURCE if f'"{a}"' in granted)
    if deviations:
        documents = [*documents, {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": deviations, "Resource": "*"}]}]
    iam.create_user(UserName=name)
    for n, document in enumerate(documents):
        arn = iam.create_policy(PolicyName=f"{name}-{n}",
                                PolicyDocument=json.dumps(document))["Policy"]["Arn"]
        iam.attach_user_policy(UserName=name, PolicyArn=arn)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def run_as(endpoint: str, keys: tuple[str, str], kind: str, config: Path, *argv: str) -> Run:
    return run_script(kind, *argv, "--config", str(config), clients=factory(endpoint, *keys))


def objects_to_backfill(endpoint: str, config: Path, kind: str) -> None:
    """Per rule of `kind`, an object (with the rule's tags) whose replica is then deleted, so
    that audit reports it missing and backfill copies it."""
    loaded = load_config(config)
    aws = as_root(endpoint)
    for rule in loaded.rules(kind):
        source, destination = loaded.buckets[rule.source], loaded.buckets[rule.destination]
        key = f"{rule.prefix}backfill-{uuid.uuid4().hex[:6]}.txt"
        tagging = "&".join(f"{k}={v}" for k, v in rule.tags)
        aws.get("s3", source.region).put_object(Bucket=rule.source, Key=key, Body=b"order",
                                               Tagging=tagging)
        dst = aws.get("s3", destination.region)
        for version in dst.list_object_versions(Bucket=rule.destination,
                                                Prefix=key).get("Versions", []):
            dst.delete_object(Bucket=rule.destination, Key=key, VersionId=version["VersionId"])


@pytest.fixture
def auth_world(ministack_auth_endpoint: str, tmp_path: Path) -> tuple[str, Path]:
    reset(ministack_auth_endpoint)
    return ministack_auth_endpoint, shop_config(tmp_path)


def both_scripts_policies(endpoint: str, config: Path) -> list[dict]:
    documents = []
    for kind in KINDS:
        printed = printed_policies(endpoint, config, kind)
        assert list(printed) == ["000000000000"]
        documents += printed["000000000000"]
    return documents


def restore_as(endpoint: str, user: tuple[str, str], config: Path) -> None:
    """A bad change to catalog/ restored by the user (copies, a delete marker), then versions
    destroyed in the source restored from the replica."""
    s3 = as_root(endpoint).get("s3", "us-east-1")
    source, key = "shopco-data-use1", "catalog/least-privilege.json"
    s3.put_object(Bucket=source, Key=key, Body=b"good", Tagging="team=web")
    time.sleep(1.1)
    when = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    time.sleep(1.1)
    s3.put_object(Bucket=source, Key=key, Body=b"bad")
    s3.put_object(Bucket=source, Key="catalog/least-privilege-new.json", Body=b"new")
    scope = ("restore", "--to", when, "--rule", "catalog-usw2")
    for argv, wanted in ((scope, 3), ((*scope, "--yes"), 0)):
        run = run_as(endpoint, user, "crr", config, *argv)
        assert run.status == wanted, f"{argv}: {run.stdout}\n{run.stderr}"
    for version in s3.list_object_versions(Bucket=source, Prefix=key)["Versions"]:
        s3.delete_object(Bucket=source, Key=key, VersionId=version["VersionId"])
    run = run_as(endpoint, user, "crr", config, *scope, "--from", "replica", "--yes")
    assert run.status == 0, f"--from replica: {run.stdout}\n{run.stderr}"
    assert s3.get_object(Bucket=source, Key=key)["Body"].read() == b"good"


def test_the_printed_policies_let_a_user_run_every_command(auth_world: tuple[str, Path]) -> None:
    endpoint, config = auth_world
    user = user_with(endpoint, both_scripts_policies(endpoint, config))
    for kind in KINDS:
        for argv, wanted in ((("permissions",), 0), (("apply",), 0), (("plan",), 0)):
            run = run_as(endpoint, user, kind, config, *argv)
            assert run.status == wanted, f"{kind} {argv}: {run.stdout}\n{run.stderr}"
    for kind in KINDS:
        objects_to_backfill(endpoint, config, kind)
        steps = ((("verify", "--timeout", "20"), 0), (("status",), 0), (("audit",), 3),
                 (("backfill", "--method", "copy", "--yes"), 0), (("audit",), 0))
        for argv, wanted in steps:
            run = run_as(endpoint, user, kind, config, *argv)
            assert run.status == wanted, f"{kind} {argv}: {run.stdout}\n{run.stderr}"
    restore_as(endpoint, user, config)
    for kind in KINDS:
        run = run_as(endpoint, user, kind, config, "destroy", "--yes")
        assert run.status == 0, f"{kind} destroy: {run.stdout}\n{run.stderr}"
        assert run_as(endpoint, user, kind, config, "plan").status == 3  # apply would redo it


def test_an_address_dropped_from_alert_emails_is_unsubscribed(
        auth_world: tuple[str, Path], tmp_path: Path) -> None:
    """sns:Unsubscribe has no resource type: IAM matches it only with "*"
    (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsns.html),
    as MiniStack does, so no MINISTACK_RESOURCE grant stands in for it: the printed policies
    must grant it on "*" themselves."""
    endpoint, config = auth_world
    shop_config(tmp_path, 'MONITORING = {**MONITORING, "alert_emails": ["ops@example.com"]}')
    user = user_with(endpoint, both_scripts_policies(endpoint, config))
    run = run_as(endpoint, user, "crr", config, "apply")
    assert run.status == 0, run.stderr
    sns = as_root(endpoint).get("sns", "us-east-1")
    topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"]
                 if t["TopicArn"].endswith(":shopco-replication-alerts"))

    def addresses() -> list[str]:
        found = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        return [s["Endpoint"] for s in found]

    assert addresses() == ["ops@example.com"]
    shop_config(tmp_path)  # the address dropped
    run = run_as(endpoint, user, "crr", config, "apply")
    assert run.status == 0, run.stderr
    assert addresses() == []


def test_without_list_all_my_buckets_apply_looks_each_bucket_up(
        auth_world: tuple[str, Path]) -> None:
    """s3:ListAllMyBuckets is optional by design: without it, HeadBucket per bucket."""
    endpoint, config = auth_world
    assert OPTIONAL == {"s3:ListAllMyBuckets"}
    documents = caller_policies.policies(load_config(config), "000000000000",
                                     drop=lambda n: n.optional)["000000000000"]
    user = user_with(endpoint, documents)
    run = run_as(endpoint, user, "crr", config, "apply")
    assert run.status == 0, run.stderr
    operations = [op for _, op, _ in run.calls]
    assert "ListBuckets" in operations and "HeadBucket" in operations


def removable_actions() -> list[str]:
    """Every action of the table, each in turn, but those left out above for a stated reason
    (optional, not checked by MiniStack, not reached on the shipped config)."""
    actions = sorted({n.action for n in HERE})
    skipped = OPTIONAL | set(NOT_CHECKED_BY_MINISTACK) | set(NOT_REACHED)
    return [a for a in actions if a not in skipped
            and any(c in ORDER for n in HERE if n.action == a for c in n.commands)]


def first_command(action: str) -> str:
    """The first command of ORDER that needs `action`; apply removes only what the config no
    longer names, so what it deletes is first reached by destroy."""
    if action in ON_DESTROY:
        return permissions.DESTROY
    needed = {c for n in HERE if n.action == action for c in n.commands}
    return next(c for c in ORDER if c in needed)


@pytest.mark.parametrize("action", removable_actions())
def test_without_one_action_the_command_names_it(auth_world: tuple[str, Path],
                                                 action: str) -> None:
    endpoint, config = auth_world
    kind = "crr"
    command = first_command(action)
    if command != permissions.APPLY or action in PREPARE:  # the world it works on, by the root
        assert run_as(endpoint, ROOT, kind, config, "apply").status == 0
    if command in (permissions.AUDIT, permissions.COPY):
        objects_to_backfill(endpoint, config, kind)
    if action in PREPARE:
        PREPARE[action](endpoint, config)
    dropped = {action} | ALSO_DROPPED.get(action, set())
    documents = caller_policies.policies(load_config(config), "000000000000",
                                     drop=lambda n: n.action in dropped)["000000000000"]
    assert f'"{action}"' not in json.dumps(documents)
    user = user_with(endpoint, documents)
    run = run_as(endpoint, user, kind, config, *ARGV[command])
    lines = run.stderr.splitlines()
    assert run.status == 1, f"{command} without {action}: {run.stdout}\n{run.stderr}"
    assert lines and all(line.startswith("error: ") for line in lines), run.stderr
    assert any(action in line for line in lines), f"{action} not named:\n{run.stderr}"
    assert "Traceback" not in run.stderr
