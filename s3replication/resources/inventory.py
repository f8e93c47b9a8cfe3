"""S3 Inventory for the audit at scale: with INVENTORY in the config, every source and
destination of the script's rules gets a daily inventory of all versions, delivered as CSV into
its Region's report bucket, and each report bucket lets S3 deliver there and nothing else.

- configuration: https://docs.aws.amazon.com/AmazonS3/latest/userguide/configure-inventory.html
  (Id `s3-replication-audit`, prefix `inventory`: S3 writes
  `inventory/<bucket>/s3-replication-audit/<YYYY-MM-DDTHH-MMZ>/manifest.json`, its
  `manifest.checksum` and `data/*.csv.gz`, https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory-location.html);
- the report bucket's policy statement for `s3.amazonaws.com`, limited by `aws:SourceAccount`
  and `aws:SourceArn` (https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-bucket-policies.html#example-bucket-policies-s3-inventory-1).

Both scripts share what they set up here:
- one inventory configuration per bucket (its Id is the same from either script);
- one delivery statement per report bucket, whose `aws:SourceArn` must list every bucket
  either script inventories, since S3 delivers a report only where the destination's policy
  allows it for that source bucket (the page above).
`apply` adds the buckets of the script's rules to the statement and takes nothing out: what
else is listed (the other script's buckets, another config's) is kept as the policy has it.
`destroy` takes out the buckets of the script's rules, and removes their inventory
configurations, except where a rule of the other script is still on AWS (in its source's
replication configuration) that names the bucket: the config says which rules are the other
script's, AWS whether that script has set them up, or destroyed them already. A statement left
with no bucket is removed.

Report buckets are managed like any bucket (the bucket settings rows), with SSE-S3. `destroy`
keeps the report buckets and what is in them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from ..aws.calls import policy_document, read_or_none
from ..aws.naming import bucket_arn
from ..config.model import CRR, SRR, BucketSpec
from ..engine.context import Context
from ..engine.items import Item, parallel_map
from ..engine.scope import Scope
from .bucket_settings import BUCKET_SETTINGS
from .bucket_target import BucketTarget
from .iam_policy import VERSION, normalize_document
from .settings import Setting

INVENTORY_ID = "s3-replication-audit"
REPORT_PREFIX = "inventory"
FIELDS = ["Size", "LastModifiedDate", "ETag", "StorageClass", "ReplicationStatus",
          "EncryptionStatus", "IsMultipartUploaded"]
DELIVERY_SID = "S3ReplicationInventoryDelivery"


def report_bucket(ctx: Context, region: str) -> BucketSpec | None:
    """The report bucket of `region`, as a bucket the tool manages (SSE-S3, no role)."""
    inventory = ctx.config.inventory
    if inventory is None or region not in inventory.buckets:
        return None
    name = inventory.buckets[region]
    return BucketSpec(name, region, None, f"{name}-unused-role")


def report_buckets(ctx: Context, buckets: tuple[BucketSpec, ...]) -> list[BucketSpec]:
    regions = sorted({b.region for b in buckets})
    return [r for r in (report_bucket(ctx, region) for region in regions) if r is not None]


def wanted_configuration(ctx: Context, bucket: BucketSpec) -> dict[str, Any] | None:
    reports = report_bucket(ctx, bucket.region)
    if reports is None:
        return None
    return {
        "Id": INVENTORY_ID,
        "IsEnabled": True,
        "IncludedObjectVersions": "All",
        "Schedule": {"Frequency": "Daily"},
        # a locked bucket's report carries each version's retention (audit --inventory):
        # https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory.html
        "OptionalFields": sorted(FIELDS + (list(lock_fields()) if bucket.object_lock else [])),
        "Destination": {"S3BucketDestination": {
            "AccountId": ctx.account, "Bucket": bucket_arn(reports.name, reports.region),
            "Format": ctx.config.inventory.format if ctx.config.inventory else "CSV",
            "Prefix": REPORT_PREFIX}},
    }


def read_configuration(on: BucketTarget) -> Any:
    found = read_or_none(lambda: on.s3.get_bucket_inventory_configuration(
        Bucket=on.name, Id=INVENTORY_ID)["InventoryConfiguration"],
        "NoSuchConfiguration", "NoSuchInventoryConfig", "NoSuchBucket")
    if found is None or found.get("Id") != INVENTORY_ID:
        # An answer without our Id is no configuration of ours: emulators answer so when
        # they keep none, and their DeleteBucketInventoryConfiguration deletes the bucket.
        return None
    found = dict(found)
    found["OptionalFields"] = sorted(found.get("OptionalFields", []))
    return found


def write_configuration(on: BucketTarget, wanted: Any) -> None:
    if wanted is None:
        on.s3.delete_bucket_inventory_configuration(Bucket=on.name, Id=INVENTORY_ID)
    else:
        on.s3.put_bucket_inventory_configuration(
            Bucket=on.name, Id=INVENTORY_ID, InventoryConfiguration=wanted)


def configuration_item(ctx: Context, bucket: BucketSpec, removing: bool,
                       still_used: Callable[[], set[str]] = set) -> Item:
    """The bucket's inventory configuration; on destroy removed unless `still_used()` (the
    buckets the other script's rules on AWS name) holds the bucket."""
    wanted = None if removing else wanted_configuration(ctx, bucket)

    def desire(on: BucketTarget, current: Any) -> Any:
        return current if removing and on.name in still_used() else wanted

    target = BucketTarget(ctx, bucket)
    return Setting(f"inventory ({INVENTORY_ID})",
                   ("s3:GetInventoryConfiguration", "s3:PutInventoryConfiguration"),
                   read_configuration, lambda on: wanted,
                   lambda on, _: write_configuration(on, wanted),
                   desire=desire).item(target.resource, target)


def audited(ctx: Context, kind: str, region: str) -> list[BucketSpec]:
    """The sources and destinations of `kind`'s rules in the config ("crr" or "srr"), in
    `region`: the buckets that script inventories there."""
    names = {n for r in ctx.config.rules(kind) for n in (r.source, r.destination)}
    return [b for n, b in ctx.config.buckets.items() if n in names and b.region == region]


def other_kind(ctx: Context) -> str:
    return SRR if ctx.kind == CRR else CRR


def set_up_by(ctx: Context, kind: str) -> set[str]:
    """The buckets named by `kind`'s config rules that are on AWS now: each rule's ID in its
    source's replication configuration (read once per source)."""
    from .replication import read_configuration as read_rules

    rules = ctx.config.rules(kind)
    sources = sorted({r.source for r in rules})
    found = dict(zip(sources, parallel_map(lambda n: read_rules(ctx, ctx.bucket(n)), sources),
                     strict=True))
    live = {source: {r.get("ID") for r in (current or {}).get("Rules", [])}
            for source, current in found.items()}
    return {n for r in rules if r.id in live[r.source] for n in (r.source, r.destination)}


def once(read: Callable[[], set[str]]) -> Callable[[], set[str]]:
    """`read`, called when first asked (by whichever lane asks first), then its answer."""
    lock = threading.Lock()
    found: list[set[str]] = []

    def get() -> set[str]:
        with lock:
            if not found:
                found.append(read())
            return set(found[0])
    return get


def _listed(value: Any) -> list[str]:
    """A policy value that is one string or a list of them, as a list."""
    if value is None:
        return []
    return [str(value)] if isinstance(value, str) else [str(v) for v in value]


def our_statement(policy: Any) -> dict[str, Any] | None:
    found = [s for s in (policy or {}).get("Statement", []) if s.get("Sid") == DELIVERY_SID]
    return found[0] if found else None


def delivered_arns(ctx: Context, reports: BucketSpec, present: dict[str, Any] | None,
                   removing: bool, still_used: Callable[[], set[str]] = set) -> list[str]:
    """The buckets S3 may deliver reports for into `reports`, given the statement `present`:
    apply adds this script's (its config rules' buckets in that Region) and keeps every other;
    destroy takes out this script's, but those `still_used()` names (the buckets the other
    script's rules on AWS name)."""
    present_arns = set(_listed((present or {}).get("Condition", {}).get("ArnLike", {}).get(
        "aws:SourceArn")))
    mine = audited(ctx, ctx.kind, reports.region)
    if not removing:
        return sorted(present_arns | {bucket_arn(b.name, b.region) for b in mine})
    kept = still_used() if mine else set()
    return sorted(present_arns - {bucket_arn(b.name, b.region) for b in mine
                                  if b.name not in kept})


def delivery_statement(ctx: Context, reports: BucketSpec, present: dict[str, Any] | None,
                       removing: bool = False,
                       still_used: Callable[[], set[str]] = set) -> dict[str, Any] | None:
    """The delivery statement wanted, given the one `present`; None for none."""
    arns = delivered_arns(ctx, reports, present, removing, still_used)
    if not arns:
        return None
    by_arn = {bucket_arn(b.name, b.region): b for b in ctx.config.buckets.values()}
    accounts = {ctx.account_of(by_arn[a]) for a in arns if a in by_arn}
    if any(a not in by_arn for a in arns):  # buckets of another config: their accounts kept
        accounts |= set(_listed((present or {}).get("Condition", {}).get(
            "StringEquals", {}).get("aws:SourceAccount")))
    arn = bucket_arn(reports.name, reports.region)
    return {
        "Sid": DELIVERY_SID, "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "s3:PutObject", "Resource": f"{arn}/{REPORT_PREFIX}/*",
        "Condition": {
            "ArnLike": {"aws:SourceArn": arns},
            "StringEquals": {"aws:SourceAccount": sorted(accounts),
                             "s3:x-amz-acl": "bucket-owner-full-control"}},
    }


def delivery_item(ctx: Context, reports: BucketSpec, removing: bool = False,
                  still_used: Callable[[], set[str]] = set) -> Item:
    """Our statement in the report bucket's policy, merged with the others there."""
    from .bucket_settings import POLICY_DOCUMENT

    def read(on: BucketTarget) -> Any:
        # NoSuchBucket: destroy, where apply never made the report bucket
        return policy_document(read_or_none(
            lambda: on.s3.get_bucket_policy(Bucket=on.name)["Policy"],
            "NoSuchBucketPolicy", "NoSuchBucket"))

    def wanted(current: Any) -> dict[str, Any] | None:
        return delivery_statement(ctx, reports, our_statement(current), removing, still_used)

    def project(_: Any, current: Any) -> Any:
        found = our_statement(current)
        return normalize_document(found) if found else None

    def desire(_: Any, current: Any) -> Any:
        statement = wanted(current)
        return normalize_document(statement) if statement else None

    def merge(on: BucketTarget, current: Any) -> None:
        policy = current or {"Version": VERSION, "Statement": []}
        others = [s for s in policy.get("Statement", []) if s.get("Sid") != DELIVERY_SID]
        statement = wanted(current)
        statements = others + ([statement] if statement else [])
        if statements:
            on.s3.put_bucket_policy(Bucket=on.name, Policy=json.dumps(
                {**policy, "Statement": statements}))
        else:  # a policy holds at least one statement
            on.s3.delete_bucket_policy(Bucket=on.name)

    target = BucketTarget(ctx, reports)
    return Setting("inventory delivery policy",
                   ("s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"),
                   read, lambda on: desire(on, None), merge, project=project, desire=desire,
                   document=POLICY_DOCUMENT).item(target.resource, target)


def report_bucket_lanes(ctx: Context, scope: Scope) -> list[list[Item]]:
    """Each report bucket, managed like any bucket, and its delivery statement (buckets
    stage, apply and plan)."""
    lanes: list[list[Item]] = []
    for reports in report_buckets(ctx, scope.touched):
        target = BucketTarget(ctx, reports)
        lanes.append([row.item(target.resource, target) for row in BUCKET_SETTINGS]
                     + [delivery_item(ctx, reports)])
    return lanes


def lanes(ctx: Context, scope: Scope) -> list[list[Item]]:
    """Each source and destination's inventory configuration: wanted with INVENTORY, removed
    by destroy (which also takes this script's buckets out of the delivery statements), both
    kept where the other script's rules still need them. Without INVENTORY nothing is read:
    remove the configurations with destroy (or by hand) before taking INVENTORY out of the
    config."""
    if ctx.config.inventory is None:
        return []
    still_used = once(lambda: set_up_by(ctx, other_kind(ctx)))
    delivery = ([[delivery_item(ctx, reports, True, still_used)]
                 for reports in report_buckets(ctx, scope.touched)] if scope.removing else [])
    if ctx.clients.custom_endpoint():
        # MiniStack and moto route PutBucketInventoryConfiguration to CreateBucket and
        # DeleteBucketInventoryConfiguration to DeleteBucket: never sent to an emulator.
        ctx.note("inventory configurations are not set at an emulator (it keeps none and "
                 "delivers no report); write reports with `python -m s3replication.sandbox "
                 "inventory`")
        return delivery
    return delivery + [[configuration_item(ctx, bucket, scope.removing, still_used)]
                       for bucket in scope.touched]


def lock_fields() -> tuple[str, ...]:
    """The Object Lock fields a locked bucket's inventory lists (inventory/retention.py),
    imported on use: plan and apply of a config without INVENTORY import no query module."""
    from ..inventory.retention import LOCK_FIELDS

    return LOCK_FIELDS
