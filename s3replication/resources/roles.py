"""The replication role of each source bucket (shared by both scripts, since S3 allows one role
per replication configuration) and each script's own inline policy on it.

A role the tool did not create (`replication_role` naming a role made by hand, e.g. the one a
bucket's hand-made rules already use) is shared, not taken over: the tool adds its own inline
policy and removes it on destroy, never tags the role, never deletes it, and leaves its trust
policy, other policies and tags alone. The one exception: a role that S3 may not assume at all
gets S3's trust statement appended (its statements kept), since no rule under it could
replicate otherwise.

Permissions change in two steps around the replication stage (see engine/stages.py): `lanes`
here widens them to cover the rules on the buckets now and the rules wanted; role_permissions.py
cuts them to the rules wanted once the rules are written. role_removal.py deletes a role on
destroy.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..aws.calls import error_code, is_not_found, policy_document, read_or_none
from ..aws.naming import MANAGED_TAG, inline_policy_name
from ..config.model import BucketSpec
from ..engine.context import PLAN, Context
from ..engine.items import Item
from ..engine.parallel import parallel_map
from ..engine.scope import Scope
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


def delete_quietly(call: Any) -> None:
    """A delete; NoSuchEntity means it is already gone (a retry whose first attempt deleted
    it, its answer lost)."""
    try:
        call()
    except Exception as exc:
        if not is_not_found(exc, "NoSuchEntity"):
            raise


def read_role(ctx: Context, name: str) -> Any:
    return read_or_none(lambda: ctx.iam().get_role(RoleName=name)["Role"], "NoSuchEntity")


def _live_endpoints(ctx: Context, source: BucketSpec, current: Any) -> list[Endpoint]:
    """The destinations of the rules this script owns on `source` now (its configuration
    `current`), as the rules say."""
    found = []
    for rule in owned_live_rules(ctx, source, current):
        destination = rule.get("Destination", {})
        name = str(destination.get("Bucket", "")).split(":::")[-1]
        key = destination.get("EncryptionConfiguration", {}).get("ReplicaKmsKeyID")
        spec = ctx.config.buckets.get(name)
        region = spec.region if spec else (key.split(":")[3] if key else source.region)
        found.append(Endpoint(name, region, key, bool(destination.get("Account")),
                              bool(spec and spec.object_lock)))
    return found


def policy_for(ctx: Context, scope: Scope, sources: list[BucketSpec],
               live: Mapping[str, Any] | None = None) -> Any:
    """This script's permissions for the sources that share one role, or None if none. With
    `live` (each source's configuration now, by bucket name), also for the rules it owns on
    those buckets now, which stay live until the replication stage has rewritten them."""
    statements: list[dict[str, Any]] = []
    for n, source in enumerate(sources):
        source_end = Endpoint(source.name, source.region, ctx.key_arn(source))
        dests = [ctx.bucket(r.destination) for r in scope.wanted_rules(source.name)]
        ends = [Endpoint(d.name, d.region, ctx.key_arn(d) if source_end.key_arn else None,
                         ctx.in_other_account(d), d.object_lock is not None) for d in dests]
        if live is not None:
            ends += [e if source_end.key_arn else Endpoint(e.bucket, e.region, None,
                                                           e.other_account, e.locked)
                     for e in _live_endpoints(ctx, source, live[source.name])]
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
        document = policy_document(current["AssumeRolePolicyDocument"])
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
                current = read_role(ctx, role_name)
        document = policy_document(current["AssumeRolePolicyDocument"]) if current else None
        if document is not None and not _trusts_s3(document):
            # A role S3 cannot assume replicates nothing: add S3's statement, keep the others.
            statements = document.get("Statement", [])
            statements = statements if isinstance(statements, list) else [statements]
            merged = {**document, "Statement": statements + trust_policy()["Statement"]}
            iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=json.dumps(merged))
        with ctx.lock:
            ctx.made_new.add(f"role:{role_name}")

    return Item(f"role {role_name}", "trust (s3.amazonaws.com)",
                normalize_document(trust_policy()), lambda: read_role(ctx, role_name),
                write_role, project=project_trust, gate=True, fresh=True)


def policy_item(ctx: Context, role_name: str, policy: Any, only_if_present: bool = False) -> Item:
    """This script's inline policy on the role made exactly `policy` (None: deleted); with
    `only_if_present`, left absent when it is absent."""
    iam = ctx.iam()
    policy_name = inline_policy_name(ctx.kind)

    document = ("role policy", role_name, policy_name)

    def read_policy() -> Any:
        found = ctx.reread(document, lambda: read_or_none(lambda: iam.get_role_policy(
            RoleName=role_name, PolicyName=policy_name), "NoSuchEntity"))
        return found and normalize_document(policy_document(found["PolicyDocument"]))

    def write_policy(_: Any) -> None:
        ctx.written(document)
        if policy is None:
            delete_quietly(
                lambda: iam.delete_role_policy(RoleName=role_name, PolicyName=policy_name))
            ctx.written(document, None)
            return
        ctx.hold_for_unknown_keys(policy, f"role {role_name}'s permissions")
        iam.put_role_policy(RoleName=role_name, PolicyName=policy_name,
                            PolicyDocument=json.dumps(policy))
        ctx.written(document, {"PolicyDocument": policy})
        with ctx.lock:
            ctx.made_new.add(f"role:{role_name}")

    wanted = normalize_document(policy) if policy is not None else None

    def desire(current: Any) -> Any:
        return None if only_if_present and current is None else wanted

    return Item(f"role {role_name}", f"permissions ({policy_name})", wanted, read_policy,
                write_policy, desire=desire)


def role_lane(ctx: Context, scope: Scope, role_name: str, sources: list[BucketSpec],
              live: Mapping[str, Any] | None = None) -> list[Item]:
    """Before the rules change: the role, and (apply only) this script's permissions widened
    to cover both the rules on the buckets now (`live`: each source's configuration, as
    read by `lanes`) and the rules wanted, so that no rule is ever live without its
    permissions. A plan shows only the end state, here (role_permissions.py lists none)."""
    items: list[Item] = []
    wanted = policy_for(ctx, scope, sources)
    if wanted is not None:
        items.append(_trust_item(ctx, role_name))
    if ctx.writes and live is not None:
        widened = policy_for(ctx, scope, sources, live)
        if widened is not None:
            # no rule wanted: the live ones are covered by the policy there, if any
            items.append(policy_item(ctx, role_name, widened, only_if_present=wanted is None))
    elif ctx.mode == PLAN:
        # the end state, where apply lists its first write of the permissions (on a new role,
        # its only one): so plan's changes are listed in the order apply makes them
        items.append(policy_item(ctx, role_name, wanted))
    return items


def by_role(sources: list[BucketSpec]) -> dict[str, list[BucketSpec]]:
    grouped: dict[str, list[BucketSpec]] = {}
    for source in sources:
        grouped.setdefault(source.replication_role, []).append(source)
    return grouped


def lanes(ctx: Context, scope: Scope) -> list[list[Item]]:
    """Before the replication stage: roles, and permissions widened (see `role_lane`). A bucket
    whose configuration another role holds for rules we did not make gets no role or
    permissions here: its replication stage stops, naming both roles."""
    sources = scope.sources
    live: dict[str, Any] | None = None
    if ctx.writes:  # each source's configuration read once, all at once (parallel_map)
        live = dict(zip([s.name for s in sources],
                        parallel_map(lambda s: read_configuration(ctx, s), sources), strict=True))
        sources = [s for s in sources if not under_foreign_role(ctx, s, live[s.name])]
    groups = list(by_role(sources).items())
    return parallel_map(lambda group: role_lane(ctx, scope, group[0], group[1], live), groups)
