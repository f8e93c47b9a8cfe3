"""The accesses S3 makes with a replication role when it replicates one object, as AWS documents
them, and their evaluation against the role's policies as read back from the server, with
MiniStack's IAM policy evaluator (never by string matching here).

Each access cites the AWS page that documents it:
- read on the source, replicate into the destination:
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html
- SSE-KMS objects: kms:Decrypt on the source key, kms:Encrypt on the replica's key, with
  kms:ViaService and kms:EncryptionContext:aws:s3:arn:
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html
- S3 Bucket Keys: the encryption context is the bucket ARN, and kms:Decrypt on the replica's
  key: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html and
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html
  ("S3 Bucket Keys and replication")
- kms:ViaService is "s3.REGION.amazonaws.com" for requests S3 makes in REGION:
  https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html
- a destination in another account: the role's requests there must be allowed by its own
  (identity) policy and by the destination's bucket policy or key policy alike
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html);
  the bucket policy grants the replicate actions and the versioning reads
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html#setting-repl-config-crossacct),
  the owner override needs s3:ObjectOwnerOverrideToBucketOwner
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-change-owner.html), and
  the replica key's policy grants kms:Encrypt (and kms:Decrypt for Bucket Keys)
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ministack.core.iam_evaluator import (
    EvalContext,
    combine_resource_policy,
    evaluate,
    evaluate_resource_policy,
    parse_policy_document,
)

PERMISSIONS = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html"
KMS_OBJECTS = ("https://docs.aws.amazon.com/AmazonS3/latest/userguide/"
               "replication-config-for-kms-objects.html")
BUCKET_KEYS = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html"
BUCKET_KEYS_REPLICATION = KMS_OBJECTS + "#bk-replication"
VIA_SERVICE = ("https://docs.aws.amazon.com/kms/latest/developerguide/"
               "conditions-kms.html#conditions-kms-via-service")
CROSS_ACCOUNT = PERMISSIONS + "#setting-repl-config-crossacct"
CHANGE_OWNER = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-change-owner.html"
BOTH_POLICIES = ("https://docs.aws.amazon.com/IAM/latest/UserGuide/"
                 "reference_policies_evaluation-logic-cross-account.html")

VIA = "kms:viaservice"
CONTEXT = "kms:encryptioncontext:aws:s3:arn"


@dataclass(frozen=True)
class Side:
    """One bucket of a rule: its name, Region and KMS key ARN (None: SSE-S3)."""

    bucket: str
    region: str
    key: str | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:s3:::{self.bucket}"

    @property
    def via(self) -> str:
        return f"s3.{self.region}.amazonaws.com"


@dataclass(frozen=True)
class Access:
    """One request S3 makes as the role: action, resource, condition keys it sends (lower-
    cased, as the evaluator takes them), the Region, and the AWS page that documents it."""

    action: str
    resource: str
    region: str
    doc: str
    context: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        keys = f" {self.context}" if self.context else ""
        return f"{self.action} on {self.resource}{keys} ({self.doc})"


def replication_accesses(source: Side, destination: Side, object_key: str) -> list[Access]:
    """Every access S3 makes to replicate `object_key` from `source` to `destination`. With an
    SSE-KMS source (objects encrypted with its key, Bucket Keys on both sides, as the tool sets
    up), the KMS requests too; the replica's key is `destination.key`."""
    src, dst = source, destination
    accesses = [
        Access("s3:GetReplicationConfiguration", src.arn, src.region, PERMISSIONS),
        Access("s3:ListBucket", src.arn, src.region, PERMISSIONS),
        Access("s3:GetObjectVersionForReplication", f"{src.arn}/{object_key}", src.region,
               PERMISSIONS),
        Access("s3:GetObjectVersionAcl", f"{src.arn}/{object_key}", src.region, PERMISSIONS),
        Access("s3:GetObjectVersionTagging", f"{src.arn}/{object_key}", src.region, PERMISSIONS),
        Access("s3:ReplicateObject", f"{dst.arn}/{object_key}", dst.region, PERMISSIONS),
        Access("s3:ReplicateDelete", f"{dst.arn}/{object_key}", dst.region, PERMISSIONS),
        Access("s3:ReplicateTags", f"{dst.arn}/{object_key}", dst.region, PERMISSIONS),
    ]
    if src.key is None:
        return accesses
    assert dst.key, f"an SSE-KMS rule needs a replica key ({src.bucket} -> {dst.bucket})"
    source_context = {VIA: src.via, CONTEXT: src.arn}
    replica_context = {VIA: dst.via, CONTEXT: dst.arn}
    return accesses + [
        Access("kms:Decrypt", src.key, src.region, KMS_OBJECTS, source_context),
        Access("kms:Encrypt", dst.key, dst.region, KMS_OBJECTS, replica_context),
        Access("kms:Decrypt", dst.key, dst.region, BUCKET_KEYS_REPLICATION, replica_context),
    ]


def outside_accesses(source: Side, destination: Side, object_key: str) -> list[Access]:
    """Accesses the rule does not need: another bucket, another key, another bucket's
    encryption context, another Region's kms:ViaService. `-not-in-config` buckets and the
    all-zero key id belong to no rule."""
    src, dst = source, destination
    other = Side(f"{dst.bucket}-not-in-config", dst.region)
    accesses = [
        Access("s3:ReplicateObject", f"{other.arn}/{object_key}", dst.region, PERMISSIONS),
        Access("s3:GetObjectVersionForReplication",
               f"arn:aws:s3:::{src.bucket}-not-in-config/{object_key}", src.region, PERMISSIONS),
        Access("s3:PutObject", f"{dst.arn}/{object_key}", dst.region, PERMISSIONS),
    ]
    if src.key is None or dst.key is None:
        return accesses
    other_key = dst.key.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    replica_context = {VIA: dst.via, CONTEXT: dst.arn}
    far = "ap-southeast-2" if dst.region != "ap-southeast-2" else "eu-central-1"
    return accesses + [
        Access("kms:Encrypt", other_key, dst.region, KMS_OBJECTS, replica_context),
        Access("kms:Decrypt", other_key, dst.region, BUCKET_KEYS, replica_context),
        Access("kms:Encrypt", dst.key, dst.region, KMS_OBJECTS,
               {VIA: dst.via, CONTEXT: other.arn}),
        Access("kms:Decrypt", dst.key, dst.region, BUCKET_KEYS,
               {VIA: dst.via, CONTEXT: other.arn}),
        Access("kms:Encrypt", dst.key, dst.region, VIA_SERVICE,
               {VIA: f"s3.{far}.amazonaws.com", CONTEXT: dst.arn}),
        Access("kms:Decrypt", src.key, src.region, VIA_SERVICE,
               {VIA: f"s3.{far}.amazonaws.com", CONTEXT: src.arn}),
    ]


def role_policies(iam: Any, role_name: str) -> list[Any]:
    """The role's inline and attached policies as the server has them, parsed for the
    evaluator."""
    found = []
    for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
        found.append(parse_policy_document(_document(document)))
    for attached in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]:
        policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
        version = iam.get_policy_version(PolicyArn=attached["PolicyArn"],
                                         VersionId=policy["DefaultVersionId"])
        found.append(parse_policy_document(_document(version["PolicyVersion"]["Document"])))
    return found


def decision(role_arn: str, policies: list[Any], access: Access) -> str:
    """"Allow", "Deny" or "ImplicitDeny": the evaluator's verdict for the role making `access`."""
    account = role_arn.split(":")[4]
    context = EvalContext(principal_arn=role_arn, principal_type="AssumedRole",
                          principal_account=account, action=access.action,
                          resource_arn=access.resource, region=access.region,
                          secure_transport=True, service_context=dict(access.context))
    return evaluate(context, policies).decision


def _document(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def destination_accesses(destination: Side, object_key: str,
                         delete_markers: bool = True) -> list[Access]:
    """The requests S3 makes as the source's role in a destination of another account: those
    the destination's bucket policy must allow too (replicating, delete markers when the rule
    replicates them, the owner override, reading the bucket's versioning), and with a replica
    key, those its key policy must allow."""
    dst = destination
    target = f"{dst.arn}/{object_key}"
    actions = ("s3:ReplicateObject", "s3:ReplicateTags") + (
        ("s3:ReplicateDelete",) if delete_markers else ())
    accesses = [Access(action, target, dst.region, CROSS_ACCOUNT) for action in actions]
    accesses += [
        Access("s3:ObjectOwnerOverrideToBucketOwner", target, dst.region, CHANGE_OWNER),
        Access("s3:GetBucketVersioning", dst.arn, dst.region, CROSS_ACCOUNT),
    ]
    if dst.key is None:
        return accesses
    replica_context = {VIA: dst.via, CONTEXT: dst.arn}
    return accesses + [
        Access("kms:Encrypt", dst.key, dst.region, KMS_OBJECTS, replica_context),
        Access("kms:Decrypt", dst.key, dst.region, BUCKET_KEYS_REPLICATION, replica_context),
    ]


@dataclass(frozen=True)
class CrossAccountVerdict:
    """The evaluator's verdicts on one request into another account: by the principal's own
    policies, by the resource's policy, and both together as AWS combines them."""

    identity: str
    resource: str
    combined: str

    @property
    def allowed(self) -> bool:
        return self.combined == "Allow"


def session_arn(role_arn: str, session: str = "s3-replication") -> str:
    """The ARN S3's requests carry after it assumes `role_arn`."""
    account, name = role_arn.split(":")[4], role_arn.rsplit("/", 1)[-1]
    return f"arn:aws:sts::{account}:assumed-role/{name}/{session}"


def cross_account_verdict(role_arn: str, identity: list[Any], resource_policy: Any,
                          owner: str, access: Access) -> CrossAccountVerdict:
    """`access` by the role's session into account `owner`, whose resource carries
    `resource_policy` (a bucket policy, or a key policy, which must allow even in its own
    account)."""
    account = role_arn.split(":")[4]
    context = EvalContext(principal_arn=session_arn(role_arn), principal_type="AssumedRole",
                          principal_account=account, action=access.action,
                          resource_arn=access.resource, region=access.region,
                          secure_transport=True, service_context=dict(access.context))
    own = evaluate(context, identity)
    by_resource = evaluate_resource_policy(resource_policy, context).decision
    combined = combine_resource_policy(own, context, resource_policy, owner,
                                       required=access.action.startswith("kms:"))
    return CrossAccountVerdict(own.decision, by_resource, combined.decision)
