"""S3 Inventory for the audit at scale: with INVENTORY in the config, every source and
destination of the script's rules gets a daily inventory of all versions, delivered as CSV into
its Region's report bucket, and each report bucket lets S3 deliver there and nothing else.

- configuration: https://docs.aws.amazon.com/AmazonS3/latest/userguide/configure-inventory.html
  (Id `s3-replication-audit`, prefix `inventory`: S3 writes
  `inventory/<bucket>/s3-replication-audit/<YYYY-MM-DDTHH-MMZ>/manifest.json`, its
  `manifest.checksum` and `data/*.csv.gz`, https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory-location.html);
- the report bucket's policy statement for `s3.amazonaws.com`, limited by `aws:SourceAccount`
  and `aws:SourceArn` (https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-bucket-policies.html#example-bucket-policies-s3-inventory-1).

Report buckets are managed like any bucket (the bucket settings rows), with SSE-S3. `destroy`
removes the script's inventory configurations (they cost a report a day) and keeps the report
buckets and what is in them.
"""

from __future__ import annotations

import json
from typing import Any

from ..aws.calls import read_or_none
from ..aws.naming import bucket_arn
from ..config.model import BucketSpec
from ..engine.context import Context
from ..engine.items import Item
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
        "OptionalFields": sorted(FIELDS),
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


def configuration_item(ctx: Context, bucket: BucketSpec, removing: bool) -> Item:
    wanted = None if removing else wanted_configuration(ctx, bucket)
    target = BucketTarget(ctx, bucket)
    return Setting(f"inventory ({INVENTORY_ID})",
                   ("s3:GetInventoryConfiguration", "s3:PutInventoryConfiguration"),
                   read_configuration, lambda on: wanted,
                   lambda on, _: write_configuration(on, wanted)).item(target.resource, target)


def delivery_statement(ctx: Context, reports: BucketSpec,
                       delivered: list[BucketSpec]) -> dict[str, Any]:
    arn = bucket_arn(reports.name, reports.region)
    return {
        "Sid": DELIVERY_SID, "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "s3:PutObject", "Resource": f"{arn}/{REPORT_PREFIX}/*",
        "Condition": {
            "ArnLike": {"aws:SourceArn": sorted(bucket_arn(b.name, b.region)
                                                for b in delivered)},
            "StringEquals": {"aws:SourceAccount": sorted({ctx.account_of(b) for b in delivered}),
                             "s3:x-amz-acl": "bucket-owner-full-control"}},
    }


def delivery_item(ctx: Context, reports: BucketSpec, delivered: list[BucketSpec]) -> Item:
    """Our statement in the report bucket's policy, merged with the others there."""
    from .bucket_settings import POLICY_DOCUMENT, read_policy

    wanted = normalize_document(delivery_statement(ctx, reports, delivered))

    def project(_: Any, current: Any) -> Any:
        found = [s for s in (current or {}).get("Statement", []) if s.get("Sid") == DELIVERY_SID]
        return normalize_document(found[0]) if found else None

    def merge(on: BucketTarget, current: Any) -> None:
        policy = current or {"Version": VERSION, "Statement": []}
        others = [s for s in policy.get("Statement", []) if s.get("Sid") != DELIVERY_SID]
        statement = delivery_statement(ctx, reports, delivered)
        on.s3.put_bucket_policy(Bucket=on.name, Policy=json.dumps(
            {**policy, "Statement": others + [statement]}))

    target = BucketTarget(ctx, reports)
    return Setting("inventory delivery policy", ("s3:GetBucketPolicy", "s3:PutBucketPolicy"),
                   read_policy, lambda on: wanted, merge, project=project,
                   document=POLICY_DOCUMENT).item(target.resource, target)


def report_bucket_lanes(ctx: Context, scope: Scope) -> list[list[Item]]:
    """Each report bucket, managed like any bucket, and its delivery statement (buckets
    stage, apply and plan)."""
    lanes: list[list[Item]] = []
    for reports in report_buckets(ctx, scope.touched):
        target = BucketTarget(ctx, reports)
        delivered = [b for b in scope.touched if b.region == reports.region]
        lanes.append([row.item(target.resource, target) for row in BUCKET_SETTINGS]
                     + [delivery_item(ctx, reports, delivered)])
    return lanes


def lanes(ctx: Context, scope: Scope) -> list[list[Item]]:
    """Each source and destination's inventory configuration: wanted with INVENTORY, removed
    by destroy. Without INVENTORY nothing is read: remove the configurations with destroy (or
    by hand) before taking INVENTORY out of the config."""
    if ctx.config.inventory is None:
        return []
    if ctx.clients.custom_endpoint():
        # MiniStack and moto route PutBucketInventoryConfiguration to CreateBucket and
        # DeleteBucketInventoryConfiguration to DeleteBucket: never sent to an emulator.
        ctx.note("inventory configurations are not set at an emulator (it keeps none and "
                 "delivers no report); write reports with `python -m s3replication.sandbox "
                 "inventory`")
        return []
    return [[configuration_item(ctx, bucket, scope.removing)] for bucket in scope.touched]
