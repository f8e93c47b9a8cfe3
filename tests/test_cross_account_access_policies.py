"""`permissions` with ACCOUNTS: one set of policies per account, labelled. The caller's covers
its own buckets and keys, roles, monitoring, rules and jobs, and sts:AssumeRole on the roles of
ACCOUNTS; each other account's covers only the buckets that live there and their keys (bucket
settings, bucket and key policies, the replicas verify and audit read). The rules of
tests/test_permissions.py hold for every account's documents; access checks are MiniStack's IAM
policy evaluator's (a library here, no server)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from ministack.core.iam_evaluator import EvalContext, evaluate, parse_policy_document

from s3replication.commands import caller_policies
from s3replication.config import load_config
from tests.shop import run_script, shop_config
from tests.test_permissions import WITHOUT_RESOURCE_TYPE

CALLER, BACKUP, ARCHIVE = "123456789012", "222222222222", "333333333333"
LABEL = f"{BACKUP} (backup)"
ROLE = f"arn:aws:iam::{BACKUP}:role/shopco-replication-admin"
CONFIG = f'''
ACCOUNTS = {{"backup": {{"account_id": "{BACKUP}", "role_arn": "{ROLE}"}},
            "archive": {{"account_id": "{ARCHIVE}", "profile": "shopco-archive"}},
            "unused": {{"account_id": "444444444444",
                        "role_arn": "arn:aws:iam::444444444444:role/nobody"}}}}
BUCKETS = {{
    "shopco-orders-use1": {{"region": "us-east-1", "kms_key": "alias/shopco-orders"}},
    "shopco-media-use1": {{"region": "us-east-1", "kms_key": None}},
    "shopco-orders-vault": {{"region": "us-west-2", "kms_key": "alias/shopco-vault",
                            "account": "backup"}},
    "shopco-orders-vault-east": {{"region": "us-east-1",
        "kms_key": "arn:aws:kms:us-east-1:{BACKUP}:key/0f0f0f0f-0000-4000-8000-000000000001",
        "account": "backup"}},
    "shopco-media-archive": {{"region": "eu-west-1", "kms_key": None, "account": "archive"}},
}}
CRR_RULES = [
    {{"id": "vault", "source": "shopco-orders-use1", "destination": "shopco-orders-vault"}},
    {{"id": "archive", "source": "shopco-media-use1", "destination": "shopco-media-archive"}},
]
SRR_RULES = [
    {{"id": "vault-east", "source": "shopco-orders-use1",
      "destination": "shopco-orders-vault-east"}},
]
'''
# What stays in the caller's account: never in another account's policy.
CALLER_ONLY = ("iam:", "sns:", "cloudwatch:", "sts:", "s3:PutReplicationConfiguration",
               "s3:GetReplicationConfiguration", "s3:PutBucketNotification",
               "s3:GetBucketNotification", "s3:CreateJob", "s3:DescribeJob", "s3:PutJobTagging",
               "s3:PutObject", "s3:GetObjectVersion", "kms:GenerateDataKey")


def found_for(tmp_path: Path, text: str = CONFIG) -> dict[str, list[dict]]:
    return caller_policies.policies(load_config(shop_config(tmp_path, base=text)), CALLER)


def statements(documents: list[dict]) -> list[dict]:
    return [s for d in documents for s in d["Statement"]]


def actions(documents: list[dict]) -> set[str]:
    return {a for s in statements(documents) for a in s["Action"]}


def arns(documents: list[dict]) -> set[str]:
    return {arn for s in statements(documents) for arn in s["Resource"]}


def test_one_policy_set_per_account_labelled_with_the_accounts_name(tmp_path, moto_clients):
    run = run_script("crr", "permissions", "--config", str(shop_config(tmp_path, base=CONFIG)),
                     clients=lambda: moto_clients)
    assert run.status == 0, run.stderr
    printed = json.loads(run.stdout)
    # the caller's account by its id (as without ACCOUNTS), then each account holding buckets
    assert list(printed) == [CALLER, LABEL, f"{ARCHIVE} (archive)"]
    assert printed == found_for(tmp_path)
    # no AWS call reaches another account: the account id only
    assert [op for _, op, _ in run.calls] == ["GetCallerIdentity"]


def test_the_caller_may_assume_only_the_roles_it_uses(tmp_path) -> None:
    caller = found_for(tmp_path)[CALLER]
    assume = [s for s in statements(caller) if "sts:AssumeRole" in s["Action"]]
    assert assume == [{"Sid": "AccountRoles", "Effect": "Allow", "Action": ["sts:AssumeRole"],
                       "Resource": [ROLE]}]  # not the profile's account, not the unused one
    assert allowed(caller, "sts:AssumeRole", ROLE)
    assert not allowed(caller, "sts:AssumeRole", f"arn:aws:iam::{BACKUP}:role/admin")


# restore --from replica copies a version of the replica back into its source: the caller reads
# the destination's object versions (and their tags), wherever it is; reads only
REPLICA_READS = {"s3:GetObjectVersion", "s3:GetObjectVersionTagging"}


def test_the_caller_keeps_its_own_and_nothing_of_the_other_accounts(tmp_path) -> None:
    caller = found_for(tmp_path)[CALLER]
    replica_reads = [s for s in statements(caller) if s.get("Sid") == "ReplicaObjects"]
    assert replica_reads and all(set(s["Action"]) == REPLICA_READS for s in replica_reads)
    others = [s for s in statements(caller) if s.get("Sid") != "ReplicaObjects"]
    for arn in {arn for s in others for arn in s["Resource"]} - {"*", ROLE}:
        assert f":{BACKUP}:" not in arn and f":{ARCHIVE}:" not in arn, arn
        assert "vault" not in arn and "archive" not in arn, arn
    assert {"iam:PassRole", "s3:PutReplicationConfiguration", "sns:CreateTopic",
            "cloudwatch:PutMetricAlarm", "s3:CreateJob"} <= actions(caller)
    # roles and monitoring of the caller's buckets only; alerts in the caller's account, in
    # their Region and in each destination's (a rule's latency and backlog alarms, and a topic
    # for them, live where S3 publishes those metrics:
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/repl-metrics.html)
    assert {a for a in arns(caller) if ":role/" in a} == {
        f"arn:aws:iam::{CALLER}:role/shopco-orders-use1-replication",
        f"arn:aws:iam::{CALLER}:role/shopco-media-use1-replication",
        f"arn:aws:iam::{CALLER}:role/shopco-orders-use1-replication-batch",
        f"arn:aws:iam::{CALLER}:role/shopco-media-use1-replication-batch", ROLE}
    assert {a.split(":")[3] for a in arns(caller) if ":sns:" in a or ":alarm:" in a} == {
        "us-east-1", "us-west-2", "eu-west-1"}
    assert {a.split(":")[4] for a in arns(caller) if ":sns:" in a or ":alarm:" in a} == {CALLER}


def test_another_account_gets_its_buckets_and_keys_only(tmp_path) -> None:
    backup = found_for(tmp_path)[LABEL]
    # production's reader there reads what restore --from replica copies back: reads only
    assert not [a for a in actions(backup) if a.startswith(CALLER_ONLY)
                and a not in REPLICA_READS]
    assert {"s3:CreateBucket", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:GetObject",
            "s3:ListBucketVersions", "s3:DeleteObjectVersion", "s3:PutBucketTagging",
            "kms:CreateKey", "kms:CreateAlias", "kms:GetKeyPolicy", "kms:PutKeyPolicy",
            "kms:DescribeKey"} <= actions(backup)
    assert arns(backup) - {"*"} == {
        "arn:aws:s3:::shopco-orders-vault", "arn:aws:s3:::shopco-orders-vault/*",
        "arn:aws:s3:::shopco-orders-vault-east", "arn:aws:s3:::shopco-orders-vault-east/*",
        f"arn:aws:kms:us-west-2:{BACKUP}:key/*", f"arn:aws:kms:us-west-2:{BACKUP}:alias/"
        "shopco-vault", f"arn:aws:kms:us-east-1:{BACKUP}:key/0f0f0f0f-0000-4000-8000-"
        "000000000001"}
    vault_key = f"arn:aws:kms:us-west-2:{BACKUP}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    for action in ("kms:PutKeyPolicy", "kms:GetKeyPolicy", "kms:EnableKeyRotation"):
        assert allowed(backup, action, vault_key, BACKUP)
        assert not allowed(backup, action, vault_key.replace(BACKUP, CALLER), BACKUP)
    assert allowed(backup, "s3:PutBucketPolicy", "arn:aws:s3:::shopco-orders-vault", BACKUP)
    assert not allowed(backup, "s3:PutBucketPolicy", "arn:aws:s3:::shopco-orders-use1", BACKUP)
    assert allowed(backup, "s3:GetObject", "arn:aws:s3:::shopco-orders-vault/a/b", BACKUP)
    assert not allowed(backup, "s3:PutObject", "arn:aws:s3:::shopco-orders-vault/a/b", BACKUP)


def test_an_account_without_kms_keys_gets_no_kms_action(tmp_path) -> None:
    archive = found_for(tmp_path)[f"{ARCHIVE} (archive)"]
    assert not [a for a in actions(archive) if a.startswith("kms:")]
    assert arns(archive) - {"*"} == {"arn:aws:s3:::shopco-media-archive",
                                     "arn:aws:s3:::shopco-media-archive/*"}
    # its "*" statement: only ListAllMyBuckets (S3 lists no resource type for it)
    assert [s["Action"] for s in statements(archive) if s["Resource"] == ["*"]] == [
        ["s3:ListAllMyBuckets"]]


def test_the_rules_of_every_document_hold_in_every_account(tmp_path) -> None:
    """No "*" action and no service wildcard; "*" only for actions without a resource type;
    each document within a managed policy's 6,144 characters, whitespace not counted
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html), also when
    another account holds many buckets."""
    many = "\n".join(
        [f"BUCKETS['shopco-vault-{n:03d}'] = {{'region': 'us-west-2', 'kms_key': "
         f"'alias/shopco-vault', 'account': 'backup'}}" for n in range(120)]
        + [f"CRR_RULES.append({{'id': 'v{n:03d}', 'source': 'shopco-orders-use1', "
           f"'destination': 'shopco-vault-{n:03d}'}})" for n in range(120)])
    small, large = found_for(tmp_path), found_for(tmp_path, CONFIG + many)
    assert len(large[LABEL]) > len(small[LABEL]) == 1
    for found in (small, large):
        for documents in found.values():
            for statement in statements(documents):
                for action in statement["Action"]:
                    assert re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9]+", action), action
                if "*" in statement["Resource"]:
                    assert statement["Resource"] == ["*"]
                    assert set(statement["Action"]) <= set(WITHOUT_RESOURCE_TYPE), statement
            for document in documents:
                assert caller_policies.size(document) <= caller_policies.POLICY_LIMIT
    objects = [a for a in arns(large[LABEL]) if re.fullmatch(r".*vault-\d{3}/\*", a)]
    assert len(objects) == 120


def test_without_accounts_the_output_is_as_before(tmp_path) -> None:
    found = caller_policies.policies(load_config(shop_config(tmp_path)), CALLER)
    assert list(found) == [CALLER]
    assert "sts:AssumeRole" not in actions(found[CALLER])


@pytest.mark.parametrize("kind", ["crr", "srr"])
def test_both_scripts_print_every_account(tmp_path, moto_clients, kind) -> None:
    run = run_script(kind, "permissions", "--config", str(shop_config(tmp_path, base=CONFIG)),
                     clients=lambda: moto_clients)
    assert run.status == 0, run.stderr
    assert list(json.loads(run.stdout)) == [CALLER, LABEL, f"{ARCHIVE} (archive)"]


def allowed(documents: list[dict], action: str, resource: str, account: str = CALLER) -> bool:
    context = EvalContext(principal_arn=f"arn:aws:iam::{account}:user/caller",
                          principal_type="User", principal_account=account, action=action,
                          resource_arn=resource, region="us-east-1")
    return evaluate(context, [parse_policy_document(d) for d in documents]).decision == "Allow"
