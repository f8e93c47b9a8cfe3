"""Buckets and the settings that protect their data: created in their Region when missing (an
existing bucket of the account is adopted), versioning on, default encryption SSE-KMS with S3
Bucket Keys (or SSE-S3), all four public access blocks, BucketOwnerEnforced, a TLS-only policy
statement merged into any policy, and TAGS merged into existing tags.

Each bucket's lane is the rows of `bucket_settings.BUCKET_SETTINGS`, in order. Two facts of
AWS shape them: BucketOwnerEnforced is refused while the bucket ACL grants others
(object_ownership.py), and versioning may take up to 15 minutes to take effect
(versioning.py).
"""

from __future__ import annotations

from typing import Any

from ..aws.calls import error_code
from ..config.model import BucketSpec
from ..engine.context import Context
from ..engine.items import Item
from ..engine.parallel import parallel_map
from ..engine.scope import Scope
from . import inventory
from .bucket_settings import BUCKET_SETTINGS
from .bucket_tags import read_tags as read_tags  # verify reads the tags through this module
from .bucket_target import BucketTarget
from .object_ownership import acl_grantees as acl_grantees
from .versioning import VERSIONING_SETTLE as VERSIONING_SETTLE
from .versioning import VERSIONING_TAG as VERSIONING_TAG
from .versioning import utc_now as utc_now
from .versioning import versioning_enabled_at as versioning_enabled_at


def owned_bucket_regions(ctx: Context, bucket: BucketSpec) -> dict[str, str] | None:
    """Every bucket of `bucket`'s account with its Region, in one paginated ListBuckets: one
    call instead of a HeadBucket per bucket. None when the caller may not list buckets (then
    each bucket is looked up on its own)."""
    s3 = ctx.clients_of(bucket).get("s3", ctx.global_region)
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
    """The bucket, then each of its settings: one item per row of BUCKET_SETTINGS."""
    target = BucketTarget(ctx, bucket, (owned_regions or {}).get(bucket.name))
    return [row.item(target.resource, target) for row in BUCKET_SETTINGS]


def lanes(ctx: Context, scope: Scope) -> list[list[Item]]:
    """One lane per bucket this script's rules touch."""
    one_per_account = {b.account: b for b in scope.touched}
    listed = dict(zip(one_per_account, parallel_map(
        lambda b: owned_bucket_regions(ctx, b), one_per_account.values()), strict=True))
    return ([bucket_lane(ctx, bucket, listed[bucket.account]) for bucket in scope.touched]
            + inventory.report_bucket_lanes(ctx, scope))
