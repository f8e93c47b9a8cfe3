"""Benchmark of `audit --inventory` (DuckDB) against the listing `audit`, side by side in one run
on one fresh MiniStack.

``measure_inventory(sizes, repeats=2) -> list[dict]``:

- the smallest size N as real objects: a replicated pair of buckets (audit_bench's: a us-east-1
  source, a us-west-2 replica, one rule for every object), N objects written and replicated, a
  report of each bucket written by the stand-in from its real listing (inventory/standin.py);
  then, on these buckets, `audit --json` and `audit --inventory --json`, each as the script runs
  (its own process under GNU time: wall seconds from start to exit, peak resident memory of
  everything in it, DuckDB included), best of `repeats`; their counts must be equal;
- each larger size M as inventory files only: a pair of empty buckets whose reports hold M
  synthetic rows each (standin.row and write_report: every 1,000th replica missing, every
  5,000th of another size, every 10,000th source version FAILED), `audit --inventory --json`
  measured the same way, its counts checked against the rows written; the listing audit's time
  at M projected from its measured rate at N (it lists every version of both buckets, 1,000 a
  page: https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html): its
  fixed cost (the same audit of the pair while still empty) plus M times its time per object
  beyond that at N.

Targets: the inventory audit at the largest size in under 0.1 x the projected listing time,
with a peak memory under 500 MiB. Run alone (prints the figures as JSON, then the report's
section):

    .venv/bin/python bench/inventory_audit.py [N ...]      # default: 50000 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.audit_bench import (  # noqa: E402
    DESTINATION_REGION,
    SOURCE_REGION,
    _config_text,
    _make_pair,
    _populate,
)
from bench.ministack_server import ministack, run_measured  # noqa: E402
from s3replication import sandbox  # noqa: E402
from s3replication.aws.clients import Clients  # noqa: E402
from s3replication.inventory.standin import row, rows_from_bucket, write_report  # noqa: E402

TARGET_RATIO, TARGET_MIB = 0.1, 500
KINDS = ("checked", "missing", "mismatched", "failed", "pending", "archived", "needs_key")
MISSING_EVERY, MISMATCHED_EVERY, FAILED_EVERY = 1_000, 5_000, 10_000
WHEN = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)  # both reports' time
WRITTEN = WHEN - timedelta(hours=1)  # the objects': before the replica's report (not too_new)


class Pair:
    """A source and replica with their report buckets, and a config naming them."""

    def __init__(self, clients: Clients, folder: Path) -> None:
        run_id = uuid.uuid4().hex[:8]
        self.clients = clients
        self.source, self.replica = f"bench-inv-{run_id}-src", f"bench-inv-{run_id}-dst"
        self.reports = {SOURCE_REGION: f"bench-inv-{run_id}-use1",
                        DESTINATION_REGION: f"bench-inv-{run_id}-usw2"}
        _make_pair(clients, self.source, self.replica)
        for region, name in self.reports.items():
            extra: dict[str, Any] = {} if region == "us-east-1" else {
                "CreateBucketConfiguration": {"LocationConstraint": region}}
            clients.get("s3", region).create_bucket(Bucket=name, **extra)
        self.config = folder / f"{run_id}.py"
        self.config.write_text(_config_text(self.source, self.replica, folder / "log.txt")
                               + f"INVENTORY = {{'buckets': {self.reports!r}}}\n")

    def deliver(self, bucket: str, region: str, rows: Any, when: datetime = WHEN) -> None:
        write_report(self.clients.get("s3", region), self.reports[region], bucket, rows, when)


def _env(endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="bench",
               AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
    return env


def audit(endpoint: str, config: Path, *extra: str, repeats: int = 2) -> dict[str, Any]:
    """`cr_replication.py audit --json [extra]`, best of `repeats` (wall seconds; the peak
    memory is the largest of any run), and its counts."""
    best: dict[str, Any] = {"seconds": float("inf"), "peak_mib": 0.0}
    for _ in range(repeats):
        seconds, rss_kib, code, output = run_measured(
            [sys.executable, str(ROOT / "cr_replication.py"), "audit", "--json", *extra,
             "--config", str(config)], env=_env(endpoint), cwd=str(ROOT))
        data = json.loads(output[output.index("{"):])
        rule = data["rules"][0]
        assert code in (0, 3) and not rule["error"], output[-2000:]
        best.update(counts={k: rule["counts"][k] for k in KINDS},
                    seconds=min(best["seconds"], round(seconds, 2)),
                    peak_mib=max(best["peak_mib"], round(rss_kib / 1024, 1)))
    return best


def synthetic(bucket: str, n: int, replica: bool) -> Iterator[list[str]]:
    """Report rows of `n` objects; the replica's lack or differ as the module docstring says."""
    for i in range(n):
        failed = i % FAILED_EVERY == 7
        if replica and (failed or i % MISSING_EVERY == 3):
            continue
        size = 9 if replica and i % MISMATCHED_EVERY == 5 else 10
        status = "REPLICA" if replica else ("FAILED" if failed else "COMPLETED")
        yield row(bucket, f"orders/{i:08}.json", f"{i:032x}", True, False, size, WRITTEN,
                  "d41d8cd98f00b204e9800998ecf8427e", "STANDARD", status)


def expected(n: int) -> dict[str, int]:
    def every(step: int, at: int) -> int:
        return len(range(at, n, step))

    return {**dict.fromkeys(KINDS, 0), "checked": n, "missing": every(MISSING_EVERY, 3),
            "mismatched": every(MISMATCHED_EVERY, 5), "failed": every(FAILED_EVERY, 7)}


def side_by_side(endpoint: str, clients: Clients, folder: Path, n: int,
                 repeats: int) -> dict[str, Any]:
    pair = Pair(clients, folder)
    empty = audit(endpoint, pair.config, repeats=repeats)  # the fixed cost: start, STS, ...
    started = time.perf_counter()
    _populate(clients, pair.source, n)
    for bucket, region in ((pair.source, SOURCE_REGION), (pair.replica, DESTINATION_REGION)):
        # taken in a later second than every write: no object is too new for the reports
        pair.deliver(bucket, region, rows_from_bucket(clients.get("s3", region), bucket),
                     datetime.now(UTC) + timedelta(seconds=1))
    setup = time.perf_counter() - started
    listing = audit(endpoint, pair.config, repeats=repeats)
    inventory = audit(endpoint, pair.config, "--inventory", repeats=repeats)
    assert listing["counts"] == inventory["counts"], (listing, inventory)
    assert listing["counts"]["checked"] == n, listing
    return {"n": n, "objects": "written", "setup_seconds": round(setup, 1),
            "listing": listing, "inventory": inventory, "listing_empty_seconds": empty["seconds"]}


def inventory_only(endpoint: str, clients: Clients, folder: Path, n: int,
                   repeats: int) -> dict[str, Any]:
    pair = Pair(clients, folder)
    started = time.perf_counter()
    pair.deliver(pair.source, SOURCE_REGION, synthetic(pair.source, n, replica=False))
    pair.deliver(pair.replica, DESTINATION_REGION, synthetic(pair.replica, n, replica=True))
    setup = time.perf_counter() - started
    inventory = audit(endpoint, pair.config, "--inventory", repeats=repeats)
    assert inventory["counts"] == expected(n), (inventory, expected(n))
    return {"n": n, "objects": "inventory files only", "setup_seconds": round(setup, 1),
            "inventory": inventory}


def measure_inventory(sizes: list[int], repeats: int = 2) -> list[dict[str, Any]]:
    """The smallest size side by side with the listing audit, the others from inventory files
    only with the listing time projected (see the module docstring)."""
    sizes = sorted(sizes)
    results: list[dict[str, Any]] = []
    with ministack() as endpoint, tempfile.TemporaryDirectory() as tmp:
        clients = Clients(endpoint_url=endpoint, session=sandbox.sandbox_session())
        results.append(side_by_side(endpoint, clients, Path(tmp), sizes[0], repeats))
        for n in sizes[1:]:
            results.append(inventory_only(endpoint, clients, Path(tmp), n, repeats))
    fixed = results[0]["listing_empty_seconds"]
    rate = (results[0]["listing"]["seconds"] - fixed) / sizes[0]  # per object, beyond `fixed`
    for result in results:
        result["listing_seconds_projected"] = round(fixed + rate * result["n"], 1)
        result["ratio"] = round(result["inventory"]["seconds"]
                                / (result.get("listing", {}).get("seconds")
                                   or result["listing_seconds_projected"]), 3)
    return results


def section(results: list[dict[str, Any]]) -> list[str]:
    """The report's section on the audit at scale."""
    lines = ["", "## Audit at scale: listing vs S3 Inventory (DuckDB)", "",
             "Each audit as the script runs, one process under GNU time (wall seconds from start "
             "to exit, best of the runs; peak resident memory, DuckDB's included). The smallest "
             "size is written as objects and both audits read the same buckets (their counts "
             "are equal); larger sizes are inventory files only, with synthetic rows, and the "
             "listing audit's time there is projected from its measured rate (its time on the "
             "empty buckets, plus its time per object beyond that).", "",
             "| objects | how | listing audit | inventory audit | inventory / listing | "
             "listing peak memory | inventory peak memory |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        listing = r.get("listing")
        measured = (f"{listing['seconds']:.2f} s" if listing
                    else f"{r['listing_seconds_projected']:.1f} s (projected)")
        peak = f"{listing['peak_mib']:.0f} MiB" if listing else "n/a"
        lines.append(f"| {r['n']:,} | {r['objects']} | {measured} | "
                     f"{r['inventory']['seconds']:.2f} s | {r['ratio']:.3f} | {peak} | "
                     f"{r['inventory']['peak_mib']:.0f} MiB |")
    last = results[-1]
    lines += ["", "| target | wanted | measured |", "| --- | --- | --- |",
              f"| inventory audit of {last['n']:,} vs listing audit (projected) | "
              f"< {TARGET_RATIO} | {last['ratio']:.3f} |",
              f"| inventory audit of {last['n']:,}: peak memory | < {TARGET_MIB} MiB | "
              f"{last['inventory']['peak_mib']:.0f} MiB |"]
    return lines


def report_section(sizes: list[int]) -> list[str]:
    """bench/run.py's section for --inventory-sizes; none without sizes."""
    if not sizes:
        return []
    print("audit --inventory ...", flush=True)
    return section(measure_inventory(sizes))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[50_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    results = measure_inventory(args.sizes, args.repeats)
    print(json.dumps(results, indent=1))
    print("\n".join(section(results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
