"""The replication role of each source bucket (shared by both scripts, since S3 allows one role
per replication configuration) and each script's own inline policy on it.

A role the tool did not create (`replication_role` naming a role made by hand, e.g. the one a
bucket's hand-made rules already use) is shared, not taken over: the tool adds its own inline
policy and removes it on destroy, never tags the role, never deletes it, and leaves its trust
policy, other policies and tags alone. The one exception: a role that S3 may not assume at all
gets S3's trust statement appended (its statements kept), since no rule under it could
replicate otherwise.

Permissions change in two steps around the replication stage (see engine/stages.py): `lanes` widens
them to cover the rules on the buckets now and the rules wanted, `narrow_lanes` cuts them to the
rules wanted once the rules are written.
"""

from __future__ import annotations

import json
from typing import Any

from ..aws.calls import error_code, is_not_found
from ..aws.naming import MANAGED_TAG, inline_policy_name
from ..config.model import BucketSpec
from ..engine.context import DESTROY, Context
from ..engine.items import Item
from ..engine.scope import own_rules_from
from . import ownership
from .iam_policy import Endpoint, normalize_document, permissions_policy, trust_policy
from .replication import owned_live_rules, read_configuration, under_foreign_role

EXISTS = "exists"


def _trusts_s3(document: Any) -> bool:
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    for s in statements if isinstance(statements, list) else [statements]:
        services = s.get("Principal", {}).get("Service", [])
        services = [services] if isinstance(services, str) else services
        actions = s.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if s.get("Effect") == "Allow" and "s3.amazonaws.com" in services and \
                "sts:AssumeRole" in actions:
            return True
    return False


def _document(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _delete(call: Any) -> None:
    """A delete; NoSuchEntity means it is already gone (a retry whose first attempt deleted
    it, its answer lost)."""
    try:
        call()
    except Exception as exc:
        if not is_not_found(exc, "NoSuchEntity"):
            raise


def _read_role(ctx: Context, name: str) -> Any:
    try:
        return ctx.iam().get_role(RoleName=name)["Role"]
    except Exception as exc:
        if is_not_found(exc, "NoSuchEntity"):
            return None
        raise


def _live_endpoints(ctx: Context, source: BucketSpec) -> list[Endpoint]:
    """The destinations of the rules this script owns on `source` now, as the rules say."""
    found = []
    for rule in owned_live_rules(ctx, source, read_configuration(ctx, source)):
        destination = rule.get("Destination", {})
        name = str(destination.get("Bucket", "")).split(":::")[-1]
        key = destination.get("EncryptionConfiguration", {}).get("ReplicaKmsKeyID")
        spec = ctx.config.buckets.get(name)
        region = spec.region if spec else (key.split(":")[3] if key else source.region)
        found.append(Endpoint(name, region, key))
    return found


def _policy_for(ctx: Context, sources: list[BucketSpec], widen: bool = False) -> Any:
    """This script's permissions for the sources that share one role, or None if none. With
    `widen`, also for the rules it owns on those buckets now, which stay live until the
    replication stage has rewritten them."""
    statements: list[dict[str, Any]] = []
    for n, source in enumerate(sources):
        source_end = Endpoint(source.name, source.region, ctx.key_arn(source))
        dests = [ctx.bucket(r.destination) for r in own_rules_from(ctx, source.name)]
        ends = [Endpoint(d.name, d.region, ctx.key_arn(d) if source_end.key_arn else None)
                for d in dests]
        if widen:
            ends += [e if source_end.key_arn else Endpoint(e.bucket, e.region, None)
                     for e in _live_endpoints(ctx, source)]
        if not ends:
            continue
        for statement in permissions_policy(source_end, ends)["Statement"]:
            statements.append({**statement, "Sid": f"{statement['Sid']}{n}"})
    return {"Version": "2012-10-17", "Statement": statements} if statements else None


def _trust_item(ctx: Context, role_name: str) -> Item:
    iam = ctx.iam()

    def project_trust(current: Any) -> Any:
        if current is None:
            return None
        document = _document(current["AssumeRolePolicyDocument"])
        return normalize_document(trust_policy() if _trusts_s3(document) else document)

    def write_role(current: Any) -> None:
        if current is None:
            tags = [{"Key": k, "Value": v} for k, v in ctx.config.tags.items()]
            try:
                iam.create_role(
                    RoleName=role_name,
                    AssumeRolePolicyDocument=json.dumps(trust_policy()),
                    Description="S3 replication role (managed by ecommerce-s3-replication)",
                    Tags=tags + [{"Key": MANAGED_TAG, "Value": "true"}],
                )
            except Exception as exc:
                if error_code(exc) != "EntityAlreadyExists":
                    raise
                # A retry whose first attempt made the role (its answer was lost), or a
                # role made meanwhile: check its trust like any existing role's.
                current = _read_role(ctx, role_name)
        document = _document(current["AssumeRolePolicyDocument"]) if current else None
        if document is not None and not _trusts_s3(document):
            # A role S3 cannot assume replicates nothing: add S3's statement, keep the others.
            statements = document.get("Statement", [])
            statements = statements if isinstance(statements, list) else [statements]
            merged = {**document, "Statement": statements + trust_policy()["Statement"]}
            iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=json.dumps(merged))
        with ctx.lock:
            ctx.made_new.add(f"role:{role_name}")

    return Item(f"role {role_name}", "trust (s3.amazonaws.com)",
                normalize_document(trust_policy()), lambda: _read_role(ctx, role_name),
                write_role, project=project_trust, gate=True)


def _policy_item(ctx: Context, role_name: str, policy: Any, only_if_present: bool = False) -> Item:
    """This script's inline policy on the role made exactly `policy` (None: deleted); with
    `only_if_present`, left absent when it is absent."""
    iam = ctx.iam()
    policy_name = inline_policy_name(ctx.kind)

    def read_policy() -> Any:
        try:
            found = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)
        except Exception as exc:
            if is_not_found(exc, "NoSuchEntity"):
                return None
            raise
        return normalize_document(_document(found["PolicyDocument"]))

    def write_policy(_: Any) -> None:
        if policy is None:
            _delete(lambda: iam.delete_role_policy(RoleName=role_name, PolicyName=policy_name))
            return
        iam.put_role_policy(RoleName=role_name, PolicyName=policy_name,
                            PolicyDocument=json.dumps(policy))
        with ctx.lock:
            ctx.made_new.add(f"role:{role_name}")

    wanted = normalize_document(policy) if policy is not None else None

    def desire(current: Any) -> Any:
        return None if only_if_present and current is None else wanted

    return Item(f"role {role_name}", f"permissions ({policy_name})", wanted, read_policy,
                write_policy, desire=desire)


def role_lane(ctx: Context, role_name: str, sources: list[BucketSpec]) -> list[Item]:
    """Before the rules change: the role, and (apply only) this script's permissions widened
    to cover both the rules on the buckets now and the rules wanted, so that no rule is ever
    live without its permissions. A plan shows only the end state (`narrow_lane`)."""
    items: list[Item] = []
    wanted = _policy_for(ctx, sources)
    if wanted is not None:
        items.append(_trust_item(ctx, role_name))
    if ctx.writes and ctx.mode != DESTROY:
        widened = _policy_for(ctx, sources, widen=True)
        if widened is not None:
            # no rule wanted: the live ones are covered by the policy there, if any
            items.append(_policy_item(ctx, role_name, widened, only_if_present=wanted is None))
    return items


def narrow_lane(ctx: Context, role_name: str, sources: list[BucketSpec]) -> list[Item]:
    """After the rules changed: this script's permissions, exactly those its rules need."""
    return [_policy_item(ctx, role_name, _policy_for(ctx, sources))]


def _by_role(sources: list[BucketSpec]) -> dict[str, list[BucketSpec]]:
    grouped: dict[str, list[BucketSpec]] = {}
    for source in sources:
        grouped.setdefault(source.replication_role, []).append(source)
    return grouped


def lanes(ctx: Context, sources: list[BucketSpec]) -> list[list[Item]]:
    """Before the replication stage: roles, and permissions widened (see `role_lane`). A bucket
    whose configuration another role holds for rules we did not make gets no role or
    permissions here: its replication stage stops, naming both roles."""
    if ctx.writes:
        sources = [s for s in sources if not under_foreign_role(ctx, s)]
    return [role_lane(ctx, name, group) for name, group in _by_role(sources).items()]


def narrow_lanes(ctx: Context, sources: list[BucketSpec]) -> list[list[Item]]:
    """After the replication stage: permissions exactly as the config wants them."""
    return [narrow_lane(ctx, name, group) for name, group in _by_role(sources).items()]


def removal_lanes(ctx: Context, sources: list[BucketSpec]) -> list[list[Item]]:
    """On destroy: the role itself, when the tool made it and nothing else still uses it."""
    if ctx.mode != DESTROY:
        return []
    iam = ctx.iam()
    result = []
    for role_name in _by_role(sources):
        users = [b for b in ctx.config.buckets.values() if b.replication_role == role_name]

        def read(role_name: str = role_name, users: list[BucketSpec] = users) -> Any:
            role = _read_role(ctx, role_name)
            if role is None:
                return None
            tags = role.get("Tags")
            if tags is None:
                tags = iam.list_role_tags(RoleName=role_name).get("Tags", [])
            inline = iam.list_role_policies(RoleName=role_name).get("PolicyNames", [])
            attached = iam.list_attached_role_policies(RoleName=role_name).get(
                "AttachedPolicies", [])
            return {
                "managed": {"Key": MANAGED_TAG, "Value": "true"} in tags,
                "other_policies": [p for p in inline if p != inline_policy_name(ctx.kind)],
                "attached": [p["PolicyArn"] for p in attached],
                "still_replicating": any(_keeps_rules(ctx, b) for b in users),
            }

        def desire(current: Any) -> Any:
            if current is None:
                return None
            keep = (not current["managed"] or current["other_policies"] or current["attached"]
                    or current["still_replicating"])
            return EXISTS if keep else None

        def delete(_: Any, role_name: str = role_name) -> None:
            _delete(lambda: iam.delete_role(RoleName=role_name))

        result.append([Item(f"role {role_name}", "role", None, read, delete,
                            project=lambda c: EXISTS if c else None, desire=desire)])
    return result


def _keeps_rules(ctx: Context, bucket: BucketSpec) -> bool:
    """Whether `bucket` keeps replication rules that are not this script's to remove."""
    s3 = ctx.s3(bucket.region)
    try:
        rules = s3.get_bucket_replication(Bucket=bucket.name)["ReplicationConfiguration"]["Rules"]
    except Exception as exc:
        if is_not_found(exc, "ReplicationConfigurationNotFoundError", "NoSuchBucket"):
            return False
        raise
    tags = ctx.bucket_tags.get(bucket.name, {})
    ours = {r.id for r in ctx.rules}
    return any(r.get("ID") not in ours and not ownership.owns(ctx.kind, tags, r.get("ID", ""))
               for r in rules)
