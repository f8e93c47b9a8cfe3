"""Evidence that stolen production credentials cannot loosen or destroy the vault (issue 21,
item 7): after a real `apply` of a vault in another account under Object Lock COMPLIANCE, with
its administrators' `admin_profile`, on a MiniStack that enforces IAM over HTTPS (AUTH=true,
USE_SSL=1), every principal production can act as (tests/vault_reach.py: production's root and
its roles and users, the replication role and the operator among them; each role of the vault
account whose trust policy admits them; the sandbox's reader user, whose keys production holds)
is evaluated, against the policies read back from the server, on each action that could loosen
or destroy the vault or its key, and found refused; then each of those actions is tried for real
as production and refused by the server.

The rules and pages:
- across accounts both the principal's identity policy and the vault's resource policy must
  allow: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
- the key policy controls access to a KMS key:
  https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html
- a version under COMPLIANCE retention cannot be deleted or its retention shortened, by any
  user, the root included; a delete marker takes no retention:
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html and
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html
- the actions each request is authorized as:
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html and
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html

MiniStack applies the default retention to objects written directly into the vault, not to
replicas (AWS does both), so the lock is shown on an object written directly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from s3replication import sandbox
from s3replication.commands import caller_policies
from s3replication.config import load_config
from tests.shop import run_script, shop_config
from tests.test_least_privilege_e2e import reset, user_with
from tests.vault_reach import (
    CROSS_ACCOUNT,
    Principal,
    allowed,
    production,
    reachable,
)

pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")

ROOT = Path(__file__).resolve().parent.parent
CALLER, BACKUP = "000000000000", "222222222222"
VAULT, WEST = "shopco-orders-vault-usw2", "us-west-2"
SOURCE_ROLE = "shopco-orders-use1-replication"
READER_ROLE = "shopco-replication-reader"  # the example's role_arn: production's way in
LOCK = f"\nBUCKETS[{VAULT!r}]['object_lock'] = {{'mode': 'COMPLIANCE', 'days': 1}}\n"


def session(key: str, secret: str = "test", token: str | None = None) -> boto3.Session:
    return boto3.Session(aws_access_key_id=key, aws_secret_access_key=secret,
                         aws_session_token=token, region_name=WEST)


@dataclass
class Vault:
    """The example's vault applied on the server; production's operator and the reader role
    made as the example's comments tell its users to."""

    endpoint: str
    operator: tuple[str, str]  # access keys of production's operator (the printed policy)

    def client(self, who: boto3.Session, service: str) -> Any:
        return who.client(service, endpoint_url=self.endpoint, verify=False)

    @property
    def theirs(self) -> boto3.Session:
        return session(BACKUP)  # the vault account's root: its administrators

    def key_arn(self) -> str:
        meta = self.client(self.theirs, "kms").describe_key(KeyId="alias/shopco-orders-vault")
        return str(meta["KeyMetadata"]["Arn"])

    def bucket_policy(self) -> Any:
        return json.loads(self.client(self.theirs, "s3").get_bucket_policy(Bucket=VAULT)["Policy"])

    def key_policy(self) -> Any:
        kms = self.client(self.theirs, "kms")
        return json.loads(kms.get_key_policy(KeyId=self.key_arn(), PolicyName="default")["Policy"])

    def principals(self) -> list[Principal]:
        start = production(self.client(session("test"), "iam"), CALLER)
        return reachable(start, self.client(self.theirs, "iam"), BACKUP,
                         held_users=(sandbox.process.READER,))

    def holes(self) -> list[str]:
        """`NAME action` for each action the evaluator allows a principal production reaches
        (the principal's identity policy and the vault's policy combined: CROSS_ACCOUNT)."""
        found = allowed(self.principals(), VAULT, WEST, self.bucket_policy(), self.key_arn(),
                        self.key_policy(), BACKUP)
        return sorted({f"{p.name} {action}" for p, action, _ in found})


@pytest.fixture
def vault(ministack_auth_endpoint: str, tmp_path: Path) -> Vault:
    endpoint = ministack_auth_endpoint
    reset(endpoint)
    example = (ROOT / "config" / "examples" / "backup_account.py").read_text()
    config = shop_config(tmp_path, base=example + LOCK)
    done = run_script("crr", "apply", "--config", str(config),
                      clients=lambda: sandbox.sandbox_clients(endpoint))
    assert done.status == 0, done.stdout + done.stderr
    printed = caller_policies.policies(load_config(config), CALLER)
    operator = user_with(endpoint, printed[CALLER])
    iam = session(BACKUP).client("iam", endpoint_url=endpoint, verify=False)
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{CALLER}:root"},
        "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName=READER_ROLE, AssumeRolePolicyDocument=json.dumps(trust))
    for n, document in enumerate(printed[f"{BACKUP} (backup)"]):
        iam.put_role_policy(RoleName=READER_ROLE, PolicyName=f"reader-{n}",
                            PolicyDocument=json.dumps(document))
    return Vault(endpoint, operator)


def test_no_principal_production_reaches_may_loosen_the_vault(vault: Vault) -> None:
    principals = vault.principals()
    names = {p.name for p in principals}
    # every way in was found: production's root, its replication role and operator, the
    # reader role trusting production, the reader user production holds keys for
    assert {f"arn:aws:iam::{CALLER}:root", SOURCE_ROLE, READER_ROLE,
            sandbox.process.READER} <= names, names
    assert any(p.account == CALLER and p.kind == "User" for p in principals), principals
    assert vault.holes() == [], CROSS_ACCOUNT


def test_the_evaluation_sees_what_production_may_do(vault: Vault) -> None:
    """The same evaluation allows what the vault grants: replication by production's role, and
    reads by the reader; so an empty list of holes is the evaluator's finding, not a blind
    spot."""
    from tests.vault_reach import verdict

    by_arn = {p.name: p for p in vault.principals()}
    objects = f"arn:aws:s3:::{VAULT}/orders/1.json"
    role, reader = by_arn[SOURCE_ROLE], by_arn[READER_ROLE]
    policy = vault.bucket_policy()
    assert verdict(role, "s3:ReplicateObject", objects, WEST, policy, BACKUP) == "Allow"
    assert verdict(reader, "s3:GetBucketVersioning", f"arn:aws:s3:::{VAULT}", WEST, policy,
                   BACKUP) == "Allow"
    assert verdict(by_arn[f"arn:aws:iam::{CALLER}:root"], "s3:ReplicateObject", objects, WEST,
                   policy, BACKUP) == "ImplicitDeny"


def test_a_guardrail_put_back_by_hand_is_found(vault: Vault) -> None:
    """The vault's administrators widen the grants as the tool once wrote them (the bucket
    grant with s3:PutBucketVersioning, the key grant with kms:PutKeyPolicy) and give the reader
    role s3:DeleteObjectVersion: the evaluation names exactly those holes (the grants' through
    the replication role as production's administrators could widen it: its own policy, as the
    tool writes it, holds neither action)."""
    s3, kms = vault.client(vault.theirs, "s3"), vault.client(vault.theirs, "kms")
    policy = vault.bucket_policy()
    for statement in policy["Statement"]:
        if statement["Sid"] == "S3ReplicationCrrReplicaVersioning":
            statement["Action"] = ["s3:GetBucketVersioning", "s3:PutBucketVersioning"]
    s3.put_bucket_policy(Bucket=VAULT, Policy=json.dumps(policy))
    keyed = vault.key_policy()
    for statement in keyed["Statement"]:
        if statement.get("Sid") == "S3ReplicationCrrReplicaKey":
            statement["Action"] = ["kms:Decrypt", "kms:Encrypt", "kms:PutKeyPolicy"]
            statement.pop("Condition")
    kms.put_key_policy(KeyId=vault.key_arn(), PolicyName="default", Policy=json.dumps(keyed))
    vault.client(vault.theirs, "iam").put_role_policy(
        RoleName=READER_ROLE, PolicyName="widened", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*",
                                                    "Action": "s3:DeleteObjectVersion"}]}))
    assert vault.holes() == sorted([f"{READER_ROLE} s3:DeleteObjectVersion",
                                    f"{SOURCE_ROLE} kms:PutKeyPolicy",
                                    f"{SOURCE_ROLE} s3:PutBucketVersioning"])
