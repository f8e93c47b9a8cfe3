"""Who production can act as, and what each may do to a vault in another account: the
principals production's credentials reach, with their identity policies READ BACK from the
server, and the verdict of MiniStack's IAM evaluator (`ministack.core.iam_evaluator`) on each
action that could loosen or destroy the vault, against the vault's bucket policy and key policy
read back from the vault account. Nothing here compares policy strings: the evaluator decides.

The principals:
- production's account itself: its root, and any principal an administrator of production could
  make there, holds every permission in its own account (an identity policy allowing `*`);
- each role and user of production as the server has them (the replication roles the tool made,
  the operator running the scripts), as the session ARN their requests carry, and each again
  with every identity permission (production's administrators could grant it);
- each role of the vault account whose trust policy admits one of those (read back with
  ListRoles; MiniStack's `evaluate_trust_policy`), and, in turn, any role those may assume:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_permissions-to-switch.html;
- IAM users of the vault account whose keys production holds (the sandbox's reader).

The rules, per AWS:
- a principal of another account is allowed only if its own identity policy AND the resource's
  policy allow (an explicit Deny in either wins):
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
- in the resource's own account, the identity policy or the bucket policy suffices
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html),
  but a KMS key's policy must allow (directly, or by delegating to IAM through the account's
  root): https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html
- the actions and the resources they are checked on (bucket, or object ARN):
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html and
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ministack.core.iam_evaluator import (
    EvalContext,
    combine_resource_policy,
    evaluate,
    evaluate_trust_policy,
    parse_policy_document,
)

from tests.replication_access import role_policies, session_arn

CROSS_ACCOUNT = ("https://docs.aws.amazon.com/IAM/latest/UserGuide/"
                 "reference_policies_evaluation-logic-cross-account.html")
# What would loosen or destroy the vault, on the bucket (False) or on its objects (True):
# deleting a version, changing or bypassing its retention; the bucket's policy, versioning,
# Object Lock configuration, lifecycle (expiring versions), the bucket itself
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html).
BUCKET_ACTIONS = {
    "s3:DeleteObjectVersion": True, "s3:PutObjectRetention": True,
    "s3:BypassGovernanceRetention": True, "s3:PutBucketPolicy": False,
    "s3:DeleteBucketPolicy": False, "s3:PutBucketVersioning": False,
    "s3:PutBucketObjectLockConfiguration": False, "s3:PutLifecycleConfiguration": False,
    "s3:DeleteBucket": False,
}
# What would make the replicas unreadable or the key another's: deleting or disabling the key,
# rewriting its policy, granting its use
# (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html).
KEY_ACTIONS = ("kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy",
               "kms:CreateGrant")
EVERYTHING = {"Version": "2012-10-17",
              "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@dataclass(frozen=True)
class Principal:
    """One identity production can act as: the ARN its requests carry, its account, its
    identity policies (parsed, as read back), and how production gets it."""

    arn: str
    kind: str  # EvalContext's principal_type: "Root", "User", "AssumedRole"
    account: str
    policies: tuple[Any, ...]
    how: str

    @property
    def name(self) -> str:
        """The role, user or root it is: `NAME` of a role session or user, else the ARN."""
        return self.arn.split("/")[1] if "/" in self.arn else self.arn

    def __str__(self) -> str:
        return f"{self.arn} ({self.how})"


def user_policies(iam: Any, name: str) -> list[Any]:
    """A user's inline and attached policies as the server has them, parsed."""
    found = [parse_policy_document(_document(iam.get_user_policy(
        UserName=name, PolicyName=p)["PolicyDocument"]))
        for p in iam.list_user_policies(UserName=name)["PolicyNames"]]
    for attached in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]:
        policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
        version = iam.get_policy_version(PolicyArn=attached["PolicyArn"],
                                         VersionId=policy["DefaultVersionId"])
        found.append(parse_policy_document(_document(version["PolicyVersion"]["Document"])))
    return found


def _document(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def account_principals(iam: Any, account: str, how: str) -> list[Principal]:
    """Every role (as its session) and user of the account `iam` reads, with its policies."""
    found = []
    for page in iam.get_paginator("list_roles").paginate():
        for role in page["Roles"]:
            found.append(Principal(session_arn(role["Arn"]), "AssumedRole", account,
                                   tuple(role_policies(iam, role["RoleName"])),
                                   f"{how}: role {role['RoleName']}"))
    for page in iam.get_paginator("list_users").paginate():
        for user in page["Users"]:
            found.append(Principal(user["Arn"], "User", account,
                                   tuple(user_policies(iam, user["UserName"])),
                                   f"{how}: user {user['UserName']}"))
    return found


def production(iam: Any, account: str) -> list[Principal]:
    """Production's root and each of its roles and users: as read back, and as production's
    administrators could widen them (every identity permission: whoever holds production's
    keys can rewrite its identity policies, and a role's trust policy, and then act as the
    role, which the vault's policies name), so the vault's own policies must refuse."""
    everything = (parse_policy_document(EVERYTHING),)
    root = Principal(f"arn:aws:iam::{account}:root", "Root", account, everything,
                     "production's root")
    found = account_principals(iam, account, "production")
    widened = [Principal(p.arn, p.kind, p.account, everything,
                         f"{p.how}, widened by production's administrators") for p in found]
    return [root, *found, *widened]


def reachable(start: list[Principal], iam: Any, account: str,
              held_users: tuple[str, ...] = ()) -> list[Principal]:
    """`start`, the users of the vault account (`iam`) named in `held_users` (production holds
    their keys), and every role of that account whose trust policy admits one of those,
    repeatedly, until no new role is admitted."""
    vault = account_principals(iam, account, "vault account")
    found = list(start) + [p for p in vault
                           if p.kind == "User" and p.arn.rsplit("/", 1)[-1] in held_users]
    trusts = {session_arn(r["Arn"]): r["AssumeRolePolicyDocument"]
              for page in iam.get_paginator("list_roles").paginate() for r in page["Roles"]}
    while True:
        admitted = [p for p in vault if p.kind == "AssumedRole" and p not in found
                    and any(evaluate_trust_policy(trusts[p.arn], q.arn) for q in found)]
        if not admitted:
            return found
        found += admitted


def verdict(principal: Principal, action: str, resource: str, region: str,
            resource_policy: Any, owner: str) -> str:
    """Allow, Deny or ImplicitDeny: the principal's identity policies and the resource's policy
    (in account `owner`) combined as AWS does (a key policy must allow even in its account)."""
    context = EvalContext(principal_arn=principal.arn, principal_type=principal.kind,
                          principal_account=principal.account, action=action,
                          resource_arn=resource, region=region, secure_transport=True)
    own = evaluate(context, list(principal.policies))
    return str(combine_resource_policy(own, context, resource_policy, owner,
                                       required=action.startswith("kms:")).decision)


def allowed(principals: list[Principal], bucket: str, region: str, bucket_policy: Any,
            key: str, key_policy: Any, owner: str) -> list[tuple[Principal, str, str]]:
    """Each (principal, action, resource) the evaluator allows among BUCKET_ACTIONS on the
    vault and KEY_ACTIONS on its key: the holes. Empty when the vault holds."""
    arn = f"arn:aws:s3:::{bucket}"
    checks = [(a, f"{arn}/orders/any-object.json" if on_objects else arn, bucket_policy)
              for a, on_objects in BUCKET_ACTIONS.items()]
    checks += [(a, key, key_policy) for a in KEY_ACTIONS]
    return [(p, action, resource) for p in principals for action, resource, policy in checks
            if verdict(p, action, resource, region, policy, owner) == "Allow"]
