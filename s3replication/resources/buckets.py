"""Buckets and the settings that protect their data: created in their Region when missing (an
existing bucket of the account is adopted), versioning on, default encryption SSE-KMS with S3
Bucket Keys (or SSE-S3), all four public access blocks, BucketOwnerEnforced, a TLS-only policy
statement merged into any policy, and TAGS merged into existing tags.

Two facts of AWS shape this:
- BucketOwnerEnforced disables ACLs, and AWS refuses it (InvalidBucketAclWithObjectOwnership)
  while the bucket ACL grants anyone but the owner
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-error-responses.html).
  An adopted bucket whose ACL grants others keeps its object ownership: a note (not a change)
  names the grantees, in plan, apply and the log.
- Versioning may take up to 15 minutes to take effect after it is first enabled
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/manage-versioning-examples.html).
  Apply waits, within that bound, until GetBucketVersioning reads Enabled, and records when it
  enabled versioning in the bucket tag VERSIONING_TAG, so that `verify` can tell "still taking
  effect" from "broken" for 15 minutes afterwards.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..aws.calls import error_code, is_not_found
from ..aws.naming import TLS_STATEMENT_SID, bucket_arn
from ..config.model import BucketSpec
from ..engine.context import Context
from ..engine.items import Item
from ..errors import AwsError
from ..output.progress import Clock, wait_until
from . import ownership
from .iam_policy import normalize_document

log = logging.getLogger(__name__)
EXISTS = "exists"
OWNER_ENFORCED = "BucketOwnerEnforced"
VERSIONING_TAG = "s3replication:versioning-enabled"  # when this tool enabled versioning (UTC)
VERSIONING_SETTLE = timedelta(minutes=15)  # manage-versioning-examples.html: "up to 15 minutes"
MAX_BUCKET_TAGS = 50
WAIT = Clock()  # the versioning wait's clock; tests put a fake one here
ACL_GROUPS = "http://acs.amazonaws.com/groups/"
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


def utc_now() -> datetime:
    return datetime.now(UTC)


def versioning_enabled_at(tags: dict[str, str]) -> datetime | None:
    """When this tool last enabled versioning on the bucket (its VERSIONING_TAG), if known."""
    try:
        return datetime.strptime(tags[VERSIONING_TAG], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=UTC)
    except (KeyError, ValueError):
        return None


def _record_versioning_enabled(ctx: Context, bucket: BucketSpec) -> None:
    tags = read_tags(ctx, bucket)
    if VERSIONING_TAG not in tags and len(tags) >= MAX_BUCKET_TAGS:
        log.warning("bucket %s has %d tags: the time versioning was enabled is not recorded",
                    bucket.name, len(tags))
        return
    tags[VERSIONING_TAG] = utc_now().strftime("%Y-%m-%dT%H:%M:%SZ")
    write_tags(ctx, bucket, tags)


def wait_for_versioning(s3: Any, bucket: BucketSpec, resource: str) -> None:
    """Poll GetBucketVersioning until it reads Enabled, for at most 15 minutes."""
    limit = VERSIONING_SETTLE.total_seconds()
    waited = wait_until(
        f"{resource}: versioning enabled, waiting for it to take effect",
        lambda: s3.get_bucket_versioning(Bucket=bucket.name).get("Status") == "Enabled",
        limit, WAIT)
    if waited is None:
        raise AwsError(f"{resource}: versioning still does not read Enabled {limit:g} s after "
                       "it was enabled; run apply again later", "VersioningNotEnabled")
    if waited:
        log.info("%s: versioning took effect after %.0f s", resource, waited)


@dataclass(frozen=True)
class OwnershipSeen:
    """The bucket's object ownership, and who else its ACL grants (when ACLs are enabled)."""

    ownership: str | None
    acl_grantees: tuple[str, ...] = ()


def acl_grantees(acl: dict[str, Any]) -> tuple[str, ...]:
    """Everyone but the owner that the bucket ACL grants, with their permissions."""
    owner = acl.get("Owner", {}).get("ID")
    granted: dict[str, list[str]] = {}
    for grant in acl.get("Grants", []):
        grantee = grant.get("Grantee", {})
        if grantee.get("Type") == "CanonicalUser" and grantee.get("ID") == owner:
            continue
        granted.setdefault(_grantee_name(grantee), []).append(grant.get("Permission", "?"))
    return tuple(f"{name} ({', '.join(sorted(set(perms)))})"
                 for name, perms in sorted(granted.items()))


def _grantee_name(grantee: dict[str, Any]) -> str:
    if grantee.get("URI"):
        return "group " + grantee["URI"].removeprefix(ACL_GROUPS)
    if grantee.get("EmailAddress"):
        return f"user {grantee['EmailAddress']}"
    who = grantee.get("DisplayName") or grantee.get("ID", "?")
    return f"canonical user {who}"


def _ownership_note(resource: str, seen: OwnershipSeen) -> str:
    current = seen.ownership or "its default (no ownership controls)"
    return (f"{resource}: object ownership left at {current}, not set to {OWNER_ENFORCED}: "
            f"the bucket ACL grants {'; '.join(seen.acl_grantees)}. {OWNER_ENFORCED} would "
            "disable that ACL (AWS refuses it with InvalidBucketAclWithObjectOwnership). "
            "Move those grants to the bucket policy, reset the ACL to private, then run apply "
            "again "
            "(https://docs.aws.amazon.com/AmazonS3/latest/userguide/"
            "object-ownership-migrating-acls-prerequisites.html).")


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
    except Exception as exc:  # no s3:ListAllMyBuckets: fall back to HeadBucket
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
        _record_versioning_enabled(ctx, bucket)
        wait_for_versioning(s3, bucket, resource)

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

    def read_ownership() -> OwnershipSeen:
        controls = _read_optional(
            lambda: s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"],
            "OwnershipControlsNotFoundError",
        )
        current = controls["Rules"][0]["ObjectOwnership"] if controls else None
        if current == OWNER_ENFORCED:
            return OwnershipSeen(current)
        seen = OwnershipSeen(current, acl_grantees(s3.get_bucket_acl(Bucket=name)))
        if seen.acl_grantees:
            ctx.note(_ownership_note(resource, seen))
        return seen

    def write_ownership(_: Any) -> None:
        s3.put_bucket_ownership_controls(
            Bucket=name,
            OwnershipControls={"Rules": [{"ObjectOwnership": OWNER_ENFORCED}]})

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
        Item(resource, "object ownership", OWNER_ENFORCED, read_ownership, write_ownership,
             project=_project_ownership, desire=_desired_ownership),
        Item(resource, "TLS-only policy", normalize_document(tls_statement(bucket)),
             read_policy, write_policy, project=project_policy),
        Item(resource, "tags", wanted_tags, lambda: read_tags(ctx, bucket), write_bucket_tags,
             project=project_tags),
    ]


OWNED = "(rules recorded as this script's)"


def _project_ownership(seen: OwnershipSeen | None) -> str | None:
    return seen.ownership if seen else None


def _desired_ownership(seen: OwnershipSeen | None) -> str | None:
    """BucketOwnerEnforced, unless the bucket ACL grants others: then what is there (a note
    says why, so plan shows no change that apply could not make)."""
    if seen is not None and seen.acl_grantees:
        return seen.ownership
    return OWNER_ENFORCED


def lanes(ctx: Context) -> list[list[Item]]:
    buckets = ctx.touched_buckets()
    regions = owned_bucket_regions(ctx) if buckets else None
    return [bucket_lane(ctx, bucket, regions) for bucket in buckets]
