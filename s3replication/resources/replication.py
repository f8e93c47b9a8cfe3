"""Each source bucket's replication configuration: read, merge this script's rules, write.

Rules this script owns are its config rules and those its ownership record names; every other
rule on the bucket (the other script's, hand-made ones) is kept exactly as it is.

A configuration has one `Role` for all its rules
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_ReplicationConfiguration.html), so the
role is never switched while a rule under the present role would lose its permissions: rules
neither script owns (hand-made ones) block the switch until `replication_role` names the
present role, and the other script's rules block it until that script's permissions are on the
new role. The bucket is then left as it is and the run fails for it, naming both roles.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ..aws.calls import error_code, explain, is_not_found, until_propagated
from ..aws.naming import inline_policy_name, script_name
from ..config.model import BucketSpec
from ..engine.context import DESTROY, PLAN, Context
from ..engine.items import Item
from ..engine.scope import own_rules_from
from ..errors import ReplicationToolError
from . import ownership
from .buckets import read_tags, write_tags
from .replication_rules import assign_priorities, merge_rules, normalize_rule, s3_rule


def read_configuration(ctx: Context, bucket: BucketSpec) -> Any:
    try:
        found = ctx.s3(bucket.region).get_bucket_replication(Bucket=bucket.name)[
            "ReplicationConfiguration"]
        with ctx.lock:
            ctx.rule_ids_seen.update(r["ID"] for r in found.get("Rules", []) if "ID" in r)
        return found
    except Exception as exc:
        # NoSuchBucket: only in a plan, for a bucket the plan creates
        if is_not_found(exc, "ReplicationConfigurationNotFoundError", "NoSuchBucket"):
            return None
        raise


class RoleConflict(ReplicationToolError):
    """Switching a configuration's role would leave rules under it without permissions."""


def _owner(ctx: Context, source: BucketSpec, rule_id: str) -> str | None:
    """"crr" or "srr" when that script owns the rule on `source` (its config names it, or its
    ownership record does); None for a rule neither made."""
    tags = read_tags(ctx, source)
    for rule in ctx.config.all_rules():
        if rule.source == source.name and rule.id == rule_id:
            return rule.kind
    for kind in ("crr", "srr"):
        if ownership.owns(kind, tags, rule_id):
            return kind
    return None


def owned_live_rules(ctx: Context, source: BucketSpec, current: Any) -> list[dict[str, Any]]:
    """The rules on `source` now (in `current`) that this script owns."""
    return [r for r in (current or {}).get("Rules", [])
            if _owner(ctx, source, str(r.get("ID", ""))) == ctx.kind]


def _rule_ids(ctx: Context, source: BucketSpec, current: Any, owner: str | None) -> list[str]:
    return [str(r.get("ID", "")) for r in (current or {}).get("Rules", [])
            if _owner(ctx, source, str(r.get("ID", ""))) == owner]


def _has_policy(ctx: Context, role_name: str, kind: str) -> bool:
    try:
        ctx.iam().get_role_policy(RoleName=role_name, PolicyName=inline_policy_name(kind))
    except Exception as exc:
        if is_not_found(exc, "NoSuchEntity"):
            return False
        raise
    return True


def _foreign_under_other_role(ctx: Context, source: BucketSpec, current: Any) -> list[str]:
    """Rules neither script made, when the configuration's role is not the configured one."""
    present = (current or {}).get("Role")
    if not present or present == ctx.role_arn(source):
        return []
    return _rule_ids(ctx, source, current, None)


def under_foreign_role(ctx: Context, source: BucketSpec) -> bool:
    """Whether `source`'s configuration has a role other than the configured one, used by
    rules neither script made: the tool then leaves the bucket alone (see `role_conflict`)."""
    return bool(_foreign_under_other_role(ctx, source, read_configuration(ctx, source)))


def role_conflict(ctx: Context, source: BucketSpec, current: Any) -> str | None:
    """Why the configuration's role may not become the configured one now, or None."""
    present, wanted = (current or {}).get("Role"), ctx.role_arn(source)
    if not present or present == wanted:
        return None
    head = f"bucket {source.name}: its replication configuration uses role {present}"
    foreign = _foreign_under_other_role(ctx, source, current)
    if foreign:
        name = str(present).rsplit("/", 1)[-1]
        return (f"{head} for rules this tool did not make ({', '.join(foreign)}); switching it "
                f"to {wanted} would leave them without permissions, so apply leaves this "
                f"configuration as it is. Set replication_role of {source.name} to \"{name}\" "
                "to share that role (the tool then only adds its own inline policy to it), or "
                "move those rules off the bucket")
    other = "srr" if ctx.kind == "crr" else "crr"
    others = _rule_ids(ctx, source, current, other)
    if others and not _has_policy(ctx, source.replication_role, other):
        return (f"{head} for {script_name(other)}.py's rules ({', '.join(others)}), and role "
                f"{wanted} has no permissions for them yet, so apply leaves this configuration "
                f"as it is. Run {script_name(other)}.py apply: it moves the configuration to the "
                "new role once both scripts' permissions are on it")
    return None


def _is_propagation_error(exc: BaseException) -> bool:
    """Errors AWS gives while a role or versioning change made moments ago propagates."""
    if not isinstance(exc, ClientError):
        return False
    message = str(exc).lower()
    code = error_code(exc)
    return (code == "InvalidRequest" and "versioning" in message) or (
        code in ("InvalidArgument", "InvalidRequest", "AccessDenied")
        and ("role" in message or "principal" in message))


def desired_rules(ctx: Context, source: BucketSpec, current: Any) -> list[dict[str, Any]]:
    """This script's rules for `source` in S3's shape, priorities settled against `current`."""
    rules = own_rules_from(ctx, source.name)
    existing = (current or {}).get("Rules", [])
    other_kind = [r for r in ctx.config.all_rules()
                  if r.source == source.name and r.kind != ctx.kind and r.priority is not None]
    priorities = assign_priorities(rules, existing, reserved=[r.priority for r in other_kind])
    source_kms = source.kms_key is not None
    return [
        s3_rule(r, priorities[r.id], ctx.bucket(r.destination).region, source_kms,
                ctx.key_arn(ctx.bucket(r.destination)))
        for r in rules
    ]


def _dropped_ids(ctx: Context, source: BucketSpec, current: Any) -> set[str]:
    """Rules on the bucket that this script created and no longer wants."""
    tags = read_tags(ctx, source)
    wanted = {r.id for r in own_rules_from(ctx, source.name)}
    config_ids = set()
    if ctx.mode == DESTROY:
        config_ids = {r.id for r in ctx.rules if r.source == source.name}
    return {
        r["ID"] for r in (current or {}).get("Rules", [])
        if r.get("ID") not in wanted
        and (r.get("ID") in config_ids or ownership.owns(ctx.kind, tags, r.get("ID", "")))
    }


def replication_lane(ctx: Context, source: BucketSpec) -> list[Item]:
    s3 = ctx.s3(source.region)
    role_arn = ctx.role_arn(source)
    resource = f"bucket {source.name} ({source.region})"

    def view(rules: list[dict[str, Any]], role: Any, with_role: bool) -> dict[str, Any]:
        seen: dict[str, Any] = {"Rules": {r["ID"]: normalize_rule(r) for r in rules}}
        if with_role:
            seen["Role"] = role
        return seen

    def desire(current: Any) -> Any:
        own = desired_rules(ctx, source, current)
        if own and ctx.mode == PLAN:
            conflict = role_conflict(ctx, source, current)
            if conflict:
                ctx.note(conflict)
        return view(own, role_arn, bool(own))

    def project(current: Any) -> Any:
        own_ids = {r.id for r in own_rules_from(ctx, source.name)}
        relevant = own_ids | _dropped_ids(ctx, source, current)
        rules = [r for r in (current or {}).get("Rules", []) if r.get("ID") in relevant]
        return view(rules, (current or {}).get("Role"), bool(own_ids))

    def write(current: Any) -> None:
        own = desired_rules(ctx, source, current)
        conflict = role_conflict(ctx, source, current) if own else None
        if conflict:
            raise RoleConflict(conflict)
        merged = merge_rules((current or {}).get("Rules", []), own,
                             _dropped_ids(ctx, source, current))
        if not merged:
            s3.delete_bucket_replication(Bucket=source.name)
            return
        # without rules of ours, the role stays the one the remaining rules were made for
        role = role_arn if own else (current or {}).get("Role", role_arn)
        configuration = {"Role": role, "Rules": merged}

        def put() -> Any:
            return s3.put_bucket_replication(Bucket=source.name,
                                             ReplicationConfiguration=configuration)

        try:
            if ctx.made_new:
                until_propagated(put, _is_propagation_error)
            else:
                put()
        except ClientError as exc:
            if error_code(exc) not in ("InvalidRequest", "InvalidArgument", "MalformedXML"):
                raise
            # S3 rejects the whole configuration without saying which rule: name them all
            ids = ", ".join(str(r.get("ID")) for r in merged)
            raise explain(exc, f"writing replication rules {ids} of {resource}") from exc

    return [Item(resource, "replication rules", None, lambda: read_configuration(ctx, source),
                 write, project=project, desire=desire)]


def ownership_lane(ctx: Context, source: BucketSpec) -> list[Item]:
    """After the rules are written: forget rules this script has removed."""
    keep = {ownership.rule_hash(r.id) for r in own_rules_from(ctx, source.name)}
    known = {r.id for r in ctx.config.all_rules()} | ctx.rule_ids_seen
    names = {ownership.rule_hash(rule_id): rule_id for rule_id in known}

    def project(tags: Any) -> Any:
        stale = ownership.owned_hashes(ctx.kind, tags or {}) - keep
        return sorted(names.get(h, f"#{h}") for h in stale)

    def write(tags: Any) -> None:
        write_tags(ctx, source, ownership.with_owned(
            ctx.kind, tags, ownership.owned_hashes(ctx.kind, tags) & keep))

    resource = f"bucket {source.name} ({source.region})"
    return [Item(resource, "stale ownership records", [], lambda: read_tags(ctx, source), write,
                 project=project)]
