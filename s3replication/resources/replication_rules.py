"""The S3 replication rule each config rule becomes, and how rules merge on one bucket.

S3 keeps one replication configuration per bucket and PutBucketReplication replaces it whole
("Creates a replication configuration or replaces an existing one",
https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketReplication.html), so a script
reads the configuration, replaces only the rules it owns, keeps every other rule as it is, and
writes the result back.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from ..aws.naming import bucket_arn
from ..config.model import RuleSpec

# The only value S3 accepts:
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_ReplicationTimeValue.html
RTC_MINUTES = 15


def rule_filter(rule: RuleSpec) -> dict[str, Any]:
    tags = [{"Key": k, "Value": v} for k, v in rule.tags]
    if not tags:
        return {"Prefix": rule.prefix}
    if len(tags) == 1 and not rule.prefix:
        return {"Tag": tags[0]}
    conjunction: dict[str, Any] = {"Tags": tags}
    if rule.prefix:
        conjunction = {"Prefix": rule.prefix, "Tags": tags}
    return {"And": conjunction}


def s3_rule(
    rule: RuleSpec,
    priority: int,
    destination_region: str,
    source_encrypted_with_kms: bool,
    replica_key_arn: str | None,
    destination_account: str | None = None,
) -> dict[str, Any]:
    """The V2 rule, in boto3's shape, with RTC and metrics at 15 minutes
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html).

    `destination_account`: the destination's account, when it is not the source's. The rule
    then names it and makes it own the replicas (owner override,
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-change-owner.html)."""
    destination: dict[str, Any] = {
        "Bucket": bucket_arn(rule.destination, destination_region),
        "StorageClass": rule.storage_class,
    }
    if destination_account:
        destination["Account"] = destination_account
        destination["AccessControlTranslation"] = {"Owner": "Destination"}
    if rule.rtc:
        destination["ReplicationTime"] = {"Status": "Enabled", "Time": {"Minutes": RTC_MINUTES}}
        destination["Metrics"] = {"Status": "Enabled", "EventThreshold": {"Minutes": RTC_MINUTES}}
    else:
        # Metrics without RTC: no EventThreshold, the threshold of RTC's missed-threshold
        # event, or S3 rejects it (https://docs.aws.amazon.com/AmazonS3/latest/API/API_Metrics.html).
        destination["Metrics"] = {"Status": "Enabled"}
    criteria: dict[str, Any] = {}
    if source_encrypted_with_kms:
        criteria["SseKmsEncryptedObjects"] = {"Status": "Enabled"}
        destination["EncryptionConfiguration"] = {"ReplicaKmsKeyID": replica_key_arn}
    if rule.replica_modifications:
        # Alone for an SSE-S3 source, as in AWS's replica-modification-sync example: an
        # SseKmsEncryptedObjects element (even Disabled) needs a ReplicaKmsKeyID, which an
        # SSE-S3 destination does not have, and S3 rejects the configuration.
        criteria["ReplicaModifications"] = {"Status": "Enabled"}
    s3: dict[str, Any] = {
        "ID": rule.id,
        "Priority": priority,
        "Status": "Enabled",
        "Filter": rule_filter(rule),
        "DeleteMarkerReplication": {"Status": "Enabled" if rule.delete_markers else "Disabled"},
        "Destination": destination,
    }
    if criteria:
        s3["SourceSelectionCriteria"] = criteria
    return s3


def normalize_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A rule as S3 may return it, in one canonical form, so that equal rules compare equal."""
    out = copy.deepcopy(dict(rule))
    filt = out.get("Filter")
    if filt is not None:
        if filt == {}:
            out["Filter"] = {"Prefix": ""}
        conjunction = out["Filter"].get("And")
        if conjunction is not None:
            conjunction["Tags"] = sorted(conjunction.get("Tags", []), key=lambda t: t["Key"])
            if conjunction.get("Prefix") == "":
                del conjunction["Prefix"]
    criteria = out.get("SourceSelectionCriteria")
    if criteria == {}:
        del out["SourceSelectionCriteria"]
    return out


def assign_priorities(
    rules: Iterable[RuleSpec],
    existing_rules: Iterable[Mapping[str, Any]],
    reserved: Iterable[int] = (),
) -> dict[str, int]:
    """Priority per rule id: as configured; else the one it has on the bucket; else the lowest
    number that no rule on the bucket (and no configured rule of either script) uses, so that
    editing one list never renumbers the other script's rules."""
    rules = list(rules)
    on_bucket = {r.get("ID"): r.get("Priority") for r in existing_rules}
    used = {p for p in on_bucket.values() if isinstance(p, int)} | set(reserved)
    used |= {r.priority for r in rules if r.priority is not None}
    chosen: dict[str, int] = {}
    for rule in rules:
        if rule.priority is not None:
            chosen[rule.id] = rule.priority
        elif isinstance(kept := on_bucket.get(rule.id), int):
            chosen[rule.id] = kept
    free = 0
    for rule in rules:
        if rule.id in chosen:
            continue
        while free in used or free in chosen.values():
            free += 1
        chosen[rule.id] = free
        used.add(free)
    return chosen


def merge_rules(
    existing_rules: Iterable[Mapping[str, Any]],
    own_rules: Iterable[Mapping[str, Any]],
    drop_ids: Iterable[str],
) -> list[dict[str, Any]]:
    """Every existing rule kept in place except those replaced by `own_rules` or in
    `drop_ids`; own rules not yet on the bucket are appended in config order."""
    own = {r["ID"]: dict(r) for r in own_rules}
    dropping = set(drop_ids) - set(own)
    merged: list[dict[str, Any]] = []
    for rule in existing_rules:
        rule_id = rule.get("ID")
        if rule_id in own:
            merged.append(own.pop(rule_id))
        elif rule_id not in dropping:
            merged.append(dict(rule))
    merged.extend(own.values())
    return merged
