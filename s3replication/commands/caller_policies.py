"""The caller's IAM policy documents, built from the NEEDS table for a config and an account.

KMS keys named by alias do not exist before the first `apply` creates them, and a created key's
id is random, so their statements name every key of the account in the bucket's Region
(`arn:aws:kms:REGION:ACCOUNT:key/*`); a key given by ARN is named by its ARN. The data-plane
actions (`kms:GenerateDataKey`, `kms:Decrypt`) are further limited to requests S3 makes
(`kms:ViaService`). Each document stays within AWS's managed-policy limit of 6,144 characters,
whitespace not counted (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html);
larger sets of permissions are split over several documents.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..aws.naming import bucket_arn, partition, role_arn, s3_service_host
from ..config.model import Config
from ..monitoring.alarms import PREFIX as ALARM_PREFIX
from ..resources.iam_policy import S3_SERVICE, VERSION
from .batch_role import BATCH_SERVICE
from .batch_role import role_name as batch_role_name
from .permission_needs import (
    ALARM,
    ALIAS,
    ANY,
    BATCH_ROLE,
    BUCKET,
    COMMANDS,
    DASHBOARD,
    JOB,
    KEY,
    NEEDS,
    OBJECTS,
    PASSED_TO_BATCH,
    PASSED_TO_S3,
    ROLE,
    TOPIC,
    VIA_S3,
    Need,
)

POLICY_LIMIT = 6144  # characters of a managed policy, whitespace not counted

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
