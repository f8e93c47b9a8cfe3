"""The permissions table checked against the calls the commands really make, account by account.

Every command that calls AWS (plan, apply and destroy of both scripts, status, verify, audit,
audit --inventory with either engine, backfill by copy and by batch, dry runs included,
backfill --job, readiness, failover, failback) runs against moto on a config with a destination
in another account (ACCOUNTS, reached by AssumeRole: moto answers with credentials that act in
the role's account), S3 Inventory, monitoring and a Multi-Region Access Point. Each API call
is recorded through botocore's `before-parameter-build` event, registered on the session of
each account's client factory: the caller's, and the one `Clients.for_account` gets for the
backup account (through the real `accounts.reach`, wrapped). Each call is then turned into the
IAM action(s) AWS checks for it (`iam_actions`: this file's own table, from the Service
Authorization Reference), and must be granted, to the account that sent it, by what
`permissions` prints for that account: on the bucket or object the call names, for S3, where
the account split lies; the action in that account's documents, for the other services. The
other way round, every action the backup account is granted is sent there, or
`NOT_SENT_THERE` says why not.

An identity-based policy must allow every action a principal sends
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html);
in another account the caller acts as the role it assumed there, so that role's policy is what
must allow them (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_permissions-to-switch.html).
What moto lacks is answered in `ANSWERED` as the API references give it; what it does not
check (bucket policies' conditions, replication) is said where the test works around it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from ministack.core.iam_evaluator import EvalContext, evaluate, parse_policy_document

from s3replication.aws import accounts
from s3replication.aws.clients import Clients
from s3replication.commands import failover
from s3replication.config import AccountSpec, load_config
from s3replication.inventory.standin import rows_from_bucket, write_report
from tests.shop import Run, run_script

CALLER, BACKUP = "123456789012", "222222222222"  # moto's default account; the backup account
ROLE = f"arn:aws:iam::{BACKUP}:role/perm-rec-admin"
CONFIG = f'''
TAGS = {{"project": "perm-rec"}}
ACCOUNTS = {{"backup": {{"account_id": "{BACKUP}", "role_arn": "{ROLE}"}}}}
BUCKETS = {{
    "perm-rec-orders": {{"region": "us-east-1", "kms_key": "alias/perm-rec-use1"}},
    "perm-rec-orders-copy": {{"region": "us-east-1", "kms_key": "alias/perm-rec-use1"}},
    "perm-rec-west": {{"region": "us-west-2", "kms_key": "alias/perm-rec-usw2"}},
    "perm-rec-vault": {{"region": "us-west-2", "kms_key": "alias/perm-rec-vault",
                       "account": "backup"}},
}}
CRR_RULES = [
    {{"id": "vault", "source": "perm-rec-orders", "destination": "perm-rec-vault",
      "prefix": "orders/"}},
    {{"id": "kept", "source": "perm-rec-orders", "destination": "perm-rec-west",
      "prefix": "kept/", "tags": {{"retain": "7y"}}, "delete_markers": False, "priority": 5}},
]
SRR_RULES = [
    {{"id": "copy", "source": "perm-rec-orders", "destination": "perm-rec-orders-copy",
      "prefix": "copy/"}},
]
MONITORING = {{"sns_topic": "perm-rec-alerts", "alert_emails": ["ops@example.com"],
               "latency_threshold_seconds": 900, "dashboard": "perm-rec"}}
INVENTORY = {{"buckets": {{"us-east-1": "perm-rec-reports-use1",
                          "us-west-2": "perm-rec-reports-usw2"}}}}
BUCKETS.update({{"perm-rec-web-use1": {{"region": "us-east-1", "kms_key": None}},
                "perm-rec-web-usw2": {{"region": "us-west-2", "kms_key": None}}}})
CRR_RULES += [
    {{"id": "web-east-west", "source": "perm-rec-web-use1", "destination": "perm-rec-web-usw2",
      "replica_modifications": True}},
    {{"id": "web-west-east", "source": "perm-rec-web-usw2", "destination": "perm-rec-web-use1",
      "replica_modifications": True}},
]
ACCESS_POINTS = {{"shop": {{"buckets": ["perm-rec-web-use1", "perm-rec-web-usw2"],
                          "active": ["perm-rec-web-use1"]}}}}
'''

SAR_S3 = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html"
# S3 API operations whose IAM action has another name (SAR_S3, "Actions defined by Amazon S3":
# each action lists the API operations it authorizes); any other S3 operation is checked as
# s3:<operation>.
S3_ACTION = {
    "HeadBucket": "ListBucket",
    "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
    "PutObjectLockConfiguration": "PutBucketObjectLockConfiguration",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
    "DeleteBucketLifecycle": "PutLifecycleConfiguration",
    "ListBuckets": "ListAllMyBuckets",
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "PutBucketEncryption": "PutEncryptionConfiguration",
    "GetBucketReplication": "GetReplicationConfiguration",
    "PutBucketReplication": "PutReplicationConfiguration",
    "DeleteBucketReplication": "PutReplicationConfiguration",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeleteBucketTagging": "PutBucketTagging",
    "DeleteBucketOwnershipControls": "PutBucketOwnershipControls",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "GetBucketInventoryConfiguration": "GetInventoryConfiguration",
    "PutBucketInventoryConfiguration": "PutInventoryConfiguration",
    "DeleteBucketInventoryConfiguration": "PutInventoryConfiguration",
    "ListBucketInventoryConfigurations": "GetInventoryConfiguration",
    "HeadObject": "GetObject",
    "CopyObject": "PutObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "UploadPartCopy": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "DeleteObjects": "DeleteObject",
}
# With a VersionId, an object operation is checked against the version's own action (SAR_S3;
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html).
VERSIONED = {
    "GetObject": "GetObjectVersion",
    "DeleteObject": "DeleteObjectVersion",
    "GetObjectTagging": "GetObjectVersionTagging",
    "PutObjectTagging": "PutObjectVersionTagging",
    "GetObjectAcl": "GetObjectVersionAcl",
}
# Tags given on creation are also checked against the service's tagging action (PutObject:
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html; PutMetricAlarm:
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html;
# CreateTopic: https://docs.aws.amazon.com/sns/latest/dg/sns-tags-configuring.html; CreateRole:
# https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags_roles.html; CreateKey:
# https://docs.aws.amazon.com/kms/latest/developerguide/manage-tags-api.html).
TAGGED_ON_CREATION = {
    ("s3", "PutObject"): "s3:PutObjectTagging",
    ("s3", "CopyObject"): "s3:PutObjectTagging",
    ("s3", "CreateMultipartUpload"): "s3:PutObjectTagging",
    ("cloudwatch", "PutMetricAlarm"): "cloudwatch:TagResource",
    ("sns", "CreateTopic"): "sns:TagResource",
    ("iam", "CreateRole"): "iam:TagRole",
    ("kms", "CreateKey"): "kms:TagResource",
    ("s3control", "CreateJob"): "s3:PutJobTagging",
}
# Calls that pass a role: the replication configuration names it, a Batch job runs as it
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html,
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-iam-role-policies.html).
PASSES_ROLE = {("s3", "PutBucketReplication"), ("s3control", "CreateJob")}
PREFIX = {"s3control": "s3", "monitoring": "cloudwatch"}
# GetCallerIdentity needs no permission
# (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html).
NO_PERMISSION = {("sts", "GetCallerIdentity")}


@dataclass(frozen=True)
class Call:
    account: str  # the account whose credentials sent it
    service: str
    operation: str
    region: str
    params: dict[str, Any] = field(compare=False, hash=False)


@dataclass(frozen=True)
class Check:
    """One IAM action a call needs, and the S3 resource it names (None: not S3)."""

    action: str
    resource: str | None


def _object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def _copy_source(params: dict[str, Any]) -> tuple[str, str, bool] | None:
    source = params.get("CopySource")
    if isinstance(source, dict):
        return source["Bucket"], source["Key"], bool(source.get("VersionId"))
    if isinstance(source, str):
        path, _, query = source.partition("?")
        bucket, _, key = path.lstrip("/").partition("/")
        return bucket, key, "versionId=" in query
    return None


def iam_actions(call: Call) -> list[Check]:
    """The IAM actions AWS checks for `call`, with the S3 resource each applies to."""
    service, operation, params = call.service, call.operation, call.params
    if (service, operation) in NO_PERMISSION:
        return []
    prefix = PREFIX.get(service, service)
    if service != "s3":
        checks = [Check(f"{prefix}:{operation}", None)]
        if params.get("Tags") and (service, operation) in TAGGED_ON_CREATION:
            checks.append(Check(TAGGED_ON_CREATION[service, operation], None))
        if (service, operation) in PASSES_ROLE:
            checks.append(Check("iam:PassRole", None))
        return checks
    action = S3_ACTION.get(operation, operation)
    versioned = bool(params.get("VersionId"))
    if operation == "DeleteObjects":
        versioned = any(o.get("VersionId") for o in params["Delete"]["Objects"])
    if versioned:
        action = VERSIONED.get(action, action)
    bucket, key = params.get("Bucket"), params.get("Key")
    if operation == "DeleteObjects":
        key = params["Delete"]["Objects"][0]["Key"]
    resource = "*" if bucket is None else (  # ListBuckets: no resource type
        _object_arn(bucket, key) if key is not None else f"arn:aws:s3:::{bucket}")
    checks = [Check(f"s3:{action}", resource)]
    if params.get("Tagging") and ("s3", operation) in TAGGED_ON_CREATION:
        checks.append(Check("s3:PutObjectTagging", resource))
    source = _copy_source(params)
    if source is not None:  # a copy reads its source (SAR_S3: CopyObject)
        name, source_key, source_versioned = source
        checks.append(Check("s3:GetObjectVersion" if source_versioned else "s3:GetObject",
                            _object_arn(name, source_key)))
    if (service, operation) in PASSES_ROLE:
        checks.append(Check("iam:PassRole", None))
    return checks


def _allows(documents: list[dict[str, Any]], account: str, check: Check) -> bool:
    if check.resource is None:  # the action, on any resource of the documents
        return any(check.action in _listed(s["Action"]) for d in documents
                   for s in d["Statement"])
    context = EvalContext(principal_arn=f"arn:aws:iam::{account}:role/caller",
                          principal_type="AssumedRole", principal_account=account,
                          action=check.action, resource_arn=check.resource,
                          region="us-east-1", service_context={})
    return evaluate(context, [parse_policy_document(d) for d in documents]).decision == "Allow"


def _listed(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


JOB_ID = "00000000-0000-4000-8000-000000000001"
# What moto does not answer, answered here as the API references give it: moto routes
# DeleteBucketInventoryConfiguration to DeleteBucket, has no S3 Batch Operations, and its
# Athena and Glue need a package this project does not install (pyparsing)
# (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketInventoryConfiguration.html,
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_CreateJob.html,
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_DescribeJob.html,
# https://docs.aws.amazon.com/athena/latest/APIReference/API_GetQueryExecution.html,
# https://docs.aws.amazon.com/athena/latest/APIReference/API_GetQueryResults.html,
# https://docs.aws.amazon.com/glue/latest/webapi/API_CreateDatabase.html).
ANSWERED: dict[str, tuple[int, dict[str, Any]]] = {
    "s3.DeleteBucketInventoryConfiguration": (204, {}),
    "s3-control.CreateJob": (200, {"JobId": JOB_ID}),
    "s3-control.DescribeJob": (200, {"Job": {"JobId": JOB_ID, "Status": "Complete",
                                             "ProgressSummary": {"TotalNumberOfTasks": 0}}}),
    "athena.StartQueryExecution": (200, {"QueryExecutionId": "q-1"}),
    "athena.GetQueryExecution": (200, {"QueryExecution": {"Status": {"State": "SUCCEEDED"}}}),
    "athena.GetQueryResults": (200, {"ResultSet": {"Rows": []}}),
    "glue.CreateDatabase": (200, {}),
    "glue.DeleteTable": (200, {}),
    "s3-control.SubmitMultiRegionAccessPointRoutes": (200, {}),
}


def _answer(status: int, parsed: dict[str, Any]) -> Callable[..., Any]:
    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("https://s3.amazonaws.com", status, {}, None), dict(parsed)

    return answer


class Recorder:
    """The calls of every factory the runs make, each tagged with the account it acts in."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.routes: dict[str, dict[str, Any]] = {}  # an access point's routes, by bucket

    def tagged(self, session: boto3.Session, account: str) -> boto3.Session:
        def record(params: dict[str, Any], model: Any, context: dict[str, Any],
                   **_: Any) -> None:
            self.calls.append(Call(account, model.service_model.service_name, model.name,
                                   context.get("client_region") or "", dict(params)))
            if model.name == "SubmitMultiRegionAccessPointRoutes":
                self.routes.update({r["Bucket"]: r for r in params["RouteUpdates"]})

        def routes(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
            return _answer(200, {"Routes": list(self.routes.values())})()

        session.events.register("before-parameter-build", record)
        for event, (status, parsed) in ANSWERED.items():
            session.events.register(f"before-call.{event}", _answer(status, parsed))
        session.events.register("before-call.s3-control.GetMultiRegionAccessPointRoutes", routes)
        return session

    def reach(self, account: AccountSpec, sts: Any) -> boto3.Session:
        return self.tagged(accounts.reach(account, sts), account.account_id)

    def clients(self) -> Clients:
        return Clients(session=self.tagged(boto3.Session(), CALLER), reach=self.reach)


@pytest.fixture
def world(moto_clients: Clients, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Recorder]]:
    from moto.iam.access_control import PermissionResult
    from moto.s3.models import FakeBucket

    # moto applies a bucket policy's Deny without its conditions (its put_bucket_policy says
    # so): the TLS-only statement would refuse every object request. Bucket policies are not
    # what this test checks, so moto evaluates none here.
    monkeypatch.setattr(FakeBucket, "get_permission",
                        lambda self, action, resource: PermissionResult.NEUTRAL)
    # moto never replicates: failover's and failback's readiness would wait out each canary
    monkeypatch.setattr(failover, "CANARY_TIMEOUT", 1.0)
    path = tmp_path / "s3_config.py"
    path.write_text(f"{CONFIG}\nLOG_FILE = {str(tmp_path / 'log.txt')!r}\n")
    yield path, Recorder()


def run(recorder: Recorder, kind: str, config: Path, *argv: str) -> Run:
    return run_script(kind, *argv, "--config", str(config), clients=recorder.clients)


def printed(config: Path, kind: str) -> dict[str, list[dict[str, Any]]]:
    """What `permissions` prints, by account id."""
    done = run_script(kind, "permissions", "--config", str(config),
                      clients=lambda: Clients(session=boto3.Session()))
    assert done.status == 0, done.stderr
    return {label.split(" ")[0]: documents for label, documents in json.loads(done.stdout).items()}


def deliver_reports(config_path: Path) -> None:
    """What S3's daily inventory job would deliver (the sandbox's stand-in for it), written
    as each bucket's owner, outside the recording."""
    # a second after the last write: a version written in the second a replica's report began
    # is too new for that report (inventory/query.py), and would not count as missing
    time.sleep(1.1)
    config = load_config(config_path)
    caller = Clients(session=boto3.Session())
    assert config.inventory is not None
    for name in dict.fromkeys(n for r in config.all_rules() for n in (r.source, r.destination)):
        bucket = config.buckets[name]
        owner = caller.for_account(config.account_of(bucket), "us-east-1")
        write_report(caller.get("s3", bucket.region), config.inventory.buckets[bucket.region],
                     name, rows_from_bucket(owner.get("s3", bucket.region), name))


def put_objects() -> None:
    """Objects for the audit and the backfill, under each rule's prefix."""
    s3 = Clients(session=boto3.Session()).get("s3", "us-east-1")
    for key in ("orders/1.json", "copy/1.json"):
        s3.put_object(Bucket="perm-rec-orders", Key=key, Body=b"{}")
    s3.put_object(Bucket="perm-rec-orders", Key="kept/1.json", Body=b"{}", Tagging="retain=7y")


def vault_version_before(config_path: Path) -> str:
    """An older version in the vault, written by its owner (moto does not replicate), and a
    moment after it: restore --from replica then copies it back into the source."""
    config = load_config(config_path)
    vault = config.account_of(config.buckets["perm-rec-vault"])
    backup = Clients(session=boto3.Session()).for_account(vault, "us-east-1")
    backup.get("s3", "us-west-2").put_object(Bucket="perm-rec-vault", Key="orders/1.json",
                                             Body=b'{"before": true}', Tagging="team=web")
    time.sleep(1.1)
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def denied(calls: list[Call], policies: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Each action of `calls` not granted to the account that sent it, once, in words."""
    found: dict[str, None] = {}
    for call in calls:
        for check in iam_actions(call):
            if not _allows(policies.get(call.account, []), call.account, check):
                where = "the caller's account" if call.account == CALLER else call.account
                found[f"{check.action} on {check.resource or 'its resource'} "
                      f"({call.service} {call.operation} in {call.region}, sent in {where})"
                      ] = None
    return list(found)


# (script, arguments, exit status): every command that calls AWS, in an order that gives each
# something to work on. plan after apply exits 3 (moto answers GetBucketReplication with fields
# of its own: drift that is not there), verify 3 (moto does not replicate: no canary arrives),
# audit 3 (the objects written before it are not replicated), a dry run 3 (something to do).
STEPS: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("crr", ("plan",), 3), ("crr", ("apply",), 0), ("srr", ("apply",), 0), ("crr", ("plan",), 3),
    ("crr", ("status",), 0), ("crr", ("verify", "--timeout", "1"), 3),
    ("crr", ("audit",), 3), ("srr", ("audit",), 3),
    ("crr", ("backfill", "--method", "copy"), 3),
    ("crr", ("backfill", "--method", "copy", "--yes"), 0),
    ("crr", ("backfill", "--method", "batch"), 3),
    ("crr", ("backfill", "--method", "batch", "--yes"), 0),
    ("crr", ("backfill", "--job", JOB_ID), 0),
    ("crr", ("audit", "--inventory"), 3),
    ("crr", ("audit", "--inventory", "--engine", "athena"), 0),
    ("crr", ("readiness", "--timeout", "1"), 3),
    ("crr", ("failover", "shop", "--to", "perm-rec-web-usw2", "--yes", "--force"), 0),
    ("crr", ("failback", "shop", "--yes", "--force"), 0),
    ("crr", ("restore", "--to", "NOW", "--rule", "vault", "--from", "replica", "--yes"), 0),
    ("crr", ("restore", "--to", "NOW", "--rule", "vault", "--inventory", "--yes"), 0),
    ("srr", ("destroy", "--yes"), 0), ("crr", ("destroy", "--yes"), 0),
)


# What the backup account's policy grants that these runs do not send there, and why.
NOT_SENT_THERE = {
    "s3:DeleteObjectVersion": "removing the canary's replica: moto does not replicate",
    "s3:DeleteBucketPolicy": "only when the grant is the last statement of the vault's policy",
    "s3:GetBucketAcl": "only on adopted buckets",
    "s3:PutBucketObjectLockConfiguration": "only with object_lock, which this config has none of "
                                           "(tests/test_object_lock*.py)",
    "s3:GetObjectRetention": "audit reads replicas' retention only in a bucket with "
                             "object_lock (tests/test_locked_vault_verify_e2e.py)",
    "s3:GetLifecycleConfiguration": "the canary's expiry, only on a bucket with object_lock",
    "s3:PutLifecycleConfiguration": "the canary's expiry, only on a bucket with object_lock",
    "s3:GetObjectVersion": "restore --from replica reads a replica's HeadObject only above "
                           "5 GB (a copy in parts); CopyObject reads it as the caller",
    "s3:GetObjectVersionTagging": "restore --from replica reads a replica's tags (for a rule's "
                                  "tag filter) only when the rule has one; the vault's has none",
    "kms:ListResourceTags": "only when the Region already has keys: looking for a key an "
                            "interrupted run made",
}


def test_every_call_is_granted_to_the_account_it_is_sent_in(world) -> None:
    config, recorder = world
    policies = {kind: printed(config, kind) for kind in ("crr", "srr")}
    assert set(policies["crr"]) == set(policies["srr"]) == {CALLER, BACKUP}
    problems, outcomes = [], []
    for kind, argv, _ in STEPS:
        if argv == ("audit",) and kind == "crr":
            put_objects()
        if argv == ("audit", "--inventory"):
            deliver_reports(config)
        sent = argv
        if argv[0] == "restore":
            sent = tuple(vault_version_before(config) if a == "NOW" else a for a in argv)
        before = len(recorder.calls)
        done = run(recorder, kind, config, *sent)
        outcomes.append((kind, argv, done.status, done.stderr.strip()))
        problems += [f"{kind} {' '.join(argv)}: {problem}"
                     for problem in denied(recorder.calls[before:], policies[kind])]
    assert [(k, a, s) for k, a, s, _ in outcomes] == list(STEPS), "\n".join(map(str, outcomes))
    sent_here = {c.operation for c in recorder.calls if c.account == CALLER}
    sent_there = {c.operation for c in recorder.calls if c.account == BACKUP}
    assert {"CreateMultiRegionAccessPoint", "SubmitMultiRegionAccessPointRoutes", "CreateJob",
            "GetMetricData", "StartQueryExecution", "CopyObject"} <= sent_here
    assert {"PutBucketInventoryConfiguration", "HeadObject", "ListObjectVersions",
            "PutKeyPolicy"} <= sent_there  # the other account was reached
    assert not problems, "\n".join(problems)
    # and the other way: what the backup account is granted is sent there
    granted = {a for d in policies["crr"][BACKUP] for s in d["Statement"]
               for a in _listed(s["Action"])}
    used = {check.action for call in recorder.calls if call.account == BACKUP
            for check in iam_actions(call)}
    assert granted - used == set(NOT_SENT_THERE)
