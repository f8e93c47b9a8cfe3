"""The caller's IAM policy documents, built from the NEEDS table for a config and an account;
and, when buckets of the config live in accounts of ACCOUNTS, the documents the role or profile
of each such account needs there.

The result maps the caller's account id to its documents, and "ACCOUNT_ID (NAMES)" (the names
ACCOUNTS gives that account) to each other account's. For an account with an `admin_profile`,
"ACCOUNT_ID (NAMES)" holds the reads only (its role_arn or profile: production's way in) and
"ACCOUNT_ID (NAMES admin)" every other action there (what the admin profile needs). The
caller's documents cover its own buckets and keys, the replication and batch roles,
monitoring, rules and jobs, and `sts:AssumeRole` on the roles of ACCOUNTS; another account's
cover only the buckets that live there and their keys, with the rows of NEEDS marked for it
(THERE).

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
from ..monitoring.alarm_names import PREFIX as ALARM_PREFIX
from ..resources.iam_policy import S3_SERVICE, VERSION
from .batch_role import BATCH_SERVICE
from .batch_role import role_name as batch_role_name
from .permission_needs import (
    ACCESS_POINT,
    ACCESS_POINT_REQUEST,
    ACCOUNT_ROLE,
    ALARM,
    ALIAS,
    ANY,
    ANY_FOR_ALIASES,
    ANY_SUBSCRIPTION,
    BATCH_ROLE,
    BUCKET,
    COMMANDS,
    DASHBOARD,
    GLUE,
    GLUE_DATABASE,
    GLUE_DEFAULT,
    HERE,
    INVENTORIED,
    JOB,
    KEY,
    NEEDS,
    OBJECTS,
    PASSED_TO_BATCH,
    PASSED_TO_S3,
    REPORT_BUCKET,
    REPORT_OBJECTS,
    ROLE,
    TOPIC,
    VIA_S3,
    WORKGROUP,
    Need,
)
from .policy_places import Place, places
from .restore_needs import DESTINATION_OBJECTS

POLICY_LIMIT = 6144  # characters of a managed policy, whitespace not counted

# Statement ids, in the order statements are written.
SIDS = {ANY: "AnyResource", BUCKET: "Buckets", OBJECTS: "Objects", KEY: "KmsKeys",
        ALIAS: "KmsAliases", ROLE: "ReplicationRoles", BATCH_ROLE: "BatchRoles",
        TOPIC: "AlertTopics", ANY_SUBSCRIPTION: "AlertSubscriptions", ALARM: "Alarms",
        DASHBOARD: "Dashboard", JOB: "BatchJobs",
        ACCOUNT_ROLE: "AccountRoles", ACCESS_POINT: "AccessPoints", INVENTORIED: "Inventoried",
        REPORT_BUCKET: "ReportBuckets", REPORT_OBJECTS: "Reports", WORKGROUP: "Athena",
        GLUE_DATABASE: "GlueDatabase", GLUE: "GlueCatalog", GLUE_DEFAULT: "GlueDefaultDatabase",
        ACCESS_POINT_REQUEST: "AccessPointRequests", DESTINATION_OBJECTS: "ReplicaObjects"}
CONDITION_SIDS = {PASSED_TO_S3: "PassToS3", PASSED_TO_BATCH: "PassToBatch", VIA_S3: "ViaS3"}


def _destination_objects(config: Config) -> list[str]:
    """The objects of every rule's destination, wherever it is (restore --from replica)."""
    destinations = {r.destination for r in config.all_rules()}
    return [bucket_arn(b.name, b.region) + "/*" for b in config.buckets.values()
            if b.name in destinations]


def resources(kind: str, config: Config, place: Place) -> list[str]:
    """The ARNs a statement for `kind` names, for the buckets of `config` in `place`."""
    buckets, account = list(place.buckets), place.account
    sources = [b for b in buckets if b.name in {r.source for r in config.all_rules()}]
    regions = sorted({b.region for b in buckets})
    p = partition(config.region_of_partition)
    found: list[str] = []
    if kind == ANY:
        found = ["*"]
    elif kind == ANY_FOR_ALIASES:
        found = ["*"] if any(b.kms_key and b.kms_key.startswith("alias/") for b in buckets) else []
    elif kind == ANY_SUBSCRIPTION:  # wherever a topic is
        found = ["*"] if regions else []
    elif kind in (BUCKET, OBJECTS):
        suffix = "/*" if kind == OBJECTS else ""
        found = [bucket_arn(b.name, b.region) + suffix for b in buckets]
        if kind == BUCKET:  # report buckets are managed like any bucket
            found += _inventory_resources(REPORT_BUCKET, config, place, p)
    elif kind == DESTINATION_OBJECTS and place.where == HERE:
        found = _destination_objects(config)
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
        found = [f"arn:{p}:sns:{r}:{account}:{config.monitoring.sns_topic}"
                 for r in _monitoring_regions(config, place)]
    elif kind == ALARM:
        found = [f"arn:{p}:cloudwatch:{r}:{account}:alarm:{ALARM_PREFIX}*"
                 for r in _monitoring_regions(config, place)]
    elif kind == DASHBOARD and config.monitoring.dashboard:
        found = [f"arn:{p}:cloudwatch::{account}:dashboard/{config.monitoring.dashboard}"]
    elif kind == JOB:
        found = [f"arn:{p}:s3:{r}:{account}:job/*" for r in sorted({b.region for b in sources})]
    elif kind == ACCOUNT_ROLE:
        found = list(place.assumed)
    elif kind in (INVENTORIED, REPORT_BUCKET, REPORT_OBJECTS, WORKGROUP, GLUE, GLUE_DATABASE,
                  GLUE_DEFAULT):
        found = _inventory_resources(kind, config, place, p)
    elif kind == ACCESS_POINT and config.access_points and place.where == HERE:
        found = [f"arn:{p}:s3::{account}:accesspoint/*"]
    elif kind == ACCESS_POINT_REQUEST and config.access_points and place.where == HERE:
        found = [f"arn:{p}:s3:us-west-2:{account}:async-request/mrap/*"]
    return sorted(set(found))


def _monitoring_regions(config: Config, place: Place) -> list[str]:
    """Where the place's alarms and topics are: each of its buckets' Regions, and each
    destination's Region of a rule from its buckets, wherever that bucket is (a rule's latency
    and backlog alarms live in its destination's Region, with a topic for their actions:
    monitoring/alarms.py)."""
    mine = {b.name for b in place.buckets}
    return sorted({b.region for b in place.buckets} | {
        config.buckets[r.destination].region for r in config.all_rules() if r.source in mine})


def _inventory_resources(kind: str, config: Config, place: Place, p: str) -> list[str]:
    """With INVENTORY: the inventoried buckets (here or there), and here the report buckets,
    their reports, Athena and Glue (https://docs.aws.amazon.com/glue/latest/dg/glue-specifying-resource-arns.html),
    with the `default` database Athena needs
    (https://docs.aws.amazon.com/athena/latest/ug/fine-grained-access-to-glue-resources.html)."""
    inventory, account = config.inventory, place.account
    if inventory is None:
        return []
    if kind == INVENTORIED:
        return [bucket_arn(b.name, b.region) for b in place.buckets]
    if place.where != HERE:
        return []
    reports = sorted(inventory.buckets.items())
    if kind == REPORT_BUCKET:
        return [bucket_arn(name, region) for region, name in reports]
    if kind == REPORT_OBJECTS:
        return [f"{bucket_arn(name, region)}/inventory/*" for region, name in reports]
    if kind == WORKGROUP:
        return [f"arn:{p}:athena:{r}:{account}:workgroup/primary" for r, _ in reports]
    if kind == GLUE_DEFAULT:  # what Athena needs of every Region's Glue Data Catalog
        return [f"arn:{p}:glue:{r}:{account}:{what}" for r, _ in reports
                for what in ("catalog", "database/default")]
    tables = ["table/s3_replication_audit/*"] if kind == GLUE else []
    return [f"arn:{p}:glue:{r}:{account}:{what}" for r, _ in reports for what in (
        "catalog", "database/s3_replication_audit", *tables)]


def conditions(name: str | None, place: Place) -> dict[str, Any] | None:
    if name == PASSED_TO_S3:
        return {"StringEquals": {"iam:PassedToService": S3_SERVICE}}
    if name == PASSED_TO_BATCH:
        return {"StringEquals": {"iam:PassedToService": BATCH_SERVICE}}
    if name == VIA_S3:
        hosts = sorted({s3_service_host(b.region) for b in place.buckets if b.kms_key})
        return {"StringEquals": {"kms:ViaService": hosts}}
    return None


def needs_for(commands: Iterable[str] = COMMANDS,
              drop: Callable[[Need], bool] = lambda need: False) -> list[Need]:
    """The rows of NEEDS some of `commands` needs, minus those `drop` says."""
    wanted = set(commands)
    return [n for n in NEEDS if wanted & set(n.commands) and not drop(n)]


def statements(config: Config, place: Place, needs: Sequence[Need]) -> list[dict[str, Any]]:
    """One statement per (resource kind, condition), actions sorted, of the rows of `needs`
    for `place`; none for kinds the place has nothing of (no KMS key, no dashboard)."""
    grouped: dict[tuple[str, str | None], set[str]] = {}
    for need in needs:
        if not place.grants(need):
            continue
        arns = resources(need.resource, config, place)
        kind = ANY if need.resource == ANY_FOR_ALIASES else need.resource  # one "*" statement
        if arns:
            grouped.setdefault((kind, need.condition), set()).add(need.action)
    order = list(SIDS)
    result = []
    for (kind, condition), actions in sorted(grouped.items(), key=lambda item: (
            order.index(item[0][0]), item[0][1] or "")):
        statement: dict[str, Any] = {
            "Sid": SIDS[kind] + (CONDITION_SIDS[condition] if condition else ""),
            "Effect": "Allow", "Action": sorted(actions),
            "Resource": resources(kind, config, place)}
        found = conditions(condition, place)
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
    """The policy documents needed to run `commands` on `config`, per account (see `places`):
    the caller's account `account` first, then each account of ACCOUNTS holding buckets."""
    needs = needs_for(commands, drop)
    return {label: documents(statements(config, place, needs))
            for label, place in places(config, account).items()}
