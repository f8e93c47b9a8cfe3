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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from s3replication import sandbox
from s3replication.commands import caller_policies
from s3replication.config import load_config
from tests.shop import run_script, shop_config
from tests.test_least_privilege_e2e import reset, user_with
from tests.vault_reach import (
    BUCKET_ACTIONS,
    CROSS_ACCOUNT,
    KEY_ACTIONS,
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


REFUSED = ("AccessDenied", "AccessDeniedException")


def attempts(s3: Any, kms: Any, key: str, version: str, grantee: str
             ) -> dict[str, Callable[[], Any]]:
    """Each action of BUCKET_ACTIONS and KEY_ACTIONS as the request that needs it: on the
    vault, on `version` of orders/locked.json (under COMPLIANCE retention), on its key."""
    later = datetime.now(UTC) + timedelta(hours=1)
    locked = {"Bucket": VAULT, "Key": "orders/locked.json", "VersionId": version}
    same_policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": grantee}, "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{VAULT}/*"}]})
    return {
        "s3:DeleteObjectVersion": lambda: s3.delete_object(**locked),
        "s3:PutObjectRetention": lambda: s3.put_object_retention(
            **locked, Retention={"Mode": "GOVERNANCE", "RetainUntilDate": later}),
        # the x-amz-bypass-governance-retention header: s3:BypassGovernanceRetention on the
        # object besides s3:DeleteObjectVersion (object-lock-managing.html, "Bypassing
        # governance mode"); MiniStack checks both (ministack.core.iam_actions). None of these
        # actions is one MiniStack checks against "*" instead of the bucket, object or key.
        "s3:BypassGovernanceRetention": lambda: s3.delete_object(
            **locked, BypassGovernanceRetention=True),
        "s3:PutBucketPolicy": lambda: s3.put_bucket_policy(Bucket=VAULT, Policy=same_policy),
        "s3:DeleteBucketPolicy": lambda: s3.delete_bucket_policy(Bucket=VAULT),
        "s3:PutBucketVersioning": lambda: s3.put_bucket_versioning(
            Bucket=VAULT, VersioningConfiguration={"Status": "Suspended"}),
        "s3:PutBucketObjectLockConfiguration": lambda: s3.put_object_lock_configuration(
            Bucket=VAULT, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": {
                "DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}}),
        "s3:PutLifecycleConfiguration": lambda: s3.put_bucket_lifecycle_configuration(
            Bucket=VAULT, LifecycleConfiguration={"Rules": [{
                "ID": "expire", "Status": "Enabled", "Filter": {"Prefix": ""},
                "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}]}),
        "s3:DeleteBucket": lambda: s3.delete_bucket(Bucket=VAULT),
        "kms:ScheduleKeyDeletion": lambda: kms.schedule_key_deletion(
            KeyId=key, PendingWindowInDays=7),
        "kms:DisableKey": lambda: kms.disable_key(KeyId=key),
        "kms:PutKeyPolicy": lambda: kms.put_key_policy(
            KeyId=key, PolicyName="default", Policy=same_policy.replace("s3:", "kms:")),
        "kms:CreateGrant": lambda: kms.create_grant(
            KeyId=key, GranteePrincipal=grantee, Operations=["Decrypt"]),
    }


def outcome(call: Callable[[], Any]) -> str:
    """The error code of `call`, or "done" when the server did it."""
    try:
        call()
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return "done"


def assumed(vault: Vault, role_arn: str) -> boto3.Session:
    """`role_arn` assumed by production's operator (STS AssumeRole across accounts)."""
    sts = vault.client(session(*vault.operator), "sts")
    keys = sts.assume_role(RoleArn=role_arn, RoleSessionName="stolen")["Credentials"]
    return session(keys["AccessKeyId"], keys["SecretAccessKey"], keys["SessionToken"])


def ways_in(vault: Vault, config: Path) -> dict[str, boto3.Session]:
    """Production's credentials and what they reach: the sandbox's reader user (the tool's way
    in there), the reader role by AssumeRole (the example's role_arn), the replication role
    (after production's administrators let the operator assume it, as stolen credentials of
    theirs could), the operator, the root."""
    theirs_reader = sandbox.reach(load_config(config).accounts["backup"],
                                  vault.client(session("test"), "sts"))
    iam = vault.client(session("test"), "iam")
    operator = vault.client(session(*vault.operator), "sts").get_caller_identity()["Arn"]
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
         "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"AWS": operator}, "Action": "sts:AssumeRole"}]}
    iam.update_assume_role_policy(RoleName=SOURCE_ROLE, PolicyDocument=json.dumps(trust))
    iam.put_user_policy(UserName=operator.rsplit("/", 1)[-1], PolicyName="assume-replication",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
                            "Effect": "Allow", "Action": "sts:AssumeRole",
                            "Resource": f"arn:aws:iam::{CALLER}:role/{SOURCE_ROLE}"}]}))
    return {
        "reader user": theirs_reader,
        "reader role": assumed(vault, f"arn:aws:iam::{BACKUP}:role/{READER_ROLE}"),
        "replication role": assumed(vault, f"arn:aws:iam::{CALLER}:role/{SOURCE_ROLE}"),
        "operator": session(*vault.operator),
        "production root": session("test"),
    }


def test_production_is_refused_each_action_on_the_vault(vault: Vault, tmp_path: Path) -> None:
    s3, kms = vault.client(vault.theirs, "s3"), vault.client(vault.theirs, "kms")
    # written directly: MiniStack gives replicas no default retention (AWS does)
    version = s3.put_object(Bucket=VAULT, Key="orders/locked.json", Body=b"{}")["VersionId"]
    lock = s3.get_object_retention(Bucket=VAULT, Key="orders/locked.json", VersionId=version)
    assert lock["Retention"]["Mode"] == "COMPLIANCE"
    before = {"versioning": s3.get_bucket_versioning(Bucket=VAULT)["Status"],
              "policy": vault.bucket_policy(), "key policy": vault.key_policy(),
              "lock": s3.get_object_lock_configuration(Bucket=VAULT)["ObjectLockConfiguration"],
              "key": kms.describe_key(KeyId=vault.key_arn())["KeyMetadata"]["KeyState"]}
    grantee = f"arn:aws:iam::{CALLER}:root"
    found = {}
    for who, way in ways_in(vault, tmp_path / "s3_config.py").items():
        tried = attempts(vault.client(way, "s3"), vault.client(way, "kms"), vault.key_arn(),
                         version, grantee)
        assert set(tried) == set(BUCKET_ACTIONS) | set(KEY_ACTIONS)
        found.update({f"{who} {action}": outcome(call) for action, call in tried.items()})
    # MiniStack evaluates no policy for a root key and looks a key up in the caller's own
    # account, so production's root finds no key there; on AWS the vault key's policy refuses
    # it (AccessDeniedException), as the evaluation of the first test shows
    unreached = {f"production root {a}": "NotFoundException" for a in KEY_ACTIONS}
    assert {k: v for k, v in found.items() if v not in REFUSED} == unreached, found
    after = {"versioning": s3.get_bucket_versioning(Bucket=VAULT)["Status"],
             "policy": vault.bucket_policy(), "key policy": vault.key_policy(),
             "lock": s3.get_object_lock_configuration(Bucket=VAULT)["ObjectLockConfiguration"],
             "key": kms.describe_key(KeyId=vault.key_arn())["KeyMetadata"]["KeyState"]}
    assert after == before


def test_the_lock_and_the_iam_guardrail_each_refuse_a_version_delete(vault: Vault,
                                                                     tmp_path: Path) -> None:
    """A version under COMPLIANCE retention is refused even to the vault's root (the lock: no
    user can delete it, object-lock-managing.html); a delete marker takes no retention
    (object-lock.html), so the root may remove one, yet the reader, through which production
    reads, is refused it: that refusal is IAM's, not the lock's."""
    s3 = vault.client(vault.theirs, "s3")
    version = s3.put_object(Bucket=VAULT, Key="orders/locked.json", Body=b"{}")["VersionId"]
    marker = s3.delete_object(Bucket=VAULT, Key="orders/locked.json")
    assert marker["DeleteMarker"]
    assert outcome(lambda: s3.delete_object(Bucket=VAULT, Key="orders/locked.json",
                                            VersionId=version)) == "AccessDenied"  # the lock
    reader = sandbox.reach(load_config(tmp_path / "s3_config.py").accounts["backup"],
                           vault.client(session("test"), "sts"))
    unlocked = {"Bucket": VAULT, "Key": "orders/locked.json", "VersionId": marker["VersionId"]}
    assert outcome(lambda: vault.client(reader, "s3").delete_object(**unlocked)) == (
        "AccessDenied")
    assert outcome(lambda: s3.delete_object(**unlocked)) == "done"
    versions = s3.list_object_versions(Bucket=VAULT, Prefix="orders/locked.json")
    assert [v["VersionId"] for v in versions.get("Versions", [])] == [version]
    assert not versions.get("DeleteMarkers")
