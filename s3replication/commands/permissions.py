"""`permissions`: the IAM policies the caller needs to run every command of a script on a config.

One table, `NEEDS`, says which IAM action each command needs and on which kind of resource; the
policy documents (`policies`) and the README's list (`readme_list`) are both built from it, so
they cannot disagree. Resources are the config's own buckets, keys, roles, topics, alarms and
dashboard wherever the action supports resource-level permissions; `"*"` only for the actions
the Service Authorization Reference lists without a resource type
(https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).

KMS keys named by alias do not exist before the first `apply` creates them, and a created key's
id is random, so their statements name every key of the account in the bucket's Region
(`arn:aws:kms:REGION:ACCOUNT:key/*`); a key given by ARN is named by its ARN. The data-plane
actions (`kms:GenerateDataKey`, `kms:Decrypt`) are further limited to requests S3 makes
(`kms:ViaService`). Each document stays within AWS's managed-policy limit of 6,144 characters,
whitespace not counted (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html);
larger sets of permissions are split over several documents.

    python -m s3replication.commands.permissions --readme   # rewrites the README's list from NEEDS
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..aws.naming import bucket_arn, partition, role_arn, s3_service_host
from ..config.model import Config
from ..monitoring.alarms import PREFIX as ALARM_PREFIX
from ..resources.iam_policy import S3_SERVICE, VERSION
from .batch_job import BATCH_SERVICE
from .batch_job import role_name as batch_role_name

POLICY_LIMIT = 6144  # characters of a managed policy, whitespace not counted
SAR = "https://docs.aws.amazon.com/service-authorization/latest/reference"

# Commands (as the README names them).
APPLY, PLAN, DESTROY, STATUS = "apply", "plan", "destroy", "status"
VERIFY, AUDIT, COPY, BATCH = "verify", "audit", "backfill --method copy", "backfill --method batch"
PERMISSIONS = "permissions"
COMMANDS = (APPLY, PLAN, DESTROY, STATUS, VERIFY, AUDIT, COPY, BATCH, PERMISSIONS)
# Every command first asks STS for the account id; GetCallerIdentity needs no permission
# (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html), so it is
# in no policy.
CHANGES = (APPLY, PLAN, DESTROY)
SETUP = (APPLY, PLAN)
WRITES = (APPLY, DESTROY)

# Resource kinds: what a statement names (see `resources`).
ANY = "*"
BUCKET = "the config's buckets"
OBJECTS = "the objects of the config's buckets"
KEY = "the config's KMS keys"
ALIAS = "the config's KMS aliases"
ROLE = "the replication roles"
BATCH_ROLE = "the batch replication roles"
TOPIC = "the alert topic, in each Region"
ALARM = "the tool's alarms (s3-replication:*), in each Region"
DASHBOARD = "the dashboard"
JOB = "Batch Operations jobs, in each source Region"

# Conditions (see `conditions`).
PASSED_TO_S3 = "passed to S3"
PASSED_TO_BATCH = "passed to S3 Batch Operations"
VIA_S3 = "through S3"


@dataclass(frozen=True)
class Need:
    action: str
    resource: str  # one of the resource kinds above
    commands: tuple[str, ...]
    why: str = ""  # when it is not plain from the action's name: what calls it, and the AWS page
    condition: str | None = None
    optional: bool = False  # the command works without it (a slower fallback)


N = Need
NEEDS: tuple[Need, ...] = (
    # KMS keys (apply/plan)
    N("kms:ListAliases", ANY, SETUP),
    N("kms:DescribeKey", KEY, SETUP, "the key's state"),
    N("kms:GetKeyRotationStatus", KEY, SETUP),
    N("kms:EnableKeyRotation", KEY, (APPLY,)),
    N("kms:CreateKey", ANY, (APPLY,)),
    N("kms:TagResource", KEY, (APPLY,), "CreateKey with tags "
      "(https://docs.aws.amazon.com/kms/latest/developerguide/manage-tags-api.html)"),
    N("kms:ListKeys", ANY, (APPLY,), "finding a key an interrupted run created"),
    N("kms:ListResourceTags", KEY, (APPLY,), "finding a key an interrupted run created"),
    N("kms:CreateAlias", ALIAS, (APPLY,), "on the alias and on its key "
      "(https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html)"),
    N("kms:CreateAlias", KEY, (APPLY,)),
    # Buckets (apply/plan)
    N("s3:ListAllMyBuckets", ANY, SETUP, "every bucket's Region in one call; without it, one "
      "HeadBucket per bucket", optional=True),
    N("s3:ListBucket", BUCKET, SETUP, "HeadBucket: a bucket's existence and Region"),
    N("s3:CreateBucket", BUCKET, (APPLY,)),
    N("s3:GetBucketVersioning", BUCKET, SETUP),
    N("s3:PutBucketVersioning", BUCKET, (APPLY,)),
    N("s3:GetEncryptionConfiguration", BUCKET, SETUP),
    N("s3:PutEncryptionConfiguration", BUCKET, (APPLY,)),
    N("s3:GetBucketPublicAccessBlock", BUCKET, SETUP),
    N("s3:PutBucketPublicAccessBlock", BUCKET, (APPLY,)),
    N("s3:GetBucketOwnershipControls", BUCKET, SETUP),
    N("s3:PutBucketOwnershipControls", BUCKET, (APPLY,)),
    N("s3:GetBucketAcl", BUCKET, SETUP, "an adopted bucket's ACL grantees"),
    N("s3:GetBucketPolicy", BUCKET, SETUP),
    N("s3:PutBucketPolicy", BUCKET, (APPLY,)),
    N("s3:GetBucketTagging", BUCKET, (*CHANGES, VERIFY), "tags and the record of the rules a "
      "script owns; verify: when versioning was enabled, for a canary that did not replicate"),
    N("s3:PutBucketTagging", BUCKET, WRITES, "PutBucketTagging and DeleteBucketTagging"),
    # Replication roles
    N("iam:GetRole", ROLE, CHANGES),
    N("iam:CreateRole", ROLE, (APPLY,)),
    N("iam:TagRole", ROLE, (APPLY,), "CreateRole with tags "
      "(https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags_roles.html)"),
    N("iam:UpdateAssumeRolePolicy", ROLE, (APPLY,), "an existing role made to trust S3"),
    N("iam:GetRolePolicy", ROLE, CHANGES),
    N("iam:PutRolePolicy", ROLE, (APPLY,)),
    N("iam:DeleteRolePolicy", ROLE, WRITES),
    N("iam:ListRoleTags", ROLE, (DESTROY,), "only when GetRole does not return the tags"),
    N("iam:ListRolePolicies", ROLE, (DESTROY,)),
    N("iam:ListAttachedRolePolicies", ROLE, (DESTROY,)),
    N("iam:DeleteRole", ROLE, (DESTROY,)),
    # Replication rules
    N("s3:GetReplicationConfiguration", BUCKET, (*CHANGES, VERIFY)),
    N("s3:PutReplicationConfiguration", BUCKET, WRITES,
      "PutBucketReplication and DeleteBucketReplication"),
    N("iam:PassRole", ROLE, WRITES, "the replication configuration names the role "
      "(https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html)",
      condition=PASSED_TO_S3),
    # Monitoring
    N("sns:GetTopicAttributes", TOPIC, CHANGES),
    N("sns:ListTagsForResource", TOPIC, CHANGES),
    N("sns:ListSubscriptionsByTopic", TOPIC, CHANGES),
    N("sns:CreateTopic", TOPIC, (APPLY,)),
    N("sns:TagResource", TOPIC, (APPLY,), "CreateTopic with tags, and the record of subscribed "
      "addresses (https://docs.aws.amazon.com/sns/latest/dg/sns-tags-configuring.html)"),
    N("sns:UntagResource", TOPIC, WRITES),
    N("sns:SetTopicAttributes", TOPIC, WRITES, "the statement letting S3 publish"),
    N("sns:Subscribe", TOPIC, (APPLY,)),
    N("sns:Unsubscribe", TOPIC, WRITES),
    N("sns:DeleteTopic", TOPIC, WRITES),
    N("s3:GetBucketNotification", BUCKET, CHANGES),
    N("s3:PutBucketNotification", BUCKET, WRITES),
    N("cloudwatch:DescribeAlarms", ALARM, (*CHANGES, STATUS)),
    N("cloudwatch:PutMetricAlarm", ALARM, (APPLY,)),
    N("cloudwatch:TagResource", ALARM, (APPLY,), "PutMetricAlarm with tags "
      "(https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html)"),
    N("cloudwatch:DeleteAlarms", ALARM, WRITES),
    N("cloudwatch:GetDashboard", DASHBOARD, CHANGES),
    N("cloudwatch:PutDashboard", DASHBOARD, WRITES),
    N("cloudwatch:DeleteDashboards", DASHBOARD, WRITES),
    N("cloudwatch:GetMetricData", ANY, (STATUS,)),
    # verify, audit, backfill: objects
    N("s3:ListBucketVersions", BUCKET, (VERIFY, AUDIT, COPY)),
    N("s3:PutObject", OBJECTS, (VERIFY, COPY), "the canary; CopyObject and multipart copies"),
    N("s3:PutObjectTagging", OBJECTS, (VERIFY, COPY), "a PUT or copy with tags "
      "(https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html)"),
    N("s3:GetObject", OBJECTS, (VERIFY,), "HeadObject of the canary's replica"),
    N("s3:GetObjectVersion", OBJECTS, (VERIFY, AUDIT, COPY), "HeadObject and copies of a "
      "version (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html)"),
    N("s3:GetObjectVersionTagging", OBJECTS, (AUDIT, COPY), "tags of a version: tag-filtered "
      "rules, copies keeping their tags"),
    N("s3:DeleteObjectVersion", OBJECTS, (VERIFY,), "removing every canary version"),
    N("s3:AbortMultipartUpload", OBJECTS, (COPY,), "a failed copy of an object over 5 GB"),
    N("kms:GenerateDataKey", KEY, (VERIFY, COPY), "writing into an SSE-KMS bucket "
      "(https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html)",
      condition=VIA_S3),
    N("kms:Decrypt", KEY, (COPY,), "copying an SSE-KMS object", condition=VIA_S3),
    # backfill --method batch
    N("iam:GetRole", BATCH_ROLE, (BATCH,)),
    N("iam:CreateRole", BATCH_ROLE, (BATCH,)),
    N("iam:TagRole", BATCH_ROLE, (BATCH,), "CreateRole with tags"),
    N("iam:UpdateAssumeRolePolicy", BATCH_ROLE, (BATCH,)),
    N("iam:GetRolePolicy", BATCH_ROLE, (BATCH,)),
    N("iam:PutRolePolicy", BATCH_ROLE, (BATCH,)),
    N("iam:PassRole", BATCH_ROLE, (BATCH,), "the job runs as the batch role "
      "(https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-iam-role-policies.html)",
      condition=PASSED_TO_BATCH),
    N("s3:CreateJob", ANY, (BATCH,)),
    N("s3:PutJobTagging", JOB, (BATCH,), "CreateJob with tags "
      "(https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-job-tags.html)"),
    N("s3:DescribeJob", JOB, (BATCH,), "backfill --job ID"),
)

# Statement ids, in the order statements are written.
SIDS = {ANY: "AnyResource", BUCKET: "Buckets", OBJECTS: "Objects", KEY: "KmsKeys",
        ALIAS: "KmsAliases", ROLE: "ReplicationRoles", BATCH_ROLE: "BatchRoles",
        TOPIC: "AlertTopics", ALARM: "Alarms", DASHBOARD: "Dashboard", JOB: "BatchJobs"}
CONDITION_SIDS = {PASSED_TO_S3: "PassToS3", PASSED_TO_BATCH: "PassToBatch", VIA_S3: "ViaS3"}


def resources(kind: str, config: Config, account: str) -> list[str]:
    """The ARNs a statement for `kind` names, for `config` in `account`."""
    buckets = list(config.buckets.values())
    sources = [b for b in buckets if b.name in {r.source for r in config.all_rules()}]
    regions = sorted({b.region for b in buckets})
    p = partition(config.region_of_partition)
    found: list[str] = []
    if kind == ANY:
        found = ["*"]
    elif kind in (BUCKET, OBJECTS):
        suffix = "/*" if kind == OBJECTS else ""
        found = [bucket_arn(b.name, b.region) + suffix for b in buckets]
    elif kind == KEY:
        found = [b.kms_key if b.kms_key.startswith("arn:")
                 else f"arn:{p}:kms:{b.region}:{account}:key/*" for b in buckets if b.kms_key]
    elif kind == ALIAS:
        found = [f"arn:{p}:kms:{b.region}:{account}:{b.kms_key}" for b in buckets
                 if b.kms_key and b.kms_key.startswith("alias/")]
    elif kind == ROLE:
        found = [role_arn(account, b.replication_role, b.region) for b in buckets]
    elif kind == BATCH_ROLE:
        found = [role_arn(account, batch_role_name(b), b.region) for b in sources]
    elif kind == TOPIC:
        found = [f"arn:{p}:sns:{r}:{account}:{config.monitoring.sns_topic}" for r in regions]
    elif kind == ALARM:
        found = [f"arn:{p}:cloudwatch:{r}:{account}:alarm:{ALARM_PREFIX}*" for r in regions]
    elif kind == DASHBOARD and config.monitoring.dashboard:
        found = [f"arn:{p}:cloudwatch::{account}:dashboard/{config.monitoring.dashboard}"]
    elif kind == JOB:
        found = [f"arn:{p}:s3:{r}:{account}:job/*" for r in sorted({b.region for b in sources})]
    return sorted(set(found))


def conditions(name: str | None, config: Config) -> dict[str, Any] | None:
    if name == PASSED_TO_S3:
        return {"StringEquals": {"iam:PassedToService": S3_SERVICE}}
    if name == PASSED_TO_BATCH:
        return {"StringEquals": {"iam:PassedToService": BATCH_SERVICE}}
    if name == VIA_S3:
        hosts = sorted({s3_service_host(b.region) for b in config.buckets.values() if b.kms_key})
        return {"StringEquals": {"kms:ViaService": hosts}}
    return None


def needs_for(commands: Iterable[str] = COMMANDS,
              drop: Callable[[Need], bool] = lambda need: False) -> list[Need]:
    """The rows of NEEDS some of `commands` needs, minus those `drop` says."""
    wanted = set(commands)
    return [n for n in NEEDS if wanted & set(n.commands) and not drop(n)]


def statements(config: Config, account: str, needs: Sequence[Need]) -> list[dict[str, Any]]:
    """One statement per (resource kind, condition), actions sorted; none for kinds the config
    has nothing of (no KMS key, no dashboard)."""
    grouped: dict[tuple[str, str | None], set[str]] = {}
    for need in needs:
        grouped.setdefault((need.resource, need.condition), set()).add(need.action)
    order = list(SIDS)
    result = []
    for (kind, condition), actions in sorted(grouped.items(), key=lambda item: (
            order.index(item[0][0]), item[0][1] or "")):
        arns = resources(kind, config, account)
        if not arns:
            continue
        statement: dict[str, Any] = {
            "Sid": SIDS[kind] + (CONDITION_SIDS[condition] if condition else ""),
            "Effect": "Allow", "Action": sorted(actions), "Resource": arns}
        found = conditions(condition, config)
        if found:
            statement["Condition"] = found
        result.append(statement)
    return result


def size(document: Any) -> int:
    """Characters IAM counts against the limit: the JSON text without whitespace."""
    return sum(1 for ch in json.dumps(document, separators=(",", ":")) if not ch.isspace())


def _document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": VERSION, "Statement": statements}


def _pieces(statement: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """The statement, its Resource list split so that each piece fits a document alone."""
    if size(_document([statement])) <= limit:
        return [statement]
    pieces: list[dict[str, Any]] = []
    chunk: list[str] = []
    for arn in statement["Resource"]:
        trial = {**statement, "Sid": f"{statement['Sid']}{len(pieces) + 1}",
                 "Resource": chunk + [arn]}
        if chunk and size(_document([trial])) > limit:
            pieces.append({**statement, "Sid": f"{statement['Sid']}{len(pieces) + 1}",
                           "Resource": chunk})
            chunk = []
        chunk.append(arn)
    pieces.append({**statement, "Sid": f"{statement['Sid']}{len(pieces) + 1}", "Resource": chunk})
    return pieces


def documents(found: list[dict[str, Any]], limit: int = POLICY_LIMIT) -> list[dict[str, Any]]:
    """The statements packed into as few documents as fit within `limit` (first fit)."""
    docs: list[list[dict[str, Any]]] = []
    for statement in found:
        for piece in _pieces(statement, limit):
            for doc in docs:
                if size(_document(doc + [piece])) <= limit:
                    doc.append(piece)
                    break
            else:
                docs.append([piece])
    return [_document(doc) for doc in docs]


def policies(config: Config, account: str, commands: Iterable[str] = COMMANDS,
             drop: Callable[[Need], bool] = lambda need: False) -> dict[str, list[dict]]:
    """Account id -> the policy documents the caller needs to run `commands` on `config`."""
    return {account: documents(statements(config, account, needs_for(commands, drop)))}


def permissions(ctx: Any, args: argparse.Namespace) -> Any:
    """The command: the policies on stdout, as JSON (whatever --json says), nothing else."""
    from ..errors import ExitStatus
    from ..output.results import Outcome

    found = policies(ctx.config, ctx.account)
    text = json.dumps(found, indent=2)
    return Outcome(ExitStatus.OK, text, found)


# -- the README's list ---------------------------------------------------------------------

README = Path(__file__).resolve().parent.parent.parent / "README.md"
START, END = "<!-- permissions:start -->", "<!-- permissions:end -->"
STS_NOTE = ("- `sts:GetCallerIdentity` (every command: the account id) needs no permission "
            "(https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html)")
SERVICES = {"s3": "S3", "kms": "KMS", "iam": "IAM", "sns": "SNS",
            "cloudwatch": "CloudWatch"}


def readme_list() -> str:
    """The README's caller-permissions list, from NEEDS: one line per action."""
    lines = [START,
             "<!-- generated from s3replication/commands/permissions.py: "
             "`make readme-permissions` -->",
             "", STS_NOTE]
    for prefix, title in SERVICES.items():
        rows: dict[str, list[Need]] = {}
        for need in NEEDS:
            if need.action.split(":")[0] == prefix:
                rows.setdefault(need.action, []).append(need)
        lines.append(f"\n**{title}**\n")
        for action, needs in rows.items():
            commands = [c for c in COMMANDS if any(c in n.commands for n in needs)]
            kinds = ", ".join(dict.fromkeys("any resource" if n.resource == ANY
                                            else n.resource for n in needs))
            notes = [n.why for n in needs if n.why]
            notes += [f"only {n.condition}" for n in needs if n.condition]
            notes += ["optional" for n in needs if n.optional]
            note = f"; {'; '.join(dict.fromkeys(notes))}" if notes else ""
            lines.append(f"- `{action}` on {kinds}: {', '.join(commands)}{note}")
    lines.append(END)
    return "\n".join(lines)


def with_readme_list(text: str) -> str:
    """`text` (the README) with the part between the markers replaced by `readme_list()`."""
    head, start, rest = text.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise ValueError(f"README.md lacks the markers {START} ... {END}")
    return head + readme_list() + tail


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m s3replication.commands.permissions")
    parser.add_argument("--readme", action="store_true",
                        help="rewrite the caller-permissions list in README.md")
    args = parser.parse_args(argv)
    if args.readme:
        README.write_text(with_readme_list(README.read_text()))
        print(f"{README}: caller permissions list rewritten")
    else:
        print(readme_list())
    return 0


if __name__ == "__main__":
    sys.exit(main())
