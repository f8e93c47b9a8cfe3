"""Benchmark of `audit`: time against the bare listing of both buckets' versions, and memory.

``measure_audit(endpoint_url, n_objects) -> dict`` makes a replicated pair of buckets on the
MiniStack at ``endpoint_url`` (a source in us-east-1, a destination in us-west-2, one rule for
every object), writes ``n_objects`` objects (replicated as they are written), then measures:

- ``audit_seconds``: the `audit` command's work for that rule (best of ``repeats``);
- ``listing_seconds``: listing every version of both buckets with boto3, one after the other,
  doing nothing with them (best of ``repeats``): the floor for any listing-based audit;
- ``ratio``: audit_seconds / listing_seconds (target: at most 1.5);
- ``audit_peak_mib`` (also as ``peak_memory_mib``) / ``listing_peak_mib``: tracemalloc peaks
  of one more run of each (apart from the timed runs, since tracing slows Python down).

Run alone, it starts a fresh MiniStack per size and prints the figures:

    .venv/bin/python bench/audit_bench.py [N ...]      # default: 5000 50000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from s3replication import sandbox  # after the path above
from s3replication.aws.clients import Clients
from s3replication.commands.audit import audit
from s3replication.config import load_config
from s3replication.engine.context import Context
from s3replication.output import render

SOURCE_REGION, DESTINATION_REGION = "us-east-1", "us-west-2"
WRITERS = 16


def _config_text(source: str, destination: str, log_file: Path) -> str:
    return (f"BUCKETS = {{{source!r}: {{'region': {SOURCE_REGION!r}}},\n"
            f"           {destination!r}: {{'region': {DESTINATION_REGION!r}}}}}\n"
            f"CRR_RULES = [{{'id': 'bench', 'source': {source!r}, "
            f"'destination': {destination!r}, 'rtc': False}}]\n"
            f"SRR_RULES = []\nLOG_FILE = {str(log_file)!r}\n")


def _make_pair(clients: Clients, source: str, destination: str) -> None:
    for name, region in ((source, SOURCE_REGION), (destination, DESTINATION_REGION)):
        s3 = clients.get("s3", region)
        extra = {} if region == "us-east-1" else {
            "CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=name, **extra)
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    clients.get("s3", SOURCE_REGION).put_bucket_replication(
        Bucket=source, ReplicationConfiguration={
            "Role": "arn:aws:iam::000000000000:role/bench-replication",
            "Rules": [{"ID": "bench", "Priority": 1, "Status": "Enabled", "Filter": {},
                       "DeleteMarkerReplication": {"Status": "Disabled"},
                       "Destination": {"Bucket": f"arn:aws:s3:::{destination}"}}]})


def _populate(clients: Clients, source: str, n_objects: int) -> None:
    s3 = clients.get("s3", SOURCE_REGION)

    def write(start: int) -> None:
        for n in range(start, n_objects, WRITERS):
            s3.put_object(Bucket=source, Key=f"orders/{n:08}.json", Body=b'{"sku": 1}')

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        list(pool.map(write, range(WRITERS)))


def _list_both(clients: Clients, source: str, destination: str) -> int:
    """The floor: every version of both buckets, listed with boto3 and dropped."""
    seen = 0
    for name, region in ((source, SOURCE_REGION), (destination, DESTINATION_REGION)):
        pages = clients.get("s3", region).get_paginator("list_object_versions")
        for page in pages.paginate(Bucket=name):
            seen += len(page.get("Versions", []))
    return seen


def _best_seconds(run: Callable[[], Any], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def _peak_mib(run: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def measure_audit(endpoint_url: str, n_objects: int, repeats: int = 3) -> dict[str, Any]:
    """Set up `n_objects` replicated objects at `endpoint_url`; time and trace audit and the
    bare listing (see the module docstring for the keys)."""
    clients = Clients(endpoint_url=endpoint_url, session=sandbox.sandbox_session())
    run_id = uuid.uuid4().hex[:8]
    source, destination = f"bench-audit-{run_id}-src", f"bench-audit-{run_id}-dst"
    started = time.perf_counter()
    _make_pair(clients, source, destination)
    _populate(clients, source, n_objects)
    populate_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        config_path = Path(tmp) / "s3_config.py"
        config_path.write_text(_config_text(source, destination, Path(tmp) / "log.txt"))
        ctx = Context(config=load_config(config_path), kind="crr", clients=clients,
                      account="000000000000")
        args = argparse.Namespace(max_report=50)

        def run_audit() -> None:
            outcome = render.outcome(audit(ctx, args))
            checked = outcome.data["rules"][0]["counts"]["checked"]
            assert int(outcome.status) == 0 and checked == n_objects, outcome.text

        def run_listing() -> None:
            assert _list_both(clients, source, destination) == 2 * n_objects

        run_listing()  # warm up both: connections, paginator models
        run_audit()
        listing = _best_seconds(run_listing, repeats)
        audited = _best_seconds(run_audit, repeats)
        audit_peak = round(_peak_mib(run_audit), 1)
        return {"objects": n_objects, "populate_seconds": round(populate_seconds, 1),
                "listing_seconds": round(listing, 3), "audit_seconds": round(audited, 3),
                "ratio": round(audited / listing, 2), "audit_peak_mib": audit_peak,
                "peak_memory_mib": audit_peak,  # the name bench/run.py reads
                "listing_peak_mib": round(_peak_mib(run_listing), 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[5000, 50000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from ministack_server import ministack  # bench/: a fresh server per size

    for size in args.sizes:
        with ministack() as endpoint:
            print(json.dumps(measure_audit(endpoint, size, args.repeats)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
