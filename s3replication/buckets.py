"""Buckets and the settings that protect their data: created in their Region when missing (an
existing bucket of the account is adopted), versioning on, default encryption SSE-KMS with S3
Bucket Keys (or SSE-S3), all four public access blocks, BucketOwnerEnforced, a TLS-only policy
statement merged into any policy, and TAGS merged into existing tags."""

from __future__ import annotations

import json
from typing import Any

from . import ownership
from .awscall import error_code, is_not_found
from .config import BucketSpec
from .context import Context
from .engine import Item
from .errors import AwsError
from .iam_policy import normalize_document
from .naming import TLS_STATEMENT_SID, bucket_arn

EXISTS = "exists"
PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def tls_statement(bucket: BucketSpec) -> dict[str, Any]:
    arn = bucket_arn(bucket.name, bucket.region)
    return {
        "Sid": TLS_STATEMENT_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def wanted_encryption(key_arn: str | None) -> dict[str, Any]:
    if key_arn is None:
        return {"SSEAlgorithm": "AES256"}
    return {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn, "BucketKeyEnabled": True}


def _project_encryption(current: Any) -> Any:
    if not current:
        return None
    rule = current["Rules"][0]
    default = rule.get("ApplyServerSideEncryptionByDefault", {})
    seen = {"SSEAlgorithm": default.get("SSEAlgorithm")}
    if seen["SSEAlgorithm"] != "AES256":
        seen["KMSMasterKeyID"] = default.get("KMSMasterKeyID")
        seen["BucketKeyEnabled"] = bool(rule.get("BucketKeyEnabled", False))
    return seen


def read_tags(ctx: Context, bucket: BucketSpec) -> dict[str, str]:
    """The bucket's tags, read once per run and kept current by our own writes."""
    with ctx.lock:
        if bucket.name in ctx.bucket_tags:
            return dict(ctx.bucket_tags[bucket.name])
    try:
        tag_set = ctx.s3(bucket.region).get_bucket_tagging(Bucket=bucket.name)["TagSet"]
        tags = {t["Key"]: t["Value"] for t in tag_set}
    except Exception as exc:
        if not is_not_found(exc, "NoSuchTagSet", "NoSuchTagSetError", "NoSuchBucket"):
            raise
        tags = {}
    with ctx.lock:
        ctx.bucket_tags[bucket.name] = tags
    return dict(tags)


def write_tags(ctx: Context, bucket: BucketSpec, tags: dict[str, str]) -> None:
    s3 = ctx.s3(bucket.region)
    if tags:
        tag_set = [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
        s3.put_bucket_tagging(Bucket=bucket.name, Tagging={"TagSet": tag_set})
    else:
        s3.delete_bucket_tagging(Bucket=bucket.name)
    with ctx.lock:
        ctx.bucket_tags[bucket.name] = dict(tags)


def _read_optional(call: Any, *missing_codes: str) -> Any:
    try:
        return call()
    except Exception as exc:
        if is_not_found(exc, *missing_codes):
            return None
        raise


def _check_region(resource: str, actual: str, region: str) -> str:
    if actual != region:
        raise AwsError(f"{resource}: the bucket exists in {actual}, not {region}; fix its "
                       f"region in BUCKETS")
    return EXISTS


def owned_bucket_regions(ctx: Context) -> dict[str, str] | None:
    """Every bucket of the account with its Region, in one paginated ListBuckets: one call
    instead of a HeadBucket per bucket. None when the caller may not list buckets (then each
    bucket is looked up on its own)."""
    s3 = ctx.s3(ctx.global_region)
    regions: dict[str, str] = {}
    params: dict[str, Any] = {"MaxBuckets": 1000}
    try:
        while True:
            page = s3.list_buckets(**params)
            for found in page.get("Buckets", []):
                if found.get("BucketRegion"):
                    regions[found["Name"]] = found["BucketRegion"]
            if not page.get("ContinuationToken"):
                return regions
            params["ContinuationToken"] = page["ContinuationToken"]
    except Exception as exc:  # noqa: BLE001 - no s3:ListAllMyBuckets: fall back to HeadBucket
        if error_code(exc) not in ("AccessDenied", "403"):
            raise
        return None


def bucket_lane(ctx: Context, bucket: BucketSpec,
                owned_regions: dict[str, str] | None = None) -> list[Item]:
    s3 = ctx.s3(bucket.region)
    name, region = bucket.name, bucket.region
    resource = f"bucket {name} ({region})"
    own_rule_ids = [r.id for r in ctx.rules if r.source == name]

    def read_exists() -> Any:
        listed = (owned_regions or {}).get(name)
        if listed is not None:
            return _check_region(resource, listed, region)
        try:
            found = s3.head_bucket(Bucket=name)
        except Exception as exc:
            if error_code(exc) in ("403", "AccessDenied"):
                raise AwsError(f"{resource}: the name is taken by another AWS account, or the "
                               "caller may not read it (s3:ListBucket)", "AccessDenied") from exc
            if is_not_found(exc, "NoSuchBucket"):
                return None
            raise
        actual = found.get("BucketRegion") or found["ResponseMetadata"]["HTTPHeaders"].get(
            "x-amz-bucket-region", region)
        return _check_region(resource, actual, region)

    def create(_: Any) -> None:
        params: dict[str, Any] = {"Bucket": name}
        if region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            s3.create_bucket(**params)
        except Exception as exc:
            if error_code(exc) != "BucketAlreadyOwnedByYou":
                raise
        with ctx.lock:
            ctx.bucket_tags[name] = {}
            ctx.made_new.add(name)

    def read_versioning() -> Any:
        return s3.get_bucket_versioning(Bucket=name).get("Status")

    def enable_versioning(_: Any) -> None:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        with ctx.lock:
            ctx.made_new.add(name)

    wanted_sse = wanted_encryption(ctx.key_arn(bucket))

    def read_encryption() -> Any:
        return _read_optional(
            lambda: s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"],
            "ServerSideEncryptionConfigurationNotFoundError",
        )

    def write_encryption(_: Any) -> None:
        sse = wanted_encryption(ctx.key_arn(bucket))
        rule: dict[str, Any] = {"ApplyServerSideEncryptionByDefault": {
            k: v for k, v in sse.items() if k != "BucketKeyEnabled"}}
        if "BucketKeyEnabled" in sse:
            rule["BucketKeyEnabled"] = True
        s3.put_bucket_encryption(
            Bucket=name, ServerSideEncryptionConfiguration={"Rules": [rule]})

    def read_public_access_block() -> Any:
        return _read_optional(
            lambda: s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"],
            "NoSuchPublicAccessBlockConfiguration",
        )

    def write_public_access_block(_: Any) -> None:
        s3.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration=dict(PUBLIC_ACCESS_BLOCK))

    def read_ownership() -> Any:
        controls = _read_optional(
            lambda: s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"],
            "OwnershipControlsNotFoundError",
        )
        return controls["Rules"][0]["ObjectOwnership"] if controls else None

    def write_ownership(_: Any) -> None:
        s3.put_bucket_ownership_controls(
            Bucket=name,
            OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})

    def read_policy() -> Any:
        text = _read_optional(lambda: s3.get_bucket_policy(Bucket=name)["Policy"],
                              "NoSuchBucketPolicy")
        return json.loads(text) if text else None

    def project_policy(current: Any) -> Any:
        for statement in (current or {}).get("Statement", []):
            if statement.get("Sid") == TLS_STATEMENT_SID:
                return normalize_document(statement)
        return None

    def write_policy(current: Any) -> None:
        policy = current or {"Version": "2012-10-17", "Statement": []}
        others = [s for s in policy.get("Statement", []) if s.get("Sid") != TLS_STATEMENT_SID]
        policy = {**policy, "Statement": others + [tls_statement(bucket)]}
        s3.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))

    wanted_tags = dict(ctx.config.tags)
    if own_rule_ids:
        wanted_tags[OWNED] = sorted(own_rule_ids)

    def project_tags(current: Any) -> Any:
        current = current or {}
        seen: dict[str, Any] = {k: current.get(k) for k in ctx.config.tags}
        if OWNED in wanted_tags:
            seen[OWNED] = sorted(r for r in own_rule_ids if ownership.owns(ctx.kind, current, r))
        return seen

    def write_bucket_tags(current: Any) -> None:
        tags = {**(current or {}), **ctx.config.tags}
        if own_rule_ids:
            hashes = ownership.owned_hashes(ctx.kind, tags)
            tags = ownership.with_owned(
                ctx.kind, tags, hashes | {ownership.rule_hash(r) for r in own_rule_ids})
        write_tags(ctx, bucket, tags)

    return [
        Item(resource, "bucket", EXISTS, read_exists, create, gate=True),
        Item(resource, "versioning", "Enabled", read_versioning, enable_versioning),
        Item(resource, "encryption", wanted_sse, read_encryption, write_encryption,
             project=_project_encryption),
        Item(resource, "public access block", PUBLIC_ACCESS_BLOCK, read_public_access_block,
             write_public_access_block),
        Item(resource, "object ownership", "BucketOwnerEnforced", read_ownership,
             write_ownership),
        Item(resource, "TLS-only policy", normalize_document(tls_statement(bucket)),
             read_policy, write_policy, project=project_policy),
        Item(resource, "tags", wanted_tags, lambda: read_tags(ctx, bucket), write_bucket_tags,
             project=project_tags),
    ]


OWNED = "(rules recorded as this script's)"


def lanes(ctx: Context) -> list[list[Item]]:
    buckets = ctx.touched_buckets()
    regions = owned_bucket_regions(ctx) if buckets else None
    return [bucket_lane(ctx, bucket, regions) for bucket in buckets]
