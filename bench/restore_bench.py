"""Benchmark of `restore` at scale, on a fresh MiniStack:

- plan from an inventory of N versions (default 1,000,000) with DuckDB: a report of a bucket
  written by the stand-in (inventory/standin.py) with N/2 keys of two versions each (60 %
  unchanged, 20 % overwritten, 10 % deleted, 10 % created since TIME), then
  `cr_replication.py restore --inventory --json` as the script runs (its own process under GNU
  time: wall seconds from start to exit, peak resident memory of everything in it, DuckDB
  included); its counts checked against the rows written. Targets: under 30 s and 1 GiB.
- in-process apply of K keys (default 10,000) at 50 ms per call (bench/latency_proxy.py in
  front of MiniStack): K overwritten keys, their plan made by listing (not timed), then
  restore/apply.py's `apply` timed; side by side with the floor, a bare boto3 loop of the same
  copies (CopyObject of the version at TIME over its key, one call per key) on the same number
  of threads as the apply (apply.WORKERS) over another K keys made the same way. Keys per
  second of both and their ratio, and the calls each sent and their critical path (the
  longest chain of calls made one after another), which do not depend on the machine.
  Target: at least 200 keys per second.

    .venv/bin/python bench/restore_bench.py [--versions N] [--keys K] [--skip-plan|--skip-apply]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.audit_bench import SOURCE_REGION  # noqa: E402
from bench.inventory_audit import Pair, _env  # noqa: E402
from bench.latency_proxy import critical_path, latency_proxy  # noqa: E402
from bench.ministack_server import ministack, run_measured  # noqa: E402
from s3replication import sandbox  # noqa: E402
from s3replication.aws.clients import Clients  # noqa: E402
from s3replication.commands.restore.apply import WORKERS  # noqa: E402
from s3replication.inventory.standin import row  # noqa: E402

TO = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
BEFORE, AFTER = TO - timedelta(hours=2), TO + timedelta(hours=2)
PLAN_SECONDS, PLAN_MIB, KEYS_PER_SECOND = 30.0, 1024.0, 200.0
ETAG = "d41d8cd98f00b204e9800998ecf8427e"


def synthetic(bucket: str, versions: int) -> Iterator[list[str]]:
    """Two rows per key: key % 10 in 0-5 unchanged, 6-7 overwritten, 8 deleted, 9 created."""
    for i in range(versions // 2):
        key, kind = f"orders/{i:08}.json", i % 10
        old, new = f"{i:030x}a0", f"{i:030x}b1"
        if kind <= 5:
            yield row(bucket, key, new, True, False, 10, BEFORE + timedelta(minutes=1), ETAG)
            yield row(bucket, key, old, False, False, 10, BEFORE, ETAG)
        elif kind <= 7:
            yield row(bucket, key, new, True, False, 11, AFTER, "e" + ETAG[1:])
            yield row(bucket, key, old, False, False, 10, BEFORE, ETAG)
        elif kind == 8:
            yield row(bucket, key, new, True, True, modified=AFTER)
            yield row(bucket, key, old, False, False, 10, BEFORE, ETAG)
        else:
            yield row(bucket, key, new, True, False, 10, AFTER, ETAG)
            yield row(bucket, key, old, False, True, modified=BEFORE)


def expected(versions: int) -> dict[str, int]:
    keys = versions // 2
    found = {"unchanged": 0, "overwritten": 0, "deleted": 0, "created": 0}
    for kind in range(10):
        group = ("unchanged" if kind <= 5 else "overwritten" if kind <= 7 else
                 "deleted" if kind == 8 else "created")
        found[group] += len(range(kind, keys, 10))
    return found


def measure_plan(versions: int) -> dict[str, Any]:
    with ministack() as endpoint, tempfile.TemporaryDirectory() as tmp:
        clients = Clients(endpoint_url=endpoint, session=sandbox.sandbox_session())
        pair = Pair(clients, Path(tmp))
        started = time.perf_counter()
        pair.deliver(pair.source, SOURCE_REGION, synthetic(pair.source, versions),
                     when=AFTER + timedelta(hours=1))
        setup = time.perf_counter() - started
        seconds, rss_kib, code, output = run_measured(
            [sys.executable, str(ROOT / "cr_replication.py"), "restore", "--to",
             TO.strftime("%Y-%m-%dT%H:%M:%SZ"), "--bucket", pair.source, "--prefix", "orders/",
             "--inventory", "--max-report", "10", "--json", "--config", str(pair.config)],
            env=_env(endpoint), cwd=str(ROOT))
        data = json.loads(output[output.index("{"):])
        assert code == 3, output[-2000:]
        assert data["counts"] == expected(versions), (data["counts"], expected(versions))
    return {"versions": versions, "setup_seconds": round(setup, 1),
            "seconds": round(seconds, 2), "peak_mib": round(rss_kib / 1024, 1),
            "counts": data["counts"]}


def _two_versions(s3: Any, bucket: str, keys: list[str]) -> tuple[dict[str, str], datetime]:
    """Each key written, then written over; the first version's id by key, and a TIME
    between the two, a clear second from each."""
    def write(key: str) -> tuple[str, str]:
        first = s3.put_object(Bucket=bucket, Key=key, Body=b'{"sku": 1}',
                              ContentType="application/json")["VersionId"]
        return key, str(first)

    with ThreadPoolExecutor(max_workers=16) as pool:
        firsts = dict(pool.map(write, keys))
    time.sleep(1.1)
    to = datetime.now(UTC)
    time.sleep(1.1)
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=b"bad deploy"), keys))
    return firsts, to


def measure_apply(n_keys: int, latency_ms: float) -> dict[str, Any]:
    from s3replication.commands.restore.apply import apply
    from s3replication.commands.restore.listing import versions as listed
    from s3replication.commands.restore.plan import Scope, judge
    from s3replication.config import load_config
    from s3replication.engine.context import Context
    from s3replication.errors import ExitStatus
    from s3replication.output.restore_results import RestoreResult

    with ministack() as server, tempfile.TemporaryDirectory() as tmp:
        direct = Clients(endpoint_url=server, session=sandbox.sandbox_session())
        pair = Pair(direct, Path(tmp))
        s3 = direct.get("s3", SOURCE_REGION)
        ours_keys = [f"orders/{n:06}.json" for n in range(n_keys)]
        floor_keys = [f"floor/{n:06}.json" for n in range(n_keys)]
        firsts, to = _two_versions(s3, pair.source, ours_keys + floor_keys)
        with latency_proxy(server, latency_ms) as (endpoint, proxy):
            clients = Clients(endpoint_url=endpoint, session=sandbox.sandbox_session())
            ctx = Context(config=load_config(pair.config), kind="crr", clients=clients,
                          account="000000000000")
            scope = Scope(pair.source, "orders/")
            plan = judge(listed(s3, pair.source, "orders/"), to,
                         10, pair.source, "orders/")
            assert len(plan.copies) == n_keys, plan.counts
            result = RestoreResult(script="cr_replication.py", status=ExitStatus.OK,
                                   dry_run=False, bucket=pair.source, prefix="orders/",
                                   to=to.isoformat(), counts=plan.counts, samples=plan.samples)
            proxy.reset()
            started = time.perf_counter()
            apply(ctx, scope, plan, result, 10)
            ours = time.perf_counter() - started
            ours_calls = list(proxy.calls)
            assert result.copied == n_keys and not result.failed, result
            proxied = clients.get("s3", SOURCE_REGION)

            def bare(key: str) -> None:
                proxied.copy_object(Bucket=pair.source, Key=key, CopySource={
                    "Bucket": pair.source, "Key": key, "VersionId": firsts[key]})

            proxy.reset()
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=WORKERS) as pool:
                list(pool.map(bare, floor_keys))
            floor = time.perf_counter() - started
            floor_calls = list(proxy.calls)
    return {"keys": n_keys, "latency_ms": latency_ms, "ours_seconds": round(ours, 2),
            "floor_seconds": round(floor, 2), "ours_keys_per_second": round(n_keys / ours, 1),
            "floor_keys_per_second": round(n_keys / floor, 1),
            "ratio": round((n_keys / ours) / (n_keys / floor), 3),
            "ours_calls": len(ours_calls), "floor_calls": len(floor_calls),
            "ours_critical_path": critical_path(ours_calls),
            "floor_critical_path": critical_path(floor_calls)}


def section(plan: dict[str, Any] | None, applied: dict[str, Any] | None) -> list[str]:
    lines = ["", "## Restore at scale", ""]
    if plan:
        lines += [f"Plan from an inventory of {plan['versions']:,} versions (DuckDB), "
                  "`restore --inventory --json` as the script runs, one process under GNU "
                  "time; counts checked against the rows written.", "",
                  "| versions | wall | peak memory | target |", "| --- | --- | --- | --- |",
                  f"| {plan['versions']:,} | {plan['seconds']:.2f} s | "
                  f"{plan['peak_mib']:.0f} MiB | < {PLAN_SECONDS:.0f} s, "
                  f"< {PLAN_MIB:.0f} MiB |", ""]
    if applied:
        met = applied["ours_keys_per_second"] >= KEYS_PER_SECOND
        lines += [f"In-process apply of {applied['keys']:,} overwritten keys at "
                  f"{applied['latency_ms']:.0f} ms per call, against a bare boto3 loop of the "
                  f"same copies (one CopyObject per key, {WORKERS} threads).", "",
                  "| | seconds | keys/s | calls | critical path |",
                  "| --- | --- | --- | --- | --- |",
                  f"| restore apply | {applied['ours_seconds']:.2f} | "
                  f"{applied['ours_keys_per_second']:.0f} | {applied['ours_calls']:,} | "
                  f"{applied['ours_critical_path']:,} |",
                  f"| bare boto3 loop (floor) | {applied['floor_seconds']:.2f} | "
                  f"{applied['floor_keys_per_second']:.0f} | {applied['floor_calls']:,} | "
                  f"{applied['floor_critical_path']:,} |",
                  f"| ratio (restore / floor) | | {applied['ratio']:.3f} | | |", "",
                  f"Target: at least {KEYS_PER_SECOND:.0f} keys/s "
                  f"({'met' if met else 'NOT met'}).",
                  ""]
    return lines


def report_section(versions: int = 1_000_000, keys: int = 10_000,
                   latency_ms: float = 50.0) -> list[str]:
    """bench/run.py's section."""
    print("restore --inventory plan ...", flush=True)
    plan = measure_plan(versions)
    print("restore apply ...", flush=True)
    return section(plan, measure_apply(keys, latency_ms))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=1_000_000)
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--skip-plan", action="store_true")
    parser.add_argument("--skip-apply", action="store_true")
    args = parser.parse_args(argv)
    plan = None if args.skip_plan else measure_plan(args.versions)
    if plan:
        print(json.dumps(plan), flush=True)
    applied = None if args.skip_apply else measure_apply(args.keys, args.latency_ms)
    if applied:
        print(json.dumps(applied), flush=True)
    print("\n".join(section(plan, applied)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
