"""Replication into another account, simulated: after a real `apply` on the IAM-enforcing
MiniStack, with each rule's destination in a second account (222222222222, reached by assuming
a role there), every request S3 makes as the source's replication role in that account is
allowed by BOTH the role's own policy (read back from the source account) and the
destination's resource policy (its bucket policy, or its KMS key policy, read back from the
second account), as AWS requires across accounts
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html).

The accesses, each citing its page (tests/replication_access.py):
- s3:ReplicateObject, s3:ReplicateDelete, s3:ReplicateTags on the destination's objects and
  s3:GetBucketVersioning on the destination, granted by the destination's bucket policy
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html#setting-repl-config-crossacct);
- s3:ObjectOwnerOverrideToBucketOwner, since the rule makes the destination's account own the
  replicas (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-change-owner.html);
- kms:Encrypt and kms:Decrypt (Bucket Keys) on the replica key, with the S3 encryption context
  and kms:ViaService, granted by the key policy
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html).

The verdicts are MiniStack's IAM evaluator's (`ministack.core.iam_evaluator`), not string
matching; the negative tests remove the tool's statement from a policy by hand and see the
same evaluation deny.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from s3replication.aws.clients import Clients
from s3replication.config import Config, RuleSpec, load_config
from tests.replication_access import (
    BOTH_POLICIES,
    Access,
    Side,
    cross_account_verdict,
    destination_accesses,
    role_policies,
)
from tests.shop import run_script, shop_config
from tests.test_least_privilege_e2e import reset

pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")

CALLER, BACKUP = "000000000000", "222222222222"  # MiniStack: each access key is that root
ADMIN = "xa-sim-admin"  # the role of the backup account the scripts assume
CONFIG = f'''
ACCOUNTS = {{"backup": {{"account_id": "{BACKUP}",
                       "role_arn": "arn:aws:iam::{BACKUP}:role/{ADMIN}"}}}}
BUCKETS = {{
    "xa-sim-orders": {{"region": "us-east-1", "kms_key": "alias/xa-sim-orders"}},
    "xa-sim-media": {{"region": "us-east-1", "kms_key": None}},
    "xa-sim-vault": {{"region": "us-west-2", "kms_key": "alias/xa-sim-vault",
                     "account": "backup"}},
    "xa-sim-media-vault": {{"region": "eu-west-1", "kms_key": None, "account": "backup"}},
    "xa-sim-vault-east": {{"region": "us-east-1", "kms_key": "alias/xa-sim-vault-east",
                          "account": "backup"}},
}}
CRR_RULES = [
    {{"id": "orders-vault", "source": "xa-sim-orders", "destination": "xa-sim-vault",
      "prefix": "orders/"}},
    {{"id": "media-vault", "source": "xa-sim-media", "destination": "xa-sim-media-vault"}},
]
SRR_RULES = [
    {{"id": "orders-east", "source": "xa-sim-orders", "destination": "xa-sim-vault-east",
      "prefix": "ledger/"}},
]
'''


def clients(endpoint: str, key: str) -> Clients:
    session = boto3.Session(aws_access_key_id=key, aws_secret_access_key="test",
                            region_name="us-east-1")
    return Clients(endpoint_url=endpoint, session=session, verify=False)


def admin_role(endpoint: str, documents: list[dict[str, Any]], name: str = ADMIN) -> None:
    """The role of the backup account the caller's account may assume, with `documents`."""
    iam = clients(endpoint, BACKUP).get("iam", "us-east-1")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{CALLER}:root"},
        "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    for n, document in enumerate(documents):
        iam.put_role_policy(RoleName=name, PolicyName=f"policy-{n}",
                            PolicyDocument=json.dumps(document))


@pytest.fixture
def applied(ministack_auth_endpoint: str, tmp_path: Path) -> tuple[str, Config]:
    """Both scripts applied, as the caller's root; the backup account reached by its role."""
    endpoint = ministack_auth_endpoint
    reset(endpoint)
    admin_role(endpoint, [{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:*", "kms:*"], "Resource": "*"}]}])
    path = shop_config(tmp_path, base=CONFIG)
    for kind in ("crr", "srr"):
        run = run_script(kind, "apply", "--config", str(path),
                         clients=lambda: clients(endpoint, "test"))
        assert run.status == 0, run.stdout + run.stderr
    return endpoint, load_config(path)


def key_arn(kms: Any, alias: str) -> str:
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
    return str(kms.describe_key(KeyId=aliases[alias])["KeyMetadata"]["Arn"])


class Backup:
    """The destination's side of a rule, read back with the backup account's own keys."""

    def __init__(self, endpoint: str, config: Config, rule: RuleSpec):
        self.config, self.rule = config, rule
        self.bucket = config.buckets[rule.destination]
        self.s3 = clients(endpoint, BACKUP).get("s3", self.bucket.region)
        self.kms = clients(endpoint, BACKUP).get("kms", self.bucket.region)

    @property
    def encrypted(self) -> bool:
        """S3 uses the replica key: the source is SSE-KMS, and so the rule names the key."""
        return self.config.buckets[self.rule.source].kms_key is not None

    def side(self) -> Side:
        key = key_arn(self.kms, str(self.bucket.kms_key)) if self.encrypted else None
        return Side(self.bucket.name, self.bucket.region, key)

    def bucket_policy(self) -> dict[str, Any]:
        return dict(json.loads(self.s3.get_bucket_policy(Bucket=self.bucket.name)["Policy"]))

    def key_policy(self) -> dict[str, Any]:
        text = self.kms.get_key_policy(KeyId=self.side().key, PolicyName="default")["Policy"]
        return dict(json.loads(text))

    def policy_for(self, access: Access) -> dict[str, Any]:
        return self.key_policy() if access.action.startswith("kms:") else self.bucket_policy()


def role_of(endpoint: str, config: Config, rule: RuleSpec) -> tuple[str, list[Any]]:
    """The source's replication role ARN and its policies, read back from the source account."""
    iam = clients(endpoint, CALLER).get("iam", "us-east-1")
    name = config.buckets[rule.source].replication_role
    return iam.get_role(RoleName=name)["Role"]["Arn"], role_policies(iam, name)


def verdicts(endpoint: str, config: Config, rule: RuleSpec,
             policy: Callable[[Backup, Access], dict[str, Any]] | None = None) -> dict[str, Any]:
    """Each destination access of `rule` -> its verdicts, against the policies read back."""
    backup = Backup(endpoint, config, rule)
    role_arn, identity = role_of(endpoint, config, rule)
    found = {}
    for access in destination_accesses(backup.side(), f"{rule.prefix}sample-object.bin",
                                       rule.delete_markers):
        resource_policy = policy(backup, access) if policy else backup.policy_for(access)
        found[str(access)] = cross_account_verdict(role_arn, identity, resource_policy, BACKUP,
                                                   access)
    return found


# The destination's bucket policy grants the role s3:GetBucketVersioning on the bucket, as AWS's
# example does (setting-repl-config-perm-overview.html#setting-repl-config-crossacct), but the
# role's own policy (s3replication/resources/iam_policy.py) does not: across accounts both must
# allow, so the grant has no effect. Checked on its own below, as a known gap.
IDENTITY_GAP = {"s3:GetBucketVersioning"}


def refused_accesses(endpoint: str, config: Config, actions: Callable[[str], bool]) -> list[str]:
    """For every rule (its destination in the backup account), the accesses among `actions`
    that are not allowed by both the role's policy and the destination's policy."""
    caller = clients(endpoint, CALLER)
    refused, checked = [], []
    for rule in config.all_rules():
        source = config.buckets[rule.source]
        rules = caller.get("s3", source.region).get_bucket_replication(Bucket=source.name)[
            "ReplicationConfiguration"]["Rules"]
        destination = next(r for r in rules if r["ID"] == rule.id)["Destination"]
        # the rule names the account and gives it the replicas (replication-change-owner.html)
        assert destination["Account"] == BACKUP, rule.id
        assert destination["AccessControlTranslation"] == {"Owner": "Destination"}, rule.id
        for access, verdict in verdicts(endpoint, config, rule).items():
            if not actions(access.split(" ")[0]):
                continue
            checked.append(access)
            if (verdict.identity, verdict.resource, verdict.combined) != ("Allow",) * 3:
                refused.append(f"{rule.id}: {access}: {verdict} ({BOTH_POLICIES})")
    assert checked, "no access was checked"
    return refused


def test_every_access_into_the_other_account_is_allowed_by_both_policies(applied) -> None:
    endpoint, config = applied
    refused = refused_accesses(endpoint, config, lambda action: action not in IDENTITY_GAP)
    assert refused == [], "denied across accounts:\n" + "\n".join(refused)
    accesses = [str(a) for r in config.all_rules() for a in destination_accesses(
        Backup(endpoint, config, r).side(), "x")]
    for action in ("kms:Encrypt", "kms:Decrypt", "s3:ObjectOwnerOverrideToBucketOwner"):
        assert any(a.startswith(f"{action} ") for a in accesses), action


def test_reading_the_destinations_versioning_is_allowed_by_both_policies(applied) -> None:
    endpoint, config = applied
    refused = refused_accesses(endpoint, config, lambda action: action in IDENTITY_GAP)
    assert refused == [], "denied across accounts:\n" + "\n".join(refused)


def without_ours(policy: dict[str, Any], prefix: str = "S3Replication") -> dict[str, Any]:
    return {**policy, "Statement": [s for s in policy["Statement"]
                                    if not str(s.get("Sid", "")).startswith(prefix)]}


def test_without_the_bucket_policy_grant_replication_is_denied(applied) -> None:
    """The destination's owner removes the tool's statements from the bucket policy (by hand,
    with its own credentials): the role's own policy still allows ReplicateObject, but across
    accounts that is not enough (setting-repl-config-perm-overview.html#setting-repl-config-
    crossacct), and the evaluation now denies it."""
    endpoint, config = applied
    rule = next(r for r in config.crr_rules if r.id == "orders-vault")
    backup = Backup(endpoint, config, rule)
    before = backup.bucket_policy()
    assert without_ours(before) != before  # the grant was there
    backup.s3.put_bucket_policy(Bucket=backup.bucket.name,
                                Policy=json.dumps(without_ours(before, "S3ReplicationCrr")))
    found = verdicts(endpoint, config, rule)
    replicate = next(v for a, v in found.items() if a.startswith("s3:ReplicateObject "))
    assert (replicate.identity, replicate.combined) == ("Allow", "ImplicitDeny"), replicate
    assert all(not v.allowed for a, v in found.items() if a.startswith("s3:")), found
    assert all(v.allowed for a, v in found.items() if a.startswith("kms:")), found


def test_without_the_key_policy_grant_encrypting_replicas_is_denied(applied) -> None:
    """Likewise for the replica key: its key policy must allow the role in the other account
    (replication-config-for-kms-objects.html)."""
    endpoint, config = applied
    rule = next(r for r in config.crr_rules if r.id == "orders-vault")
    backup = Backup(endpoint, config, rule)
    backup.kms.put_key_policy(KeyId=backup.side().key, PolicyName="default",
                              Policy=json.dumps(without_ours(backup.key_policy())))
    found = verdicts(endpoint, config, rule)
    assert all(not v.allowed for a, v in found.items() if a.startswith("kms:")), found
    assert all(v.allowed for a, v in found.items()
               if a.startswith("s3:") and a.split(" ")[0] not in IDENTITY_GAP), found


def test_the_grants_name_only_the_roles_that_need_them(applied) -> None:
    """The vault's bucket and key policies allow neither the media rule's role (whose
    destination is another bucket) nor a role of a third account, even one whose own policy
    allows everything the orders role's does."""
    endpoint, config = applied
    media = next(r for r in config.crr_rules if r.id == "media-vault")
    orders = next(r for r in config.crr_rules if r.id == "orders-vault")
    media_role, _ = role_of(endpoint, config, media)
    _, identity = role_of(endpoint, config, orders)
    backup = Backup(endpoint, config, orders)
    stranger = "arn:aws:iam::333333333333:role/xa-sim-orders-replication"
    for access in destination_accesses(backup.side(), "orders/sample-object.bin"):
        policy = backup.policy_for(access)
        for role in (media_role, stranger):
            verdict = cross_account_verdict(role, identity, policy, BACKUP, access)
            assert (verdict.resource, verdict.allowed) == ("ImplicitDeny", False), (
                f"{role}: {access}: {verdict}")
            # denied by the destination's policy, not for want of the role's own
            assert verdict.identity == "Allow" or access.action in IDENTITY_GAP, verdict
