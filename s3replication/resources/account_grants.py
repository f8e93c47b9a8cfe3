"""What a destination in another account grants the source's replication role: a statement in
the destination bucket's policy, and (SSE-KMS) one in the replica key's key policy. Across
accounts the role's own policy is not enough: the other account's resource policy must allow
the same actions (https://docs.aws.amazon.com/AmazonS3/latest/userguide/
setting-repl-config-perm-overview.html#setting-repl-config-crossacct, and
https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html).

The grants are guardrails too: production's roles get replication and the reads it needs,
nothing that could loosen or destroy the vault. On the bucket: s3:ReplicateObject,
s3:ReplicateTags, s3:ObjectOwnerOverrideToBucketOwner (every rule into another account gives it
the replicas), s3:ReplicateDelete only while a rule into the bucket replicates delete markers
(the action "replicate delete markers to the destination bucket",
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html), and
s3:GetBucketVersioning; never s3:PutBucketVersioning, which AWS's walkthrough lists but the role's
own policy never held (across accounts both must allow, so it never served replication; it only
let anyone who could widen that role suspend the vault's versioning). On the key: kms:Encrypt
and kms:Decrypt (S3 Bucket Keys) through S3 in the bucket's Region, for the bucket's encryption
context only, as the role's own policy has them
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html);
never a key-management action (https://docs.aws.amazon.com/kms/latest/developerguide/
key-policy-overview.html: the key policy is the primary way to control access to the key).
A statement of ours that grants more (an older version of the tool's, or one edited by hand)
shows in `plan` and is narrowed by `apply`.

Each script owns one statement per policy, named by its Sid, merged with every other statement
there; `destroy` removes only those. Like the role's own permissions (roles.py, then
role_permissions.py), they are widened before the rules change (the roles of the rules now and
of those wanted) and narrowed after (exactly those wanted), so no live rule is ever without
its grant. The grants name roles, and AWS refuses a policy whose principal does not exist yet,
so they come after the roles stage (engine/stages.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ..aws.calls import error_code, policy_document, read_or_none, until_propagated
from ..aws.naming import bucket_arn, s3_service_host
from ..config.model import BucketSpec
from ..engine.context import PLAN, Context
from ..engine.items import Item
from ..engine.scope import Scope
from .bucket_target import BucketTarget
from .iam_policy import REPLICA_KEY_ACTIONS, VERSION, normalize_document
from .kms_keys import KeyTarget

# What the destination bucket's owner allows the source's role (replication-walkthrough-2.html,
# less s3:PutBucketVersioning: see above)
OBJECT_ACTIONS = ["s3:ObjectOwnerOverrideToBucketOwner", "s3:ReplicateObject", "s3:ReplicateTags"]
DELETE_MARKERS_ACTION = "s3:ReplicateDelete"  # only while a rule replicates delete markers
BUCKET_ACTIONS = ["s3:GetBucketVersioning"]
# AWS refuses a policy naming a role it has not propagated yet ("Invalid principal").
NEW_PRINCIPAL_CODES = ("MalformedPolicy", "MalformedPolicyDocumentException")


def sid(ctx: Context, what: str) -> str:
    return f"S3Replication{ctx.kind.capitalize()}{what}"


def principals(ctx: Context, scope: Scope, destination: BucketSpec,
               only_kms: bool = False) -> list[str]:
    """Roles of this script's wanted rules into `destination` (with `only_kms`: from SSE-KMS
    sources, the ones that use the replica key)."""
    roles = {ctx.role_arn(ctx.bucket(r.source)) for r in scope.rules
             if r.destination == destination.name and r in scope.wanted_rules(r.source)
             and (ctx.bucket(r.source).kms_key or not only_kms)}
    return sorted(roles)


def replicates_delete_markers(ctx: Context, scope: Scope, destination: BucketSpec) -> bool:
    """Whether one of this script's wanted rules into `destination` replicates delete markers."""
    return any(r.delete_markers for r in scope.rules
               if r.destination == destination.name and r in scope.wanted_rules(r.source))


def bucket_statements(ctx: Context, bucket: BucketSpec, roles: list[str],
                      delete_markers: bool = True) -> list[dict[str, Any]]:
    arn = bucket_arn(bucket.name, bucket.region)
    who = {"AWS": roles}
    objects = sorted(OBJECT_ACTIONS + ([DELETE_MARKERS_ACTION] if delete_markers else []))
    return [
        {"Sid": sid(ctx, "ReplicateInto"), "Effect": "Allow", "Principal": who,
         "Action": objects, "Resource": f"{arn}/*"},
        {"Sid": sid(ctx, "ReplicaVersioning"), "Effect": "Allow", "Principal": who,
         "Action": BUCKET_ACTIONS, "Resource": arn},
    ]


def key_statements(ctx: Context, bucket: BucketSpec, roles: list[str]) -> list[dict[str, Any]]:
    """Encrypt and decrypt through S3 in the bucket's Region, for this bucket's objects only
    (with S3 Bucket Keys the context is the bucket ARN, else the object's)."""
    arn = bucket_arn(bucket.name, bucket.region)
    return [{"Sid": sid(ctx, "ReplicaKey"), "Effect": "Allow", "Principal": {"AWS": roles},
             "Action": list(REPLICA_KEY_ACTIONS), "Resource": "*",
             "Condition": {
                 "StringEquals": {"kms:ViaService": s3_service_host(bucket.region)},
                 "StringLike": {"kms:EncryptionContext:aws:s3:arn": [arn, f"{arn}/*"]}}}]


def grants_delete_markers(statements: list[dict[str, Any]]) -> bool:
    for statement in statements:
        actions = statement.get("Action", [])
        if DELETE_MARKERS_ACTION in ([actions] if isinstance(actions, str) else actions):
            return True
    return False


def granted_roles(statements: list[dict[str, Any]]) -> list[str]:
    found: set[str] = set()
    for statement in statements:
        who = statement.get("Principal", {}).get("AWS", [])
        found.update([who] if isinstance(who, str) else who)
    return sorted(found)


@dataclass(frozen=True)
class Grant:
    """Our statements in one resource policy of another account: a bucket's or a key's."""

    ctx: Context
    bucket: BucketSpec
    on_key: bool  # the bucket's KMS key policy, else the bucket policy
    delete_markers: bool = True  # a wanted rule into the bucket replicates delete markers

    @property
    def resource(self) -> str:
        if self.on_key:
            return KeyTarget(self.ctx, self.bucket.region, str(self.bucket.kms_key),
                             self.ctx.config.account_of(self.bucket)).resource
        return BucketTarget(self.ctx, self.bucket).resource

    @property
    def setting(self) -> str:
        return "replication grant (key policy)" if self.on_key else "replication grant (policy)"

    def statements(self, roles: list[str], delete_markers: bool | None = None
                   ) -> list[dict[str, Any]]:
        if not roles:
            return []
        if self.on_key:
            return key_statements(self.ctx, self.bucket, roles)
        deletes = self.delete_markers if delete_markers is None else delete_markers
        return bucket_statements(self.ctx, self.bucket, roles, deletes)

    def ours(self, policy: Any) -> list[dict[str, Any]]:
        prefix = sid(self.ctx, "")
        return [s for s in (policy or {}).get("Statement", [])
                if str(s.get("Sid", "")).startswith(prefix)]

    def read(self) -> Any:
        clients = self.ctx.clients_of(self.bucket)
        if self.on_key:
            kms = clients.get("kms", self.bucket.region)
            meta = read_or_none(lambda: kms.describe_key(KeyId=self.bucket.kms_key),
                                "NotFoundException")
            if meta is None:
                return None
            text = kms.get_key_policy(KeyId=meta["KeyMetadata"]["Arn"],
                                      PolicyName="default")["Policy"]
            return {"key": meta["KeyMetadata"]["Arn"], "policy": policy_document(text)}
        s3 = clients.get("s3", self.bucket.region)
        text = read_or_none(lambda: s3.get_bucket_policy(Bucket=self.bucket.name)["Policy"],
                            "NoSuchBucketPolicy", "NoSuchBucket")
        return {"policy": policy_document(text)}

    def write(self, current: Any, roles: list[str], delete_markers: bool | None = None) -> None:
        policy = (current or {}).get("policy") or {"Version": VERSION, "Statement": []}
        prefix = sid(self.ctx, "")
        others = [s for s in policy.get("Statement", [])
                  if not str(s.get("Sid", "")).startswith(prefix)]
        merged = {**policy, "Statement": others + self.statements(roles, delete_markers)}
        clients = self.ctx.clients_of(self.bucket)
        if self.on_key:
            kms = clients.get("kms", self.bucket.region)
            call = lambda: kms.put_key_policy(  # noqa: E731
                KeyId=current["key"], PolicyName="default", Policy=json.dumps(merged))
        else:
            s3 = clients.get("s3", self.bucket.region)
            call = (lambda: s3.put_bucket_policy(Bucket=self.bucket.name,  # noqa: E731
                                                 Policy=json.dumps(merged)) if merged["Statement"]
                    else s3.delete_bucket_policy(Bucket=self.bucket.name))
        until_propagated(call, _new_principal)

    def item(self, roles: list[str], widen: bool = False) -> Item:
        """`roles` granted; with `widen`, also those granted now (and s3:ReplicateDelete, if
        granted now: a live rule may still replicate delete markers)."""

        def wanted_roles(current: Any) -> list[str]:
            now = granted_roles(self.ours((current or {}).get("policy"))) if widen else []
            return sorted(set(roles) | set(now))

        def wanted_deletes(current: Any) -> bool:
            now = widen and grants_delete_markers(self.ours((current or {}).get("policy")))
            return self.delete_markers or now

        return Item(self.resource, self.setting, None, self.read,
                    lambda current: self.write(current, wanted_roles(current),
                                               wanted_deletes(current)),
                    project=lambda current: normalize_document(
                        self.ours((current or {}).get("policy"))) or None,
                    desire=lambda current: normalize_document(
                        self.statements(wanted_roles(current), wanted_deletes(current))) or None)


def _new_principal(exc: BaseException) -> bool:
    return isinstance(exc, ClientError) and error_code(exc) in NEW_PRINCIPAL_CODES


def grants(ctx: Context, scope: Scope, widen: bool) -> list[list[Item]]:
    """One lane per bucket of the config that lives in another account: its bucket-policy
    grant, then its key-policy grant (SSE-KMS)."""
    found: list[list[Item]] = []
    for bucket in ctx.config.buckets.values():
        if not ctx.in_other_account(bucket):
            continue
        deletes = replicates_delete_markers(ctx, scope, bucket)
        lane = [Grant(ctx, bucket, False, deletes).item(principals(ctx, scope, bucket), widen)]
        if bucket.kms_key:
            lane.append(Grant(ctx, bucket, True).item(
                principals(ctx, scope, bucket, only_kms=True), widen))
        found.append(lane)
    return found


def widened(ctx: Context, scope: Scope) -> list[list[Item]]:
    """Before the rules change. A plan shows here the end state (exactly the roles of the
    rules wanted), where apply first writes the grants: so plan's changes are listed in the
    order apply makes them (on a new grant, its only write)."""
    return grants(ctx, scope, widen=ctx.writes)


def narrowed(ctx: Context, scope: Scope) -> list[list[Item]]:
    """After the rules changed: exactly the roles of the rules wanted (a plan showed them
    before the rules: `widened`)."""
    return [] if ctx.mode == PLAN else grants(ctx, scope, widen=False)
