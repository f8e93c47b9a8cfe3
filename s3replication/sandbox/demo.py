"""`make demo`: after both scripts have applied the shipped config in the sandbox, write a
sample shop object under every rule and show that it was replicated."""

from __future__ import annotations

import json
import sys
from typing import Any

from .. import sandbox
from ..aws.clients import Clients
from ..config.load import DEFAULT_CONFIG_PATH, load_config

SAMPLES = {
    "catalog/": ("sku-1001.json", {"sku": 1001, "name": "Trail shoe", "price": 89.0}),
    "orders/": ("2026/11/25/order-77.json", {"order": 77, "total": 178.0}),
    "inventory/": ("store-west.json", {"sku-1001": 12}),
    "images/": ("sku-1001/front.jpg", "JPEG bytes"),
    "customers/": ("c-42.json", {"customer": 42, "email": "ana@example.com"}),
    "transactions/": ("2026-11-25.log", "2026-11-25T06:00:00Z charge 178.00 ok"),
}


def main() -> int:
    config = load_config(DEFAULT_CONFIG_PATH)
    clients = Clients(endpoint_url=sandbox.ensure_running(), session=sandbox.sandbox_session())
    print(f"{'rule':<22} {'object':<44} {'source':<10} replica")
    failures = 0
    for rule in config.all_rules():
        source = config.buckets[rule.source]
        destination = config.buckets[rule.destination]
        name, body = SAMPLES.get(rule.prefix, ("sample.txt", "sample"))
        key = rule.prefix + name
        data = body if isinstance(body, str) else json.dumps(body)
        tagging = "&".join(f"{k}={v}" for k, v in rule.tags)
        extra: dict[str, Any] = {"Tagging": tagging} if rule.tags else {}
        src = clients.get("s3", source.region)
        src.put_object(Bucket=source.name, Key=key, Body=data.encode(), **extra)
        source_status = src.head_object(Bucket=source.name, Key=key).get("ReplicationStatus", "-")
        replica: str
        try:
            replica = clients.get("s3", destination.region).head_object(
                Bucket=destination.name, Key=key).get("ReplicationStatus", "-")
        except Exception:  # noqa: BLE001 - shown as missing
            replica = "missing"
        failures += replica != "REPLICA"
        print(f"{rule.id:<22} {source.name + '/' + key:<44} {source_status:<10} "
              f"{replica} in {destination.name} ({destination.region})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
