"""On destroy: a replication role itself, when the tool made it (its tag) and nothing else
still uses it (no other inline or attached policy, no rule that is not this script's to
remove on a bucket that names it)."""

from __future__ import annotations

from typing import Any

from ..aws.calls import read_or_none
from ..aws.naming import MANAGED_TAG, inline_policy_name
from ..config.model import BucketSpec
from ..engine.context import Context
from ..engine.items import Item
from ..engine.scope import Scope
from . import ownership
from .roles import EXISTS, by_role, delete_quietly, read_role


def _keeps_rules(ctx: Context, scope: Scope, bucket: BucketSpec) -> bool:
    """Whether `bucket` keeps replication rules that are not this script's to remove."""
    s3 = ctx.s3(bucket.region)
    answer = read_or_none(lambda: s3.get_bucket_replication(Bucket=bucket.name),
                          "ReplicationConfigurationNotFoundError", "NoSuchBucket")
    if answer is None:
        return False
    rules = answer["ReplicationConfiguration"]["Rules"]
    tags = ctx.bucket_tags.get(bucket.name, {})
    ours = {r.id for r in scope.rules}
    return any(r.get("ID") not in ours and not ownership.owns(ctx.kind, tags, r.get("ID", ""))
               for r in rules)


def read_role_use(ctx: Context, scope: Scope, role_name: str) -> Any:
    """Whether the tool made the role, and what else uses it; None when it is gone."""
    iam = ctx.iam()
    role = read_role(ctx, role_name)
    if role is None:
        return None
    tags = role.get("Tags")
    if tags is None:
        tags = iam.list_role_tags(RoleName=role_name).get("Tags", [])
    inline = iam.list_role_policies(RoleName=role_name).get("PolicyNames", [])
    attached = iam.list_attached_role_policies(RoleName=role_name).get("AttachedPolicies", [])
    users = [b for b in ctx.config.buckets.values() if b.replication_role == role_name]
    return {
        "managed": {"Key": MANAGED_TAG, "Value": "true"} in tags,
        "other_policies": [p for p in inline if p != inline_policy_name(ctx.kind)],
        "attached": [p["PolicyArn"] for p in attached],
        "still_replicating": any(_keeps_rules(ctx, scope, b) for b in users),
    }


def keep_role(_: Context, current: Any) -> Any:
    if current is None:
        return None
    keep = (not current["managed"] or current["other_policies"] or current["attached"]
            or current["still_replicating"])
    return EXISTS if keep else None


def removal_lane(ctx: Context, scope: Scope, role_name: str) -> list[Item]:
    return [Item(f"role {role_name}", "role", None,
                 lambda: read_role_use(ctx, scope, role_name),
                 lambda _: delete_quietly(lambda: ctx.iam().delete_role(RoleName=role_name)),
                 project=lambda current: EXISTS if current else None,
                 desire=lambda current: keep_role(ctx, current))]


def lanes(ctx: Context, scope: Scope) -> list[list[Item]]:
    """One lane per role of the sources."""
    return [removal_lane(ctx, scope, role_name) for role_name in by_role(scope.sources)]
