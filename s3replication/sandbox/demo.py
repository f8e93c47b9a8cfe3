"""`make demo`: after the scripts have applied a config in the sandbox, write a sample shop
object under every rule and show that it was replicated, and which account holds the replica
(read with that account's own credentials).

    python -m s3replication.sandbox.demo [CONFIG]    (default: config/s3_config.py)
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from .. import sandbox
from ..aws.clients import Clients
from ..aws.naming import global_region
from ..config.load import DEFAULT_CONFIG_PATH, load_config
from ..config.model import Config, RuleSpec

SAMPLES = {
    "catalog/": ("sku-1001.json", {"sku": 1001, "name": "Trail shoe", "price": 89.0}),
    "orders/": ("2026/11/25/order-77.json", {"order": 77, "total": 178.0}),
    "inventory/": ("store-west.json", {"sku-1001": 12}),
    "images/": ("sku-1001/front.jpg", "JPEG bytes"),
    "customers/": ("c-42.json", {"customer": 42, "email": "ana@example.com"}),
    "transactions/": ("2026-11-25.log", "2026-11-25T06:00:00Z charge 178.00 ok"),
}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    config = load_config(args[0] if args else DEFAULT_CONFIG_PATH)
    clients = sandbox.sandbox_clients(sandbox.ensure_running())
    print(f"{'rule':<22} {'object':<52} {'source':<10} replica")
    replicated = [show_rule(config, clients, rule) for rule in config.all_rules()]
    return 0 if all(replicated) else 1


def sample(rule: RuleSpec) -> tuple[str, bytes, dict[str, Any]]:
    """A key under the rule's prefix, its body, and the tags the rule selects on."""
    name, body = SAMPLES.get(rule.prefix, ("sample.txt", "sample"))
    data = body if isinstance(body, str) else json.dumps(body)
    tagging = "&".join(f"{k}={v}" for k, v in rule.tags)
    return rule.prefix + name, data.encode(), {"Tagging": tagging} if rule.tags else {}


def show_rule(config: Config, clients: Clients, rule: RuleSpec) -> bool:
    """Write the rule's sample object into its source and print where the replica is; True
    if the destination holds it as a REPLICA."""
    source = config.buckets[rule.source]
    destination = config.buckets[rule.destination]
    key, data, extra = sample(rule)
    src = clients.get("s3", source.region)
    src.put_object(Bucket=source.name, Key=key, Body=data, **extra)
    source_status = src.head_object(Bucket=source.name, Key=key).get("ReplicationStatus", "-")
    # The replica is read as the destination's account: its own keys in the sandbox.
    other = config.account_of(destination)
    sts_region = global_region(config.region_of_partition)
    holder = clients.for_account(other, sts_region)
    account = holder.account_id(sts_region) + (f" ({other.name})" if other else "")
    replica: str
    try:
        replica = holder.get("s3", destination.region).head_object(
            Bucket=destination.name, Key=key).get("ReplicationStatus", "-")
    except Exception:  # noqa: BLE001 - shown as missing
        replica = "missing"
    print(f"{rule.id:<22} {source.name + '/' + key:<52} {source_status:<10} "
          f"{replica} in {destination.name} ({destination.region}, account {account})")
    return replica == "REPLICA"


if __name__ == "__main__":
    sys.exit(main())
