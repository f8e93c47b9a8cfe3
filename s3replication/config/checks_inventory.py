"""INVENTORY: where S3 Inventory reports go, one report bucket per Region (S3 delivers a report
only to a bucket in the inventoried bucket's Region,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory.html)."""

from __future__ import annotations

from typing import Any

from s3replication.config.checks_buckets import bucket_name_problem, region_problem
from s3replication.config.messages import show, unknown_keys
from s3replication.config.model import BucketSpec, Inventory, RuleSpec

INVENTORY_KEYS = ("buckets", "format")
# CSV only: S3 Batch Replication accepts only CSV inventory manifests
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-batch-replication-batch.html),
# and the audit reads CSV.
FORMATS = ("CSV",)


def inventory(value: object, specs: dict[str, BucketSpec], all_rules: tuple[RuleSpec, ...],
              problems: list[str]) -> Inventory | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        problems.append(f'INVENTORY: must be a dict such as {{"buckets": {{"us-east-1": '
                        f'"shop-inventory-use1"}}, "format": "CSV"}}, not {show(value)}')
        return None
    unknown_keys("INVENTORY", value, INVENTORY_KEYS, problems)
    fmt = value.get("format", "CSV")
    if fmt not in FORMATS:
        problems.append(f'INVENTORY["format"]: {show(fmt)} is not supported; use "CSV" (S3 '
                        "Batch Replication accepts only CSV inventory manifests)")
    buckets = _report_buckets(value.get("buckets"), specs, problems)
    needed = {specs[b].region for r in all_rules for b in (r.source, r.destination)
              if isinstance(b, str) and b in specs and specs[b].region}
    for region in sorted(needed - set(buckets)):
        problems.append(f'INVENTORY["buckets"]: no report bucket for {region}, where rules\' '
                        "buckets are (S3 writes a report only to a bucket in the same Region)")
    return Inventory(buckets, str(fmt))


def _report_buckets(value: Any, specs: dict[str, BucketSpec],
                    problems: list[str]) -> dict[str, str]:
    setting = 'INVENTORY["buckets"]'
    if not isinstance(value, dict) or not value:
        problems.append(f"{setting}: must be a dict of Region to report bucket name, "
                        f"not {show(value)}")
        return {}
    found: dict[str, str] = {}
    for region, name in value.items():
        where = f"{setting}[{show(region)}]"
        if reason := region_problem(region):
            problems.append(f"{where}: {reason}")
            continue
        reason = (bucket_name_problem(name) if isinstance(name, str)
                  else f"must be a str, not {type(name).__name__}")
        if reason:
            problems.append(f"{where}: invalid bucket name {show(name)}: {reason}")
        elif name in specs:
            problems.append(f"{where}: {show(name)} is also in BUCKETS; keep reports in a "
                            "bucket of their own (a replicated bucket would copy them)")
        elif name in found.values():
            problems.append(f"{where}: {show(name)} is the report bucket of another Region too")
        else:
            found[str(region)] = name
    return found
