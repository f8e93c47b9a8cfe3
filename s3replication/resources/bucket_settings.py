"""The settings apply manages on every bucket, as a table: one `Setting` row per setting, in
the order they are handled (the bucket first, as the lane's gate; versioning before anything
replicates). Each row names its read call, the part we manage, the value we want, its write
call and their IAM actions (tests check those against commands/permissions.py's NEEDS).
The rows marked `apart` (encryption, SSE-C blocking, public access block, object ownership,
TLS-only policy: each its own document; the first two both write the bucket's encryption) are
read at the same time, then written one at a time, since S3 refuses overlapping configuration
writes on one bucket with OperationAborted
(https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).

Adding a setting: its read, wanted and write functions here, and one row in BUCKET_SETTINGS.
"""

from __future__ import annotations

import json
from typing import Any

from ..aws.calls import error_code, is_not_found, policy_document, read_or_none
from ..aws.naming import TLS_STATEMENT_SID, bucket_arn
from ..errors import AwsError
from . import canary_expiry as expiry
from . import object_lock as lock
from . import object_ownership as owner
from . import ownership
from .bucket_tags import read_tags, write_tags
from .bucket_target import BucketTarget
from .iam_policy import normalize_document
from .settings import Setting
from .versioning import enable_versioning

EXISTS = "exists"
OWNED = "(rules recorded as this script's)"
PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def _check_region(on: BucketTarget, actual: str) -> str:
    if actual != on.region:
        raise AwsError(f"{on.resource}: the bucket exists in {actual}, not {on.region}; fix its "
                       f"region in BUCKETS")
    return EXISTS


def read_exists(on: BucketTarget) -> Any:
    if on.listed_region is not None:
        return _check_region(on, on.listed_region)
    try:
        found = on.s3.head_bucket(Bucket=on.name)
    except Exception as exc:
        if error_code(exc) in ("403", "AccessDenied"):
            raise AwsError(f"{on.resource}: the name is taken by another AWS account, or the "
                           "caller may not read it (s3:ListBucket)", "AccessDenied") from exc
        if is_not_found(exc, "NoSuchBucket"):
            return None
        raise
    actual = found.get("BucketRegion") or found["ResponseMetadata"]["HTTPHeaders"].get(
        "x-amz-bucket-region", on.region)
    return _check_region(on, actual)


def create_bucket(on: BucketTarget, _: Any) -> None:
    params: dict[str, Any] = {"Bucket": on.name}
    if on.region != "us-east-1":
        params["CreateBucketConfiguration"] = {"LocationConstraint": on.region}
    if on.bucket.object_lock is not None:  # versioning comes with it (object_lock.py)
        params["ObjectLockEnabledForBucket"] = True
    try:
        on.s3.create_bucket(**params)
    except Exception as exc:
        if error_code(exc) != "BucketAlreadyOwnedByYou":
            raise
    with on.ctx.lock:
        on.ctx.bucket_tags[on.name] = {}
        on.ctx.made_new.add(on.name)


def wanted_encryption(key_arn: str | None) -> dict[str, Any]:
    if key_arn is None:
        return {"SSEAlgorithm": "AES256"}
    return {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn, "BucketKeyEnabled": True}


def read_encryption(on: BucketTarget) -> Any:
    return read_or_none(
        lambda: on.s3.get_bucket_encryption(Bucket=on.name)["ServerSideEncryptionConfiguration"],
        "ServerSideEncryptionConfigurationNotFoundError")


def project_encryption(_: BucketTarget, current: Any) -> Any:
    if not current:
        return None
    rule = current["Rules"][0]
    default = rule.get("ApplyServerSideEncryptionByDefault", {})
    seen = {"SSEAlgorithm": default.get("SSEAlgorithm")}
    if seen["SSEAlgorithm"] != "AES256":
        seen["KMSMasterKeyID"] = default.get("KMSMasterKeyID")
        seen["BucketKeyEnabled"] = bool(rule.get("BucketKeyEnabled", False))
    return seen


# SSE-C writes refused, on every bucket the tool manages. Someone holding write access and a
# key of their own can otherwise re-encrypt every object with SSE-C (a new current version S3
# can no longer read without that key): a ransomware path ("Preventing unintended encryption of
# Amazon S3 objects", https://aws.amazon.com/blogs/security/preventing-unintended-encryption-of-
# amazon-s3-objects/). Bucket encryption's BlockedEncryptionTypes refuses PutObject, CopyObject,
# PostObject, multipart uploads and replication requests that specify SSE-C with 403
# AccessDenied, for every principal; existing SSE-C objects stay readable
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/blocking-unblocking-s3-c-encryption-gpb.html,
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_BlockedEncryptionTypes.html).
BLOCKED_ENCRYPTION_TYPES = ["SSE-C"]


def write_encryption(on: BucketTarget, _: Any) -> None:
    """The whole configuration, as both rows that read it want it: default encryption, and
    SSE-C blocked. Each row writes all of it, so that either leaves the other's part as
    wanted; they are two rows so that `plan` names the guardrail, and two documents to the
    engine (read at once, written one at a time), so that apply on a bucket it just made
    writes each as the plan showed it."""
    sse = wanted_encryption(on.ctx.key_arn(on.bucket))
    rule: dict[str, Any] = {"ApplyServerSideEncryptionByDefault": {
        k: v for k, v in sse.items() if k != "BucketKeyEnabled"}}
    if "BucketKeyEnabled" in sse:
        rule["BucketKeyEnabled"] = True
    rule["BlockedEncryptionTypes"] = {"EncryptionType": list(BLOCKED_ENCRYPTION_TYPES)}
    on.s3.put_bucket_encryption(
        Bucket=on.name, ServerSideEncryptionConfiguration={"Rules": [rule]})


def project_blocked_types(_: BucketTarget, current: Any) -> Any:
    """The encryption types the bucket refuses ("NONE": none), None when it has no
    configuration or refuses none."""
    if not current:
        return None
    found = current["Rules"][0].get("BlockedEncryptionTypes", {}).get("EncryptionType", [])
    blocked = sorted(t for t in found if t != "NONE")
    return blocked or None


def read_public_access_block(on: BucketTarget) -> Any:
    return read_or_none(
        lambda: on.s3.get_public_access_block(Bucket=on.name)["PublicAccessBlockConfiguration"],
        "NoSuchPublicAccessBlockConfiguration")


def write_public_access_block(on: BucketTarget, _: Any) -> None:
    on.s3.put_public_access_block(
        Bucket=on.name, PublicAccessBlockConfiguration=dict(PUBLIC_ACCESS_BLOCK))


POLICY_DOCUMENT = "bucket policy"  # the TLS row's, and other statements' (Setting.document)


def tls_statement(bucket: Any) -> dict[str, Any]:
    arn = bucket_arn(bucket.name, bucket.region)
    return {
        "Sid": TLS_STATEMENT_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def read_policy(on: BucketTarget) -> Any:
    text = read_or_none(lambda: on.s3.get_bucket_policy(Bucket=on.name)["Policy"],
                        "NoSuchBucketPolicy")
    return policy_document(text)


def project_tls_statement(_: BucketTarget, current: Any) -> Any:
    for statement in (current or {}).get("Statement", []):
        if statement.get("Sid") == TLS_STATEMENT_SID:
            return normalize_document(statement)
    return None


def merge_tls_statement(on: BucketTarget, current: Any) -> None:
    """The policy as it is, with our TLS-only statement in place of any earlier copy."""
    policy = current or {"Version": "2012-10-17", "Statement": []}
    others = [s for s in policy.get("Statement", []) if s.get("Sid") != TLS_STATEMENT_SID]
    policy = {**policy, "Statement": others + [tls_statement(on.bucket)]}
    on.s3.put_bucket_policy(Bucket=on.name, Policy=json.dumps(policy))


def _own_rule_ids(on: BucketTarget) -> list[str]:
    return [r.id for r in on.ctx.rules if r.source == on.name]


def wanted_tags(on: BucketTarget) -> dict[str, Any]:
    """TAGS, and (on a source) that the script's rules here are recorded as its own."""
    wanted: dict[str, Any] = dict(on.ctx.config.tags)
    if _own_rule_ids(on):
        wanted[OWNED] = sorted(_own_rule_ids(on))
    return wanted


def project_tags(on: BucketTarget, current: Any) -> Any:
    current, own_ids = current or {}, _own_rule_ids(on)
    seen: dict[str, Any] = {k: current.get(k) for k in on.ctx.config.tags}
    if own_ids:
        seen[OWNED] = sorted(r for r in own_ids if ownership.owns(on.ctx.kind, current, r))
    return seen


def merge_tags(on: BucketTarget, _: Any) -> None:
    """Other tags kept, TAGS set, and the script's rules here added to its ownership record.
    The tags as this run knows them (read_tags: read once, then kept by our own writes), so
    that a tag an earlier row wrote is kept even on a bucket just made, which the lane does
    not read (Item.fresh): versioning's VERSIONING_TAG."""
    tags = {**read_tags(on.ctx, on.bucket), **on.ctx.config.tags}
    own_ids, kind = _own_rule_ids(on), on.ctx.kind
    if own_ids:
        hashes = ownership.owned_hashes(kind, tags)
        tags = ownership.with_owned(
            kind, tags, hashes | {ownership.rule_hash(r) for r in own_ids})
    write_tags(on.ctx, on.bucket, tags)


BUCKET_SETTINGS: tuple[Setting[BucketTarget], ...] = (
    Setting("bucket", ("s3:ListBucket", "s3:CreateBucket"),
            read_exists, lambda on: EXISTS, create_bucket, gate=True, fresh=True),
    Setting("versioning", ("s3:GetBucketVersioning", "s3:PutBucketVersioning"),
            lambda on: on.s3.get_bucket_versioning(Bucket=on.name).get("Status"),
            lambda on: "Enabled",
            lambda on, _: enable_versioning(on.ctx, on.bucket, on.resource)),
    # after versioning: S3 enables Object Lock only on a versioned bucket (object_lock.py)
    Setting("object lock", lock.ACTIONS, lock.read_lock, lock.as_wanted, lock.write_lock,
            project=lock.project_lock, desire=lock.desired_lock, remark=lock.remark_lock),
    # the locked canary's old versions removed once their retention ends (canary_expiry.py)
    Setting("canary expiry", expiry.ACTIONS, expiry.read_lifecycle, expiry.wanted_rules,
            expiry.write_rules, project=expiry.project_rules),
    Setting("encryption", ("s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration"),
            read_encryption, lambda on: wanted_encryption(on.ctx.key_arn(on.bucket)),
            write_encryption, project=project_encryption, apart=True),
    Setting("SSE-C blocked",
            ("s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration"),
            read_encryption, lambda on: list(BLOCKED_ENCRYPTION_TYPES), write_encryption,
            project=project_blocked_types, apart=True),
    Setting("public access block",
            ("s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock"),
            read_public_access_block, lambda on: PUBLIC_ACCESS_BLOCK, write_public_access_block,
            apart=True),
    Setting("object ownership",
            ("s3:GetBucketOwnershipControls", "s3:GetBucketAcl", "s3:PutBucketOwnershipControls"),
            owner.read_ownership, lambda on: owner.OWNER_ENFORCED, owner.write_ownership,
            project=owner.project_ownership, desire=owner.desired_ownership, apart=True),
    Setting("TLS-only policy", ("s3:GetBucketPolicy", "s3:PutBucketPolicy"),
            read_policy, lambda on: normalize_document(tls_statement(on.bucket)),
            merge_tls_statement, project=project_tls_statement, apart=True,
            document=POLICY_DOCUMENT),
    Setting("tags", ("s3:GetBucketTagging", "s3:PutBucketTagging"),
            lambda on: read_tags(on.ctx, on.bucket), wanted_tags, merge_tags,
            project=project_tags),
)
