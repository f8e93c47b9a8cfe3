"""The role an S3 Batch Replication job runs as: `<replication role>-batch`, trusted by
`batchoperations.s3.amazonaws.com`, with the permissions AWS lists for Batch Replication
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-batch-replication-policies.html; manifest
and report bucket being the reports location). Created or brought to spec like the replication
roles, as a lane of items.
"""

from __future__ import annotations

import json
from typing import Any

from ..aws.calls import policy_document, read_or_none
from ..aws.naming import MANAGED_TAG, bucket_arn, short_hash
from ..config.model import BucketSpec
from ..engine.context import Context
from ..engine.items import Item
from ..resources.iam_policy import normalize_document

BATCH_SERVICE = "batchoperations.s3.amazonaws.com"
POLICY_NAME = "s3-batch-replication"
REPORT_PREFIX = "s3-replication-batch-reports"


def role_name(source: BucketSpec) -> str:
    """`<replication role>-batch`, shortened with a digest to IAM's 64 characters."""
    name = f"{source.replication_role}-batch"
    if len(name) <= 64:
        return name
    return f"{name[:55]}-{short_hash(name, 8)}"


def trust_policy() -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": BATCH_SERVICE}, "Action": "sts:AssumeRole"}]}


def permissions_policy(source: BucketSpec, reports: str,
                       manifest_arn: str | None = None) -> dict[str, Any]:
    """The Batch Replication role's permissions
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-batch-replication-policies.html),
    with the generated manifest and the report under one prefix; with a manifest of the
    user's (`manifest_arn`), reading it instead of generating one."""
    source_arn = bucket_arn(source.name, source.region)
    reports_objects = f"{bucket_arn(reports, source.region)}/{REPORT_PREFIX}/*"
    initiate = {"Sid": "InitiateReplication", "Effect": "Allow",
                "Action": ["s3:InitiateReplication"], "Resource": [f"{source_arn}/*"]}
    write = {"Sid": "WriteManifestAndReport", "Effect": "Allow", "Action": ["s3:PutObject"],
             "Resource": [reports_objects]}
    if manifest_arn is not None:
        return {"Version": "2012-10-17", "Statement": [
            initiate,
            {"Sid": "ReadManifest", "Effect": "Allow",
             "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": [manifest_arn]},
            {**write, "Sid": "WriteReport"}]}
    return {"Version": "2012-10-17", "Statement": [
        initiate,
        {"Sid": "GenerateManifest", "Effect": "Allow",
         "Action": ["s3:GetReplicationConfiguration", "s3:PutInventoryConfiguration"],
         "Resource": [source_arn]},
        {"Sid": "ReadManifest", "Effect": "Allow",
         "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": [reports_objects]},
        write,
    ]}


def role_lane(ctx: Context, source: BucketSpec, reports: str,
              manifest_arn: str | None = None) -> list[Item]:
    """The batch role: trust for Batch Operations, then its B.4 inline policy."""
    iam = ctx.iam()
    name = role_name(source)
    wanted_trust = normalize_document(trust_policy())
    wanted_policy = permissions_policy(source, reports, manifest_arn)

    def read_role() -> Any:
        found = read_or_none(lambda: iam.get_role(RoleName=name), "NoSuchEntity")
        return found and found["Role"]

    def project_trust(role: Any) -> Any:
        if role is None:
            return None
        document = policy_document(role["AssumeRolePolicyDocument"])
        return wanted_trust if _trusts_batch(document) else normalize_document(document)

    def write_trust(role: Any) -> None:
        if role is None:
            tags = [{"Key": k, "Value": v} for k, v in ctx.config.tags.items()]
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust_policy()),
                            Description="S3 Batch Replication role (managed by s3replication)",
                            Tags=tags + [{"Key": MANAGED_TAG, "Value": "true"}])
        else:
            document = policy_document(role["AssumeRolePolicyDocument"])
            merged = {**document, "Statement": _listed(document.get("Statement"))
                      + trust_policy()["Statement"]}
            iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(merged))

    def read_policy() -> Any:
        found = read_or_none(lambda: iam.get_role_policy(
            RoleName=name, PolicyName=POLICY_NAME), "NoSuchEntity")
        return found and normalize_document(policy_document(found["PolicyDocument"]))

    def write_policy(_: Any) -> None:
        iam.put_role_policy(RoleName=name, PolicyName=POLICY_NAME,
                            PolicyDocument=json.dumps(wanted_policy))

    resource = f"role {name}"
    return [Item(resource, f"trust ({BATCH_SERVICE})", wanted_trust, read_role, write_trust,
                 project=project_trust, gate=True),
            Item(resource, f"permissions ({POLICY_NAME})", normalize_document(wanted_policy),
                 read_policy, write_policy)]




def _listed(value: Any) -> list[Any]:
    return [] if value is None else value if isinstance(value, list) else [value]


def _trusts_batch(document: Any) -> bool:
    return isinstance(document, dict) and any(
        s.get("Effect") == "Allow" and "sts:AssumeRole" in _listed(s.get("Action"))
        and BATCH_SERVICE in _listed(s.get("Principal", {}).get("Service"))
        for s in _listed(document.get("Statement")))


COPY_POLICY_NAME = "s3-batch-restore-copy"


def copy_policy(bucket: BucketSpec, reports: str, manifest_arn: str,
                kms_key_arn: str | None = None) -> dict[str, Any]:
    """The permissions of a Batch Operations copy job that copies listed versions of `bucket`
    over their keys in the same bucket (`restore --yes --inventory`): the Copy operation's
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-iam-role-policies.html,
    "Copy objects: PutObject"), with the version-specific reads a copy of a given version id
    needs (CopyObject with `versionId` reads the source by s3:GetObjectVersion:
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html), reading the manifest,
    writing the completion report, and the bucket's KMS key when it has one
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html)."""
    arn = bucket_arn(bucket.name, bucket.region)
    statements: list[dict[str, Any]] = [
        {"Sid": "CopyVersionsOverTheirKeys", "Effect": "Allow",
         "Action": ["s3:PutObject", "s3:PutObjectAcl", "s3:PutObjectTagging"],
         "Resource": [f"{arn}/*"]},
        {"Sid": "ReadTheVersionsToCopy", "Effect": "Allow",
         "Action": ["s3:GetObject", "s3:GetObjectAcl", "s3:GetObjectTagging",
                    "s3:GetObjectVersion", "s3:GetObjectVersionAcl",
                    "s3:GetObjectVersionTagging"],
         "Resource": [f"{arn}/*"]},
        {"Sid": "ListTheBucket", "Effect": "Allow", "Action": ["s3:ListBucket"],
         "Resource": [arn]},
        {"Sid": "ReadManifest", "Effect": "Allow",
         "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": [manifest_arn]},
        {"Sid": "WriteReport", "Effect": "Allow", "Action": ["s3:PutObject"],
         "Resource": [f"{bucket_arn(reports, bucket.region)}/{REPORT_PREFIX}/*"]},
    ]
    if kms_key_arn:
        statements.append({"Sid": "UseTheBucketKey", "Effect": "Allow",
                           "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                           "Resource": [kms_key_arn]})
    return {"Version": "2012-10-17", "Statement": statements}


def copy_role_lane(ctx: Context, bucket: BucketSpec, reports: str, manifest_arn: str,
                   kms_key_arn: str | None = None) -> list[Item]:
    """The batch role (`role_name`: the one backfill's jobs run as) trusted by Batch
    Operations, with the copy job's permissions as an inline policy of their own (the
    backfill's policy is left as it is)."""
    iam = ctx.iam()
    name = role_name(bucket)
    trust = role_lane(ctx, bucket, reports)[0]  # the same trust item as backfill's
    wanted = copy_policy(bucket, reports, manifest_arn, kms_key_arn)

    def read_policy() -> Any:
        found = read_or_none(lambda: iam.get_role_policy(
            RoleName=name, PolicyName=COPY_POLICY_NAME), "NoSuchEntity")
        return found and normalize_document(policy_document(found["PolicyDocument"]))

    def write_policy(_: Any) -> None:
        iam.put_role_policy(RoleName=name, PolicyName=COPY_POLICY_NAME,
                            PolicyDocument=json.dumps(wanted))

    return [trust, Item(f"role {name}", f"permissions ({COPY_POLICY_NAME})",
                        normalize_document(wanted), read_policy, write_policy)]
