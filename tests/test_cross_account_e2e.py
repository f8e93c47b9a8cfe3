"""A destination in another account (ACCOUNTS, reached by AssumeRole), end to end on a
MiniStack that enforces IAM and bucket policies (AUTH=true): the access key `test` acts as
the root of account 000000000000 (ours, the source's) and `222222222222` as the root of
account 222222222222 (the backup account).

- Cross-account replication needs the destination bucket's owner to allow the source's role
  in its bucket policy, and the replica key's owner in its key policy
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-walkthrough-2.html,
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html);
  without the bucket grant the source version reads FAILED
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-status.html).
- With owner override the rule names the destination account and the replicas belong to it
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-change-owner.html).
- AssumeRole fails unless the role's trust policy lets the caller in
  (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html), and
  GetCallerIdentity names the account credentials act in
  (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from s3replication.aws.clients import Clients
from tests.shop import Run, run_script, shop_config

pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")

OURS, THEIRS = "000000000000", "222222222222"
EAST, WEST = "us-east-1", "us-west-2"
INTO, VERSIONING = "S3ReplicationCrrReplicateInto", "S3ReplicationCrrReplicaVersioning"
KEY_GRANT = "S3ReplicationCrrReplicaKey"
OUR_SIDS = {INTO, VERSIONING, KEY_GRANT}
ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:*", "kms:*"], "Resource": "*"}]}
AUDITORS = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{THEIRS}:root"}}
HAND_KEY_STATEMENTS = [{"Sid": "Root", **AUDITORS, "Action": "kms:*", "Resource": "*"},
                       {"Sid": "AuditorsDecrypt", **AUDITORS, "Action": "kms:Decrypt",
                        "Resource": "*"}]
Statements = dict[str, dict[str, Any]]  # a policy's statements by Sid


def as_account(endpoint: str, access_key: str) -> Clients:
    return Clients(endpoint_url=endpoint, verify=False, session=boto3.Session(
        aws_access_key_id=access_key, aws_secret_access_key="test", region_name=EAST))


def trust(account: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": "sts:AssumeRole"}]})


def statements(document: Any) -> Statements:
    found = json.loads(document) if isinstance(document, str) else document
    return {s.get("Sid", ""): s for s in found["Statement"]}


def document(found: Statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(found.values())})


class Backup:
    """Our source bucket replicating into a vault bucket of the backup account."""

    def __init__(self, endpoint: str, tmp_path: Path, name: Callable[[str], str], kms: bool):
        self.endpoint, self.tmp_path, self.kms = endpoint, tmp_path, kms
        self.source, self.vault, self.rule = name("xa-src"), name("xa-vault"), name("xa-rule")
        self.second, self.second_rule = name("xa-src"), name("xa-rule")
        self.topic, self.admin = name("xa-alerts"), name("backup-admin")
        self.source_key, self.vault_key = f"alias/{name('xa-src')}", f"alias/{name('xa-vault')}"
        self.ours, self.theirs = as_account(endpoint, "test"), as_account(endpoint, THEIRS)
        self.role_arn = f"arn:aws:iam::{OURS}:role/{self.source}-replication"
        self.account: str | None = None  # ACCOUNTS["backup"] as the config writes it

    def make_admin(self, trusted: str = OURS) -> str:
        """A role of the backup account that `trusted` may assume, allowed S3 and KMS."""
        iam = self.theirs.get("iam", EAST)
        iam.create_role(RoleName=self.admin, AssumeRolePolicyDocument=trust(trusted))
        iam.put_role_policy(RoleName=self.admin, PolicyName="admin",
                            PolicyDocument=json.dumps(ADMIN_POLICY))
        return f"arn:aws:iam::{THEIRS}:role/{self.admin}"

    def config(self, account: str | None = None, vault_key: str | None = None,
               second: bool = False) -> None:
        """The config: our source (with `second`, another one too) into the vault; ACCOUNTS
        with `account`, else a role of the backup account made for it (once)."""
        if account is None and self.account is None:
            self.account = f'{{"account_id": "{THEIRS}", "role_arn": "{self.make_admin()}"}}'
        keys = (f'"{self.source_key}"', f'"{vault_key or self.vault_key}"') if self.kms else (
            "None", "None")
        rules = [(self.rule, self.source)] + [(self.second_rule, self.second)] * second
        self.write(f'''
ACCOUNTS = {{"backup": {account or self.account}}}
BUCKETS = {{
    "{self.source}": {{"region": "{EAST}", "kms_key": {keys[0]}}},
    "{self.second}": {{"region": "{EAST}", "kms_key": {keys[0]}}},
    "{self.vault}": {{"region": "{WEST}", "kms_key": {keys[1]}, "account": "backup"}},
}}
CRR_RULES = {[{"id": i, "source": s, "destination": self.vault} for i, s in rules]!r}
SRR_RULES = []
''')

    def write(self, text: str) -> None:
        text += f'MONITORING = {{"sns_topic": "{self.topic}"}}\n'
        self.path = str(shop_config(self.tmp_path, base=text))

    def run(self, *argv: str, kind: str = "crr") -> Run:
        return run_script(kind, *argv, "--config", self.path,
                          clients=lambda: as_account(self.endpoint, "test"))

    def ok(self, *argv: str, kind: str = "crr") -> Run:
        done = self.run(*argv, kind=kind)
        assert done.status == 0, f"{kind} {argv}: {done.stdout}\n{done.stderr}"
        return done

    def put(self, key: str, source: str | None = None, region: str = EAST) -> str:
        """Write `key` to the source; its replication status once S3 is done with it."""
        s3, bucket = self.ours.get("s3", region), source or self.source
        s3.put_object(Bucket=bucket, Key=key, Body=b"ledger")
        deadline = time.monotonic() + 30
        while True:
            status = s3.head_object(Bucket=bucket, Key=key).get("ReplicationStatus")
            if status not in ("PENDING", None) or time.monotonic() > deadline:
                return str(status)
            time.sleep(0.2)

    def replica(self, key: str) -> Any:
        """The replica's metadata, read as the backup account; None when there is none."""
        try:
            return self.theirs.get("s3", WEST).head_object(Bucket=self.vault, Key=key)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("404", "NoSuchKey"):
                return None
            raise

    def bucket_policy(self) -> Statements:
        s3 = self.theirs.get("s3", WEST)
        return statements(s3.get_bucket_policy(Bucket=self.vault)["Policy"])

    def put_bucket_policy(self, found: Statements) -> None:
        self.theirs.get("s3", WEST).put_bucket_policy(Bucket=self.vault, Policy=document(found))

    def key_arn(self, key: str | None = None) -> str:
        meta = self.theirs.get("kms", WEST).describe_key(KeyId=key or self.vault_key)
        return str(meta["KeyMetadata"]["Arn"])

    def key_policy(self, key: str | None = None) -> Statements:
        kms = self.theirs.get("kms", WEST)
        return statements(kms.get_key_policy(KeyId=self.key_arn(key),
                                             PolicyName="default")["Policy"])

    def put_key_policy(self, found: Statements, key: str | None = None) -> None:
        self.theirs.get("kms", WEST).put_key_policy(KeyId=self.key_arn(key),
                                                    PolicyName="default", Policy=document(found))

    def world(self) -> dict[str, Any]:
        """What both accounts hold that a run could change: buckets, roles, key aliases."""
        found: dict[str, Any] = {}
        for who, aws in (("ours", self.ours), ("theirs", self.theirs)):
            found[f"{who} buckets"] = sorted(
                b["Name"] for b in aws.get("s3", EAST).list_buckets()["Buckets"])
            roles = aws.get("iam", EAST).get_paginator("list_roles").paginate()
            found[f"{who} roles"] = sorted(r["RoleName"] for p in roles for r in p["Roles"])
            for region in (EAST, WEST):
                aliases = aws.get("kms", region).get_paginator("list_aliases").paginate()
                found[f"{who} aliases {region}"] = sorted(
                    a["AliasName"] for p in aliases for a in p["Aliases"])
        return found


Make = Callable[[bool], Backup]  # kms -> a new Backup


@pytest.fixture
def backup(ministack_auth_endpoint: str, tmp_path: Path,
           unique_name: Callable[[str], str]) -> Make:
    return lambda kms: Backup(ministack_auth_endpoint, tmp_path, unique_name, kms)


def test_replicas_land_in_the_backup_account_under_its_grants(backup: Make) -> None:
    world = backup(True)
    world.config()
    world.ok("apply")
    configuration = world.ours.get("s3", EAST).get_bucket_replication(Bucket=world.source)
    destination = configuration["ReplicationConfiguration"]["Rules"][0]["Destination"]
    assert destination["Account"] == THEIRS
    assert destination["AccessControlTranslation"] == {"Owner": "Destination"}
    vault_key = world.key_arn()
    assert vault_key.startswith(f"arn:aws:kms:{WEST}:{THEIRS}:key/")
    assert destination["EncryptionConfiguration"] == {"ReplicaKmsKeyID": vault_key}
    granted = world.bucket_policy()
    assert granted[INTO]["Principal"] == {"AWS": [world.role_arn]}
    assert granted[VERSIONING]["Principal"] == {"AWS": [world.role_arn]}
    assert world.key_policy()[KEY_GRANT]["Principal"] == {"AWS": [world.role_arn]}

    assert world.put("ledger/1.csv") == "COMPLETED"
    replica = world.replica("ledger/1.csv")
    assert replica is not None and replica["ReplicationStatus"] == "REPLICA"
    assert world.vault in world.world()["theirs buckets"]
    assert world.vault not in world.world()["ours buckets"]
    for command in ("verify", "audit", "plan"):
        world.ok(command)


def test_a_lost_bucket_grant_fails_replication_until_apply_restores_it(backup: Make) -> None:
    world = backup(False)
    world.config()
    world.ok("apply")
    assert world.put("before.csv") == "COMPLETED"
    granted = world.bucket_policy()
    world.put_bucket_policy({sid: s for sid, s in granted.items() if sid != INTO})

    planned = world.run("plan")
    assert planned.status == 3, planned.stdout + planned.stderr
    assert f"bucket {world.vault} ({WEST}, account backup)" in planned.stdout
    assert "replication grant (policy)" in planned.stdout
    assert world.put("lost.csv") == "FAILED"
    assert world.replica("lost.csv") is None

    world.ok("apply")
    assert world.bucket_policy() == granted
    assert world.put("after.csv") == "COMPLETED"
    replica = world.replica("after.csv")
    assert replica is not None and replica["ReplicationStatus"] == "REPLICA"
    world.ok("plan")


def test_a_lost_key_grant_is_planned_and_restored(backup: Make) -> None:
    """(MiniStack keeps the source's key on a replica, so only the policies are checked.)"""
    world = backup(True)
    world.config()
    world.ok("apply")
    granted = world.key_policy()
    world.put_key_policy({sid: s for sid, s in granted.items() if sid != KEY_GRANT})

    planned = world.run("plan")
    assert planned.status == 3, planned.stdout + planned.stderr
    assert f"kms key {world.vault_key} ({WEST}, account backup)" in planned.stdout
    assert "replication grant (key policy)" in planned.stdout
    assert f"bucket {world.vault}" not in planned.stdout  # the bucket grant is still there

    world.ok("apply")
    assert world.key_policy() == granted
    world.ok("plan")
    assert world.put("after.csv") == "COMPLETED"


def test_the_grant_follows_the_rules_into_the_vault(backup: Make) -> None:
    """Widened to the roles of the rules there now and wanted, narrowed once the rules are
    what the config says."""
    world = backup(False)
    world.config(second=True)
    world.ok("apply")
    second_role = f"arn:aws:iam::{OURS}:role/{world.second}-replication"
    both = {"AWS": sorted([world.role_arn, second_role])}
    assert world.bucket_policy()[INTO]["Principal"] == both
    assert world.bucket_policy()[VERSIONING]["Principal"] == both

    world.config()  # the second source's rule is gone
    world.ok("apply")
    assert world.bucket_policy()[INTO]["Principal"] == {"AWS": [world.role_arn]}
    assert world.bucket_policy()[VERSIONING]["Principal"] == {"AWS": [world.role_arn]}
    with pytest.raises(ClientError, match="ReplicationConfigurationNotFoundError"):
        world.ours.get("s3", EAST).get_bucket_replication(Bucket=world.second)
    world.ok("plan")
    assert world.put("still.csv") == "COMPLETED"


def test_each_script_removes_only_its_own_grants(backup: Make) -> None:
    """cr_replication.py and sr_replication.py both replicate into the vault, each with its
    own statements (S3ReplicationCrr*, S3ReplicationSrr*)."""
    world = backup(True)
    world.config()
    west = world.second  # a source in the vault's Region, for sr_replication.py
    world.write(f'''
ACCOUNTS = {{"backup": {world.account}}}
BUCKETS = {{
    "{world.source}": {{"region": "{EAST}", "kms_key": "{world.source_key}"}},
    "{west}": {{"region": "{WEST}", "kms_key": "{world.vault_key}-ours"}},
    "{world.vault}": {{"region": "{WEST}", "kms_key": "{world.vault_key}", "account": "backup"}},
}}
CRR_RULES = [{{"id": "{world.rule}", "source": "{world.source}", "destination": "{world.vault}"}}]
SRR_RULES = [{{"id": "{world.second_rule}", "source": "{west}", "destination": "{world.vault}"}}]
''')
    for kind in ("crr", "srr"):
        world.ok("apply", kind=kind)
    srr = {"S3ReplicationSrrReplicateInto", "S3ReplicationSrrReplicaVersioning"}
    assert {INTO, VERSIONING} | srr <= set(world.bucket_policy())
    assert {KEY_GRANT, "S3ReplicationSrrReplicaKey"} <= set(world.key_policy())

    world.ok("destroy", "--yes")
    assert not OUR_SIDS & (set(world.bucket_policy()) | set(world.key_policy()))
    assert srr <= set(world.bucket_policy())
    assert "S3ReplicationSrrReplicaKey" in world.key_policy()
    world.ok("plan", kind="srr")
    assert world.put("west.csv", west, WEST) == "COMPLETED"
    world.ok("destroy", "--yes", kind="srr")
    assert not {s for s in world.bucket_policy() if s.startswith("S3ReplicationSrr")}


def hand_made_vault(world: Backup) -> str:
    """The vault bucket and its key, made by the backup account with statements of its own;
    the key's ARN."""
    s3, kms = world.theirs.get("s3", WEST), world.theirs.get("kms", WEST)
    s3.create_bucket(Bucket=world.vault,
                     CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    world.put_bucket_policy({"AuditorsRead": {"Sid": "AuditorsRead", **AUDITORS,
                                              "Action": "s3:GetObject",
                                              "Resource": f"arn:aws:s3:::{world.vault}/*"}})
    policy = {"Version": "2012-10-17", "Statement": HAND_KEY_STATEMENTS}
    return str(kms.create_key(Policy=json.dumps(policy))["KeyMetadata"]["Arn"])


def test_hand_made_statements_survive_and_destroy_removes_only_ours(backup: Make) -> None:
    world = backup(True)
    key = hand_made_vault(world)
    hand_bucket, hand_key = world.bucket_policy(), world.key_policy(key)
    world.config(vault_key=key)
    world.ok("apply")
    applied_bucket, applied_key = world.bucket_policy(), world.key_policy(key)
    assert applied_bucket["AuditorsRead"] == hand_bucket["AuditorsRead"]
    assert {INTO, VERSIONING} <= set(applied_bucket)
    assert {k: v for k, v in applied_key.items() if k != KEY_GRANT} == hand_key
    assert applied_key[KEY_GRANT]["Principal"] == {"AWS": [world.role_arn]}
    assert world.put("kept.csv") == "COMPLETED"
    world.ok("plan")
    before = world.world()
    assert world.run("destroy").status == 3  # without --yes: what it would do, nothing done
    assert (world.bucket_policy(), world.key_policy(key)) == (applied_bucket, applied_key)

    destroyed = world.ok("destroy", "--yes")
    assert "replication grant (policy)" in destroyed.stdout
    assert "replication grant (key policy)" in destroyed.stdout
    assert world.bucket_policy() == {k: v for k, v in applied_bucket.items()
                                     if k not in OUR_SIDS}
    assert world.key_policy(key) == hand_key
    after = world.world()
    assert {k: v for k, v in after.items() if "roles" not in k} == {
        k: v for k, v in before.items() if "roles" not in k}  # every bucket and key alias
    kms = world.theirs.get("kms", WEST)
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Enabled"
    assert world.replica("kept.csv") is not None
    assert world.run("plan").status == 3  # apply would set it up again


def unreachable(world: Backup, how: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """An ACCOUNTS entry for the backup account that does not lead there."""
    role = f"arn:aws:iam::{THEIRS}:role/{world.admin}"
    if how == "untrusting-role":
        role = world.make_admin(trusted="444444444444")
    if how != "profile-of-another-account":
        return f'{{"account_id": "{THEIRS}", "role_arn": "{role}"}}'
    credentials = world.tmp_path / "credentials"  # the keys of account 000000000000
    credentials.write_text("[backup-admin]\naws_access_key_id = test\n"
                           "aws_secret_access_key = test\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(world.tmp_path / "no-config"))
    return f'{{"account_id": "{THEIRS}", "profile": "backup-admin"}}'


def assert_changes_nothing(world: Backup, *commands: tuple[str, ...]) -> None:
    """Each command exits 1 with one line naming the backup account, and calls nothing that
    writes; both accounts hold what they held before."""
    before = world.world()
    for argv in commands:
        done = world.run(*argv)
        assert done.status == 1, f"{argv}: {done.stdout}\n{done.stderr}"
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
        assert '"backup"' in lines[0] and THEIRS in lines[0], lines[0]
        assert done.mutating == [], done.mutating
    assert world.world() == before


@pytest.mark.parametrize("how", ["missing-role", "untrusting-role",
                                 "profile-of-another-account"])
def test_an_account_that_cannot_be_reached_changes_nothing(
        backup: Make, how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    world = backup(False)
    world.config(account=unreachable(world, how, monkeypatch))
    assert_changes_nothing(world, ("plan",), ("apply",), ("destroy", "--yes"))


def test_an_unreachable_account_with_a_key_by_arn_changes_nothing(
        backup: Make, monkeypatch: pytest.MonkeyPatch) -> None:
    """The replica key named by ARN is only read, in a lane of its own: the source's key must
    not be made before the run finds it cannot reach the backup account."""
    world = backup(True)
    key = world.theirs.get("kms", WEST).create_key()["KeyMetadata"]["Arn"]
    world.config(account=unreachable(world, "missing-role", monkeypatch), vault_key=key)
    assert_changes_nothing(world, ("plan",), ("apply",))
