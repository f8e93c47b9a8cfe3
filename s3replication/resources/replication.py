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

from ..aws.calls import error_code, explain, read_or_none, until_propagated
from ..aws.naming import inline_policy_name, script_name
from ..config.model import BucketSpec, RuleSpec
from ..engine.context import Context
from ..engine.items import Item
from ..engine.scope import Scope
from ..errors import ReplicationToolError
from . import ownership
from .bucket_tags import read_tags
from .replication_rules import assign_priorities, merge_rules, normalize_rule, s3_rule


def _document(bucket: BucketSpec) -> tuple[str, ...]:
    return ("replication", bucket.name)


def read_configuration(ctx: Context, bucket: BucketSpec) -> Any:
    # NoSuchBucket: only in a plan, for a bucket the plan creates
    answer = ctx.reread(_document(bucket), lambda: read_or_none(
        lambda: ctx.s3(bucket.region).get_bucket_replication(Bucket=bucket.name),
        "ReplicationConfigurationNotFoundError", "NoSuchBucket"))
    if answer is None:
        return None
    found = answer["ReplicationConfiguration"]
    with ctx.lock:
        ctx.rule_ids_seen.update(r["ID"] for r in found.get("Rules", []) if "ID" in r)
    return found


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
    return read_or_none(lambda: ctx.iam().get_role_policy(
        RoleName=role_name, PolicyName=inline_policy_name(kind)), "NoSuchEntity") is not None


def _foreign_under_other_role(ctx: Context, source: BucketSpec, current: Any) -> list[str]:
    """Rules neither script made, when the configuration's role is not the configured one."""
    present = (current or {}).get("Role")
    if not present or present == ctx.role_arn(source):
        return []
    return _rule_ids(ctx, source, current, None)


def under_foreign_role(ctx: Context, source: BucketSpec, current: Any) -> bool:
    """Whether `source`'s configuration (`current`, as read_configuration gave it) has a role
    other than the configured one, used by rules neither script made: the tool then leaves
    the bucket alone (see `role_conflict`)."""
    return bool(_foreign_under_other_role(ctx, source, current))


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


def desired_rules(ctx: Context, scope: Scope, source: BucketSpec,
                  current: Any) -> list[dict[str, Any]]:
    """This script's rules for `source` in S3's shape, priorities settled against `current`."""
    rules = scope.wanted_rules(source.name)
    existing = (current or {}).get("Rules", [])
    other_kind = [r for r in ctx.config.all_rules()
                  if r.source == source.name and r.kind != ctx.kind and r.priority is not None]
    priorities = assign_priorities(rules, existing, reserved=[
        r.priority for r in other_kind if r.priority is not None])
    source_kms = source.kms_key is not None
    return [
        s3_rule(r, priorities[r.id], ctx.bucket(r.destination).region, source_kms,
                ctx.key_arn(ctx.bucket(r.destination)), _other_account(ctx, r))
        for r in rules
    ]


def _other_account(ctx: Context, rule: RuleSpec) -> str | None:
    destination = ctx.bucket(rule.destination)
    return ctx.account_of(destination) if ctx.in_other_account(destination) else None


def _dropped_ids(ctx: Context, scope: Scope, source: BucketSpec, current: Any) -> set[str]:
    """Rules on the bucket that this script created and no longer wants."""
    tags = read_tags(ctx, source)
    wanted = {r.id for r in scope.wanted_rules(source.name)}
    config_ids = scope.removed_without_record()
    return {
        r["ID"] for r in (current or {}).get("Rules", [])
        if r.get("ID") not in wanted
        and (r.get("ID") in config_ids or ownership.owns(ctx.kind, tags, r.get("ID", "")))
    }


def _view(rules: list[dict[str, Any]], role: Any, with_role: bool) -> dict[str, Any]:
    """What plan compares: the rules by id, normalized, and the role when we set it."""
    seen: dict[str, Any] = {"Rules": {r["ID"]: normalize_rule(r) for r in rules}}
    if with_role:
        seen["Role"] = role
    return seen


def _note_delete_markers_into_lock(ctx: Context, scope: Scope, source: BucketSpec) -> None:
    """A rule into a locked bucket that replicates delete markers, as its config says: Object
    Lock does not protect them, so a delete in the source hides the replica too ("Managing
    delete markers with Object Lock",
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html)."""
    for rule in scope.wanted_rules(source.name):
        if rule.delete_markers and ctx.bucket(rule.destination).object_lock is not None:
            ctx.note(f"{rule.setting}: delete_markers is True into {rule.destination}, which "
                     "has Object Lock: Object Lock does not protect delete markers, so a "
                     "delete in the source hides the replica as well (the locked versions stay "
                     "under it); leave delete_markers out for the default, False")


def _desire(ctx: Context, scope: Scope, source: BucketSpec, current: Any) -> Any:
    _note_delete_markers_into_lock(ctx, scope, source)
    own = desired_rules(ctx, scope, source, current)
    if own and not ctx.writes:  # a plan says why apply would fail; apply fails with it
        conflict = role_conflict(ctx, source, current)
        if conflict:
            ctx.note(conflict)
    return _view(own, ctx.role_arn(source), bool(own))


def _project(ctx: Context, scope: Scope, source: BucketSpec, current: Any) -> Any:
    own_ids = {r.id for r in scope.wanted_rules(source.name)}
    relevant = own_ids | _dropped_ids(ctx, scope, source, current)
    rules = [r for r in (current or {}).get("Rules", []) if r.get("ID") in relevant]
    return _view(rules, (current or {}).get("Role"), bool(own_ids))


def _write(ctx: Context, scope: Scope, source: BucketSpec, current: Any) -> None:
    """Our rules merged into the configuration (every other rule kept as it is)."""
    s3, role_arn = ctx.s3(source.region), ctx.role_arn(source)
    own = desired_rules(ctx, scope, source, current)
    conflict = role_conflict(ctx, source, current) if own else None
    if conflict:
        raise RoleConflict(conflict)
    merged = merge_rules((current or {}).get("Rules", []), own,
                         _dropped_ids(ctx, scope, source, current))
    ctx.hold_for_unknown_keys(own, f"the replication rules of bucket {source.name}")
    ctx.written(_document(source))
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
        resource = f"bucket {source.name} ({source.region})"
        raise explain(exc, f"writing replication rules {ids} of {resource}") from exc


def replication_lane(ctx: Context, scope: Scope, source: BucketSpec) -> list[Item]:
    return [Item(f"bucket {source.name} ({source.region})", "replication rules", None,
                 lambda: read_configuration(ctx, source),
                 lambda current: _write(ctx, scope, source, current),
                 project=lambda current: _project(ctx, scope, source, current),
                 desire=lambda current: _desire(ctx, scope, source, current))]


def lanes(ctx: Context, scope: Scope) -> list[list[Item]]:
    """One lane per source bucket: its replication configuration."""
    return [replication_lane(ctx, scope, source) for source in scope.sources]
