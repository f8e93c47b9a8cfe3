"""A destination in another account, piece by piece: the rule's shape, the role's owner
override permission, the statements granted in the other account's bucket and key policies,
how those grants are widened and narrowed, and how the other account is reached.

- The rule names the destination's account and makes it own the replicas (owner override,
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-change-owner.html,
  https://docs.aws.amazon.com/AmazonS3/latest/API/API_Destination.html), which needs
  s3:ObjectOwnerOverrideToBucketOwner on the role and in the destination's bucket policy.
- The destination's owner grants the source's role the replication actions on its bucket
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-walkthrough-2.html), and
  a key of another account is usable only when its key policy allows it
  (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html);
  the role uses the replica key through S3, kms:Encrypt and (with S3 Bucket Keys) kms:Decrypt
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html,
  kms:ViaService: https://docs.aws.amazon.com/kms/latest/developerguide/
  conditions-kms.html#conditions-kms-via-service).
- The other account is reached by AssumeRole, whose credentials expire
  (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html), and checked with
  GetCallerIdentity (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html).
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from s3replication.aws.accounts import assumed_role_session
from s3replication.aws.clients import Clients
from s3replication.config import CRR, SRR, AccountSpec, BucketSpec, Config, RuleSpec
from s3replication.engine.context import APPLY, Context
from s3replication.engine.scope import Scope
from s3replication.errors import AwsError
from s3replication.resources import account_grants
from s3replication.resources.account_grants import Grant
from s3replication.resources.iam_policy import Endpoint, normalize_document, permissions_policy
from s3replication.resources.replication_rules import s3_rule

OURS, THEIRS = "000000000000", "222222222222"
BACKUP = AccountSpec("backup", THEIRS, f"arn:aws:iam::{THEIRS}:role/backup-admin")
KEY = f"arn:aws:kms:us-west-2:{THEIRS}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
BUCKETS = {b.name: b for b in (
    BucketSpec("src", "us-east-1", "alias/src", "src-replication"),
    BucketSpec("plain", "us-east-1", None, "plain-replication"),
    BucketSpec("near", "us-west-2", "alias/near", "near-replication"),
    BucketSpec("vault", "us-west-2", "alias/vault", "vault-replication", "backup"),
    BucketSpec("cold", "us-west-2", None, "cold-replication", "backup"),
)}
SRC_ROLE = f"arn:aws:iam::{OURS}:role/src-replication"
PLAIN_ROLE = f"arn:aws:iam::{OURS}:role/plain-replication"
OLD_ROLE = f"arn:aws:iam::{OURS}:role/old-replication"


def rule(rule_id: str, source: str, destination: str, kind: str = CRR) -> RuleSpec:
    return RuleSpec(rule_id, kind, source, destination)


CONFIG = Config(Path("s3_config.py"), BUCKETS, crr_rules=(
    rule("vaulted", "src", "vault"), rule("plain-vaulted", "plain", "vault"),
    rule("nearby", "src", "near"), rule("cold", "plain", "cold")), srr_rules=(),
    accounts={"backup": BACKUP})


class FakeS3:
    """A bucket policy, kept as S3 keeps it (a JSON string), and the writes made to it."""

    def __init__(self, statements: list[dict[str, Any]] | None):
        self.policy = json.dumps({"Version": "2012-10-17", "Statement": statements}) if (
            statements is not None) else None
        self.writes: list[str] = []

    def get_bucket_policy(self, Bucket: str) -> dict[str, str]:
        if self.policy is None:
            raise ClientError({"Error": {"Code": "NoSuchBucketPolicy", "Message": "none"}},
                              "GetBucketPolicy")
        return {"Policy": self.policy}

    def put_bucket_policy(self, Bucket: str, Policy: str) -> None:
        self.policy = Policy
        self.writes.append("put")

    def delete_bucket_policy(self, Bucket: str) -> None:
        self.policy = None
        self.writes.append("delete")

    def statements(self) -> list[dict[str, Any]]:
        return json.loads(self.policy)["Statement"] if self.policy else []


class FakeKms(FakeS3):
    """A key policy (KMS has one, named "default"), read and written by key ARN."""

    def describe_key(self, KeyId: str) -> dict[str, Any]:
        return {"KeyMetadata": {"Arn": KEY}}

    def get_key_policy(self, KeyId: str, PolicyName: str) -> dict[str, str]:
        assert (KeyId, PolicyName) == (KEY, "default")
        return {"Policy": str(self.policy)}

    def put_key_policy(self, KeyId: str, PolicyName: str, Policy: str) -> None:
        assert (KeyId, PolicyName) == (KEY, "default")
        self.put_bucket_policy("", Policy)


class FakeClients:
    """The caller's factory; `for_account` hands out the backup account's S3 and KMS."""

    def __init__(self, s3: FakeS3 | None = None, kms: FakeKms | None = None):
        self.services = {"s3": s3, "kms": kms}
        self.reached: list[str] = []

    def for_account(self, account: AccountSpec, region: str) -> FakeClients:
        self.reached.append(account.name)
        return self

    def get(self, service: str, region: str) -> Any:
        return self.services[service]


def context(kind: str = CRR, clients: FakeClients | None = None) -> Context:
    return Context(CONFIG, kind, clients or FakeClients(), OURS)


def test_rule_into_another_account_names_it_and_gives_it_the_replicas() -> None:
    found = s3_rule(rule("vaulted", "src", "vault"), 2, "us-west-2", True, KEY, THEIRS)
    assert found["Destination"] == {
        "Bucket": "arn:aws:s3:::vault", "StorageClass": "STANDARD",
        "Account": THEIRS, "AccessControlTranslation": {"Owner": "Destination"},
        "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
        "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}},
        "EncryptionConfiguration": {"ReplicaKmsKeyID": KEY},
    }


def test_rule_within_the_account_has_no_owner_override() -> None:
    for account in (None, ""):
        found = s3_rule(rule("nearby", "src", "near"), 0, "us-west-2", False, None, account)
        assert "Account" not in found["Destination"]
        assert "AccessControlTranslation" not in found["Destination"]


def test_role_may_give_replicas_to_the_owner_of_another_accounts_bucket() -> None:
    source = Endpoint("src", "us-east-1", None)
    policy = permissions_policy(source, [Endpoint("vault", "us-west-2", None, True),
                                         Endpoint("near", "us-west-2", None)])
    override = [s for s in policy["Statement"]
                if "s3:ObjectOwnerOverrideToBucketOwner" in s["Action"]]
    assert override == [{"Sid": "GiveReplicasToDestinationOwner", "Effect": "Allow",
                         "Action": ["s3:ObjectOwnerOverrideToBucketOwner"],
                         "Resource": ["arn:aws:s3:::vault/*"]}]
    within = permissions_policy(source, [Endpoint("near", "us-west-2", None)])
    assert "ObjectOwnerOverrideToBucketOwner" not in json.dumps(within)


@pytest.mark.parametrize("kind, prefix", [(CRR, "S3ReplicationCrr"), (SRR, "S3ReplicationSrr")])
def test_bucket_grant_lets_the_roles_replicate_into_the_bucket(kind: str, prefix: str) -> None:
    """Replication and the versioning read only: no s3:PutBucketVersioning (a guardrail,
    account_grants.py); s3:ReplicateDelete while a rule replicates delete markers (the action
    "replicate delete markers to the destination bucket",
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html)."""
    roles = [PLAIN_ROLE, SRC_ROLE]
    found = account_grants.bucket_statements(context(kind), BUCKETS["vault"], roles)
    assert found == [
        {"Sid": f"{prefix}ReplicateInto", "Effect": "Allow", "Principal": {"AWS": roles},
         "Action": ["s3:ObjectOwnerOverrideToBucketOwner", "s3:ReplicateDelete",
                    "s3:ReplicateObject", "s3:ReplicateTags"],
         "Resource": "arn:aws:s3:::vault/*"},
        {"Sid": f"{prefix}ReplicaVersioning", "Effect": "Allow", "Principal": {"AWS": roles},
         "Action": ["s3:GetBucketVersioning"],
         "Resource": "arn:aws:s3:::vault"},
    ]
    without = account_grants.bucket_statements(context(kind), BUCKETS["vault"], roles, False)
    assert without[0]["Action"] == ["s3:ObjectOwnerOverrideToBucketOwner", "s3:ReplicateObject",
                                    "s3:ReplicateTags"]


KEY_MANAGEMENT = {"kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey",
                  "kms:CreateGrant", "kms:CancelKeyDeletion", "kms:DisableKeyRotation",
                  "kms:UpdateAlias", "kms:DeleteAlias", "kms:TagResource"}


def test_key_grant_lets_the_roles_use_the_replica_key_through_s3_only() -> None:
    """Encrypt and decrypt (Bucket Keys), through S3 in the bucket's Region, for the bucket's
    own encryption context only, as AWS's replication example limits them
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html);
    no key-management action (https://docs.aws.amazon.com/kms/latest/developerguide/
    key-policy-overview.html)."""
    found = account_grants.key_statements(context(), BUCKETS["vault"], [SRC_ROLE])
    assert found == [{
        "Sid": "S3ReplicationCrrReplicaKey", "Effect": "Allow",
        "Principal": {"AWS": [SRC_ROLE]}, "Action": ["kms:Decrypt", "kms:Encrypt"],
        "Resource": "*",
        "Condition": {
            "StringEquals": {"kms:ViaService": "s3.us-west-2.amazonaws.com"},
            "StringLike": {"kms:EncryptionContext:aws:s3:arn": [
                "arn:aws:s3:::vault", "arn:aws:s3:::vault/*"]}}}]
    assert not KEY_MANAGEMENT & set(found[0]["Action"])


def test_delete_markers_are_granted_only_while_a_rule_replicates_them() -> None:
    keep = Config(Path("s3_config.py"), BUCKETS, crr_rules=(
        RuleSpec("vaulted", CRR, "src", "vault", delete_markers=False),
        RuleSpec("cold", CRR, "plain", "cold")), srr_rules=(), accounts={"backup": BACKUP})
    ctx = Context(keep, CRR, FakeClients(), OURS, mode=APPLY)  # a plan narrows nothing
    scope = Scope.of(ctx)
    assert not account_grants.replicates_delete_markers(ctx, scope, BUCKETS["vault"])
    assert account_grants.replicates_delete_markers(ctx, scope, BUCKETS["cold"])
    lanes = account_grants.narrowed(ctx, scope)
    vault = next(lane for lane in lanes if "vault" in lane[0].resource)
    wanted = json.dumps(vault[0].wanted_for(None))
    assert "s3:ReplicateDelete" not in wanted and "s3:ReplicateObject" in wanted


OLD_BUCKET_GRANT = [  # as the tool wrote it before the guardrails
    {"Sid": "S3ReplicationCrrReplicateInto", "Effect": "Allow", "Principal": {"AWS": [SRC_ROLE]},
     "Action": ["s3:ObjectOwnerOverrideToBucketOwner", "s3:ReplicateDelete",
                "s3:ReplicateObject", "s3:ReplicateTags"],
     "Resource": "arn:aws:s3:::vault/*"},
    {"Sid": "S3ReplicationCrrReplicaVersioning", "Effect": "Allow",
     "Principal": {"AWS": [SRC_ROLE]},
     "Action": ["s3:GetBucketVersioning", "s3:PutBucketVersioning"],
     "Resource": "arn:aws:s3:::vault"}]


@pytest.mark.parametrize("widen", [False, True])
def test_an_old_grant_with_put_bucket_versioning_is_narrowed(widen: bool) -> None:
    """A vault policy holding the old statement: the plan shows the change, apply narrows it
    (keeping every other statement), and even the widening before the rules change does not
    keep s3:PutBucketVersioning."""
    s3 = FakeS3([TLS_ONLY, HAND_MADE, *OLD_BUCKET_GRANT])
    ctx = context(clients=FakeClients(s3=s3))
    item = Grant(ctx, BUCKETS["vault"], False).item([SRC_ROLE], widen=widen)
    current = item.read()
    assert "s3:PutBucketVersioning" in json.dumps(item.project(current))
    assert item.project(current) != item.wanted_for(current)  # plan shows it
    item.write(current)
    assert "s3:PutBucketVersioning" not in json.dumps(s3.statements())
    assert s3.statements()[:2] == [TLS_ONLY, HAND_MADE]
    again = item.read()
    assert item.project(again) == item.wanted_for(again)  # clean after


def test_an_old_key_grant_without_the_encryption_context_is_narrowed() -> None:
    old = [{"Sid": "S3ReplicationCrrReplicaKey", "Effect": "Allow",
            "Principal": {"AWS": [SRC_ROLE]}, "Action": ["kms:Decrypt", "kms:Encrypt"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": "s3.us-west-2.amazonaws.com"}}}]
    kms = FakeKms(old)
    ctx = context(clients=FakeClients(kms=kms))
    item = Grant(ctx, BUCKETS["vault"], True).item([SRC_ROLE])
    current = item.read()
    assert item.project(current) != item.wanted_for(current)
    item.write(current)
    assert kms.statements() == account_grants.key_statements(ctx, BUCKETS["vault"], [SRC_ROLE])


def test_principals_are_the_roles_of_the_rules_wanted_into_the_bucket() -> None:
    ctx = context()
    scope = Scope.of(ctx)
    assert account_grants.principals(ctx, scope, BUCKETS["vault"]) == [PLAIN_ROLE, SRC_ROLE]
    # only SSE-KMS sources' rules use the replica key
    assert account_grants.principals(ctx, scope, BUCKETS["vault"], only_kms=True) == [SRC_ROLE]
    assert account_grants.principals(ctx, scope, BUCKETS["cold"]) == [PLAIN_ROLE]
    assert account_grants.principals(ctx, Scope.of(ctx, removing=True), BUCKETS["vault"]) == []
    assert account_grants.principals(context(SRR), Scope.of(context(SRR)),
                                     BUCKETS["vault"]) == []


TLS_ONLY = {"Sid": "S3ReplicationDenyInsecureTransport", "Effect": "Deny", "Principal": "*",
            "Action": "s3:*", "Resource": ["arn:aws:s3:::vault", "arn:aws:s3:::vault/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
HAND_MADE = {"Sid": "AuditorsRead", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{THEIRS}:root"}, "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::vault/*"}


def bucket_grant(granted: list[str], others: list[dict[str, Any]]
                 ) -> tuple[Context, FakeS3, list[dict[str, Any]]]:
    """A vault bucket policy holding `others` and this script's grant to `granted`."""
    ctx = context()
    ours = account_grants.bucket_statements(ctx, BUCKETS["vault"], granted)
    s3 = FakeS3(others + ours)
    ctx.clients = FakeClients(s3=s3)
    return ctx, s3, ours


def theirs_too() -> list[dict[str, Any]]:
    """Statements of other owners: the TLS-only one, a hand-made one, the other script's."""
    srr = account_grants.bucket_statements(context(SRR), BUCKETS["vault"], [PLAIN_ROLE])
    return [TLS_ONLY, HAND_MADE, *srr]


def test_widened_grant_keeps_the_roles_granted_now() -> None:
    ctx, s3, ours = bucket_grant([OLD_ROLE], theirs_too())
    item = Grant(ctx, BUCKETS["vault"], False).item([SRC_ROLE, PLAIN_ROLE], widen=True)
    current = item.read()
    every_role = [OLD_ROLE, PLAIN_ROLE, SRC_ROLE]
    assert item.project(current) == normalize_document(ours)
    assert item.wanted_for(current) == normalize_document(
        account_grants.bucket_statements(ctx, BUCKETS["vault"], every_role))
    item.write(current)
    assert s3.statements() == theirs_too() + account_grants.bucket_statements(
        ctx, BUCKETS["vault"], every_role)


def test_widened_grant_that_already_covers_the_roles_is_no_change() -> None:
    ctx, s3, _ = bucket_grant([OLD_ROLE, SRC_ROLE], theirs_too())
    item = Grant(ctx, BUCKETS["vault"], False).item([SRC_ROLE], widen=True)
    current = item.read()
    assert item.project(current) == item.wanted_for(current)


def test_narrowed_grant_names_exactly_the_roles_wanted() -> None:
    ctx, s3, _ = bucket_grant([OLD_ROLE, SRC_ROLE], theirs_too())
    item = Grant(ctx, BUCKETS["vault"], False).item([SRC_ROLE])
    current = item.read()
    wanted = account_grants.bucket_statements(ctx, BUCKETS["vault"], [SRC_ROLE])
    assert item.wanted_for(current) == normalize_document(wanted)
    assert item.project(current) != item.wanted_for(current)
    item.write(current)
    assert s3.statements() == theirs_too() + wanted


def test_grant_to_no_role_removes_only_this_scripts_statements() -> None:
    ctx, s3, _ = bucket_grant([SRC_ROLE], theirs_too())
    item = Grant(ctx, BUCKETS["vault"], False).item([])
    current = item.read()
    assert item.wanted_for(current) is None
    item.write(current)
    assert s3.statements() == theirs_too()
    ctx, s3, _ = bucket_grant([SRC_ROLE], [])  # nothing else there: no policy at all
    item = Grant(ctx, BUCKETS["vault"], False).item([])
    item.write(item.read())
    assert (s3.writes, s3.policy) == (["delete"], None)


def test_grant_into_a_bucket_without_a_policy_makes_one() -> None:
    ctx, s3 = context(), FakeS3(None)
    ctx.clients = FakeClients(s3=s3)
    item = Grant(ctx, BUCKETS["vault"], False).item([SRC_ROLE], widen=True)
    current = item.read()
    assert item.project(current) is None
    item.write(current)
    assert json.loads(str(s3.policy)) == {"Version": "2012-10-17", "Statement": (
        account_grants.bucket_statements(ctx, BUCKETS["vault"], [SRC_ROLE]))}


def test_key_grant_is_merged_into_the_key_policy_and_removed_from_it() -> None:
    root = {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{THEIRS}:root"},
            "Action": "kms:*", "Resource": "*"}
    kms = FakeKms([root])
    ctx = context(clients=FakeClients(kms=kms))
    grant = Grant(ctx, BUCKETS["vault"], True)
    assert (grant.resource, grant.setting) == (
        "kms key alias/vault (us-west-2, account backup)", "replication grant (key policy)")
    item = grant.item([SRC_ROLE])
    item.write(item.read())
    wanted = account_grants.key_statements(ctx, BUCKETS["vault"], [SRC_ROLE])
    assert kms.statements() == [root, *wanted]
    assert item.project(item.read()) == item.wanted_for(item.read())
    removing = grant.item([])
    removing.write(removing.read())
    assert kms.statements() == [root]
    assert ctx.clients.reached and set(ctx.clients.reached) == {"backup"}


def test_one_lane_per_bucket_in_another_account_a_plan_lists_them_once() -> None:
    """A plan lists each grant once, where apply first writes it (before the rules): so plan
    and apply list the same changes in the same order (issue 23)."""
    ctx = context(clients=FakeClients())
    scope = Scope.of(ctx)
    lanes = account_grants.widened(ctx, scope)
    assert [[(i.resource, i.setting) for i in lane] for lane in lanes] == [
        [("bucket vault (us-west-2, account backup)", "replication grant (policy)"),
         ("kms key alias/vault (us-west-2, account backup)", "replication grant (key policy)")],
        [("bucket cold (us-west-2, account backup)", "replication grant (policy)")],
    ]
    assert account_grants.narrowed(ctx, scope) == []  # shown before the rules, not after
    ctx.mode = APPLY
    assert len(account_grants.widened(ctx, scope)) == len(account_grants.narrowed(ctx, scope)) == 2


def test_the_other_account_is_reached_once_by_assuming_its_role(moto_clients: Clients) -> None:
    calls: list[tuple[str, str, str]] = []
    moto_clients.on_call(lambda *call: calls.append(call))
    assert moto_clients.for_account(None, "us-east-1") is moto_clients
    made = moto_clients.for_account(BACKUP, "us-east-1")
    assert moto_clients.for_account(BACKUP, "us-east-1") is made
    assert made.account_id("us-east-1") == THEIRS
    credentials = made.session.get_credentials()
    assert credentials is not None and credentials.method == "sts-assume-role"
    made.get("s3", "us-west-2").list_buckets()  # the caller's hooks see its calls too
    assert calls == [("sts", "AssumeRole", "us-east-1"), ("sts", "GetCallerIdentity", "us-east-1"),
                     ("s3", "ListBuckets", "us-west-2")]


def test_credentials_acting_in_another_account_than_account_id_are_refused(
        moto_clients: Clients) -> None:
    elsewhere = Clients(reach=lambda account, sts: boto3.Session())  # moto's 123456789012
    for _ in range(2):  # never kept
        with pytest.raises(AwsError) as caught:
            elsewhere.for_account(BACKUP, "us-east-1")
        assert str(caught.value) == (
            'ACCOUNTS["backup"]: the credentials reach account 123456789012, not '
            f"{THEIRS}; fix its account_id, role_arn or profile")


def test_a_role_that_cannot_be_assumed_is_one_line_naming_the_account(
        moto_clients: Clients) -> None:
    def denied(account: AccountSpec, sts: Any) -> boto3.Session:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not authorized to "
                                     "perform: sts:AssumeRole"}}, "AssumeRole")

    with pytest.raises(AwsError) as caught:
        Clients(reach=denied).for_account(BACKUP, "us-east-1")
    message = str(caught.value)
    assert message.startswith(f'reaching account "backup" ({THEIRS}) assuming '
                              f"{BACKUP.role_arn}: access denied"), message
    assert "\n" not in message


def test_an_account_reached_by_profile_uses_that_profile(
        moto_clients: Clients, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text("[vault-admin]\naws_access_key_id = vault\n"
                           "aws_secret_access_key = vault\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    vault = AccountSpec("vault", "123456789012", profile="vault-admin")  # moto's account
    made = moto_clients.for_account(vault, "us-east-1")
    assert made.session.profile_name == "vault-admin"
    assert access_key(made.session) == "vault"


def access_key(session: boto3.Session) -> str:
    credentials = session.get_credentials()
    assert credentials is not None
    return str(credentials.get_frozen_credentials().access_key)


class FakeSts:
    """AssumeRole answers, each expiring `lifetime` from now, with numbered keys."""

    def __init__(self, lifetime: datetime.timedelta):
        self.lifetime = lifetime
        self.requests: list[dict[str, Any]] = []

    def assume_role(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        n = len(self.requests)
        expiry = datetime.datetime.now(datetime.UTC) + self.lifetime
        return {"Credentials": {"AccessKeyId": f"key-{n}", "SecretAccessKey": f"secret-{n}",
                                "SessionToken": f"token-{n}", "Expiration": expiry}}


def test_assumed_role_credentials_are_renewed_before_they_expire() -> None:
    lasting = FakeSts(datetime.timedelta(hours=1))
    session = assumed_role_session(BACKUP, lasting)
    assert access_key(session) == "key-1"
    assert lasting.requests == [{"RoleArn": BACKUP.role_arn, "RoleSessionName": "s3-replication",
                                 "DurationSeconds": 3600}]
    expiring = FakeSts(datetime.timedelta(minutes=1))  # nearly expired on every answer
    session = assumed_role_session(BACKUP, expiring)
    assert access_key(session) == "key-2"
    assert len(expiring.requests) == 2
