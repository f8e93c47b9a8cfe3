"""`python -m s3replication.sandbox inventory [--config PATH]`: the sandbox's stand-in for S3's
daily inventory job, which MiniStack does not run. For every source and destination of the
config's rules, a report of all its versions, in AWS's format (inventory/standin.py), is
delivered into its Region's report bucket of INVENTORY, so that `audit --inventory` has
something to read."""

from __future__ import annotations

from pathlib import Path

from ..config.load import DEFAULT_CONFIG_PATH, load_config
from ..errors import UsageError
from ..inventory.standin import rows_from_bucket, write_report
from .process import sandbox_clients


def deliver(url: str, config_path: Path | None = None) -> list[str]:
    """Write a report for every bucket of the config's rules; return where each went."""
    config = load_config(config_path or DEFAULT_CONFIG_PATH)
    if config.inventory is None:
        raise UsageError(f"{config.path}: no INVENTORY, so no report bucket to deliver to")
    clients = sandbox_clients(url)
    global_region = config.region_of_partition
    names = dict.fromkeys(n for r in config.all_rules() for n in (r.source, r.destination))
    delivered = []
    for name in names:
        bucket = config.buckets[name]
        reports = config.inventory.buckets.get(bucket.region)
        if reports is None:
            continue
        owner = clients.for_account(config.account_of(bucket), global_region)
        rows = rows_from_bucket(owner.get("s3", bucket.region), name)
        folder = write_report(clients.get("s3", bucket.region), reports, name, rows)
        delivered.append(f"s3://{reports}/{folder}")
    return delivered
