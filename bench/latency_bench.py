"""`make bench`, at real API latency: our tool and Terraform (default parallelism) through a
loopback proxy that delays every request (bench/latency_proxy.py; 50 ms by default,
`BENCH_LATENCY_MS`), at N = 10 and 50 CRR pairs with the full stack, each on a fresh
MiniStack. Reports apply, no-change apply and plan as ratios to Terraform, and each run's
critical path: the longest chain of calls that ran one after another. Next to them, the floor
(bench/call_floor.py): the same calls our run made, replayed at once by a bare boto3 script.

    .venv/bin/python bench/latency_bench.py [--sizes 10 50] [--latency-ms 50] [--no-terraform]
                                            [--no-floor] [--report PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import peers  # noqa: E402
from bench.call_floor import record, replay  # noqa: E402
from bench.latency_proxy import Proxy, critical_path, latency_proxy  # noqa: E402
from bench.ministack_server import ministack, run_measured  # noqa: E402
from bench.run import env_for, shop_config  # noqa: E402
from bench.terraform_peer import terraform_apply, terraform_init, terraform_plan  # noqa: E402
from bench.terraform_setup import terraform_workdir  # noqa: E402

WORK = ROOT / "bench" / ".work"
REPORT = ROOT / "docs" / "benchmarks-latency.md"
LATENCY_MS = float(os.environ.get("BENCH_LATENCY_MS", "50"))


def children_cpu() -> float:
    """CPU seconds (user and system) of the child processes ended so far."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _ours(command: str, config: Path, endpoint: str, proxy: Proxy) -> dict:
    proxy.reset()
    cpu = children_cpu()
    seconds, rss, code, output = run_measured(
        [sys.executable, str(ROOT / "cr_replication.py"), command, "--config", str(config)],
        env=env_for(endpoint), cwd=str(ROOT))
    return {"seconds": round(seconds, 2), "ok": code in (0, 3), "calls": len(proxy.calls),
            "critical_path": critical_path(proxy.calls), "rss_kib": rss,
            "cpu": round(children_cpu() - cpu, 2),
            "detail": output.strip().splitlines()[0] if output.strip() else ""}


def _measured(m: peers.Measurement, proxy: Proxy) -> dict:
    return {"seconds": round(m.seconds, 2), "ok": m.ok, "calls": len(proxy.calls),
            "critical_path": critical_path(proxy.calls), "rss_kib": m.peak_rss_kib,
            "detail": m.detail}


def ours_at(n: int, latency_ms: float) -> dict:
    with ministack() as server, latency_proxy(server, latency_ms) as (endpoint, proxy):
        config = shop_config(n, Path(tempfile.mkdtemp(prefix="latency-", dir=WORK)) / "c.py")
        return {"apply": _ours("apply", config, endpoint, proxy),
                "no-change apply": _ours("apply", config, endpoint, proxy),
                "plan": _ours("plan", config, endpoint, proxy)}


def terraform_at(n: int, latency_ms: float) -> dict:
    with ministack() as server, latency_proxy(server, latency_ms) as (endpoint, proxy):
        workdir = terraform_workdir(n, endpoint, Path(tempfile.mkdtemp(prefix="tf-", dir=WORK)))
        terraform_init(workdir)
        proxy.reset()
        apply = _measured(terraform_apply(workdir), proxy)
        proxy.reset()
        plan = _measured(terraform_plan(workdir), proxy)
        return {"apply": apply, "plan": plan}


def _replayed(calls: Path, endpoint: str, proxy: Proxy) -> dict:
    proxy.reset()
    cpu = children_cpu()
    seconds = replay(calls, endpoint)
    return {"seconds": round(seconds, 2), "ok": True, "calls": len(proxy.calls),
            "critical_path": critical_path(proxy.calls), "cpu": round(children_cpu() - cpu, 2)}


def floor_at(n: int, latency_ms: float) -> dict:
    """Our runs recorded, then their calls replayed by the bare script (bench/call_floor.py):
    the fresh apply's on a fresh server, the others' on the server they were recorded on."""
    with ministack() as server, latency_proxy(server, latency_ms) as (endpoint, proxy):
        config = shop_config(n, Path(tempfile.mkdtemp(prefix="floor-", dir=WORK)) / "c.py")
        fresh = record("apply", config, endpoint)
        again, plan = record("apply", config, endpoint), record("plan", config, endpoint)
        found = {"no-change apply": _replayed(again, endpoint, proxy),
                 "plan": _replayed(plan, endpoint, proxy),
                 "loopback no-change apply": round(replay(again, server), 2)}
    with ministack() as server, latency_proxy(server, latency_ms) as (endpoint, proxy):
        found["apply"] = _replayed(fresh, endpoint, proxy)
    return found


def ratio(a: dict, b: dict) -> str:
    return f"{a['seconds'] / b['seconds']:.3f}" if a["ok"] and b["ok"] and b["seconds"] else "-"


RUNS = (("apply", "apply"), ("no-change apply", "plan"), ("plan", "plan"))  # ours, Terraform's
EMPTY = {"seconds": 0, "ok": False, "calls": 0, "critical_path": 0, "rss_kib": 0}


def report(results: dict[int, dict], latency_ms: float) -> list[str]:
    lines = [f"At {latency_ms:g} ms per API call (a loopback proxy in front of MiniStack), "
             "ours vs Terraform (default parallelism) and vs the floor (the same calls as ours, "
             "replayed at once by a bare boto3 script), one run; CPU s: the user and system "
             "CPU time of that process:", "",
             "| N | run | ours s | ours CPU s | critical path | calls | Terraform s | "
             "critical path | calls | ratio | floor s | floor CPU s | ours / floor |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for n, found in results.items():
        mine, theirs, floor = found["ours"], found["terraform"], found["floor"]
        for run, peer in RUNS:
            a, b, f = mine[run], theirs[peer], floor[run]
            lines.append(f"| {n} | {run} vs terraform {peer} | {a['seconds']} | "
                         f"{a.get('cpu', '-')} | {a['critical_path']} | {a['calls']} | "
                         f"{b['seconds']} | {b['critical_path']} | {b['calls']} | "
                         f"{ratio(a, b)} | {f['seconds'] if f['ok'] else '-'} | "
                         f"{f.get('cpu', '-')} | {ratio(a, f)} |")
    if len(results) > 1:
        small, large = min(results), max(results)
        applies = [results[n]["ours"]["apply"]["seconds"] for n in (large, small)]
        grow = applies[0] / applies[1]
        lines += ["", f"apply N={large} / apply N={small}: {grow:.2f}"]
    return lines + _floor_lines(results)


def _floor_lines(results: dict[int, dict]) -> list[str]:
    """Below the table: the floor against Terraform, its growth, and without the proxy."""
    measured = {n: found for n, found in results.items() if found["floor"]["apply"]["ok"]}
    if not measured:
        return []
    lines = [""]
    for n, found in measured.items():
        floor, theirs = found["floor"], found["terraform"]
        each = ", ".join(f"{run} / terraform {peer} {ratio(floor[run], theirs[peer])}"
                         for run, peer in RUNS)
        lines.append(f"floor / Terraform, N={n}: {each}")
    if len(measured) > 1:
        small, large = min(measured), max(measured)
        grow = ratio(measured[large]["floor"]["apply"], measured[small]["floor"]["apply"])
        lines.append(f"floor apply N={large} / floor apply N={small}: {grow}")
    for n, found in measured.items():
        lines.append(f"no-change apply floor straight to MiniStack (no proxy, loopback), N={n}: "
                     f"{found['floor']['loopback no-change apply']} s")
    return lines


def _write_report(path: Path, command: str, table: str) -> None:
    """The page's head and table made anew; what follows the table (by hand) kept."""
    kept = ""
    if path.exists():
        old = path.read_text()
        mark = old.find("\n\nEach side ran on")
        kept = old[mark:] if mark >= 0 else ""
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    path.write_text(f"# Benchmarks at API latency\n\nMade by `{command}` ({stamp}).\n\n"
                    f"{table}{kept or chr(10)}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--latency-ms", type=float, default=LATENCY_MS)
    parser.add_argument("--no-terraform", action="store_true")
    parser.add_argument("--no-floor", action="store_true",
                        help="skip the floor (bench/call_floor.py)")
    parser.add_argument("--report", type=Path, default=REPORT,
                        help="where to write the figures (default docs/benchmarks-latency.md)")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    results: dict[int, dict] = {}
    for n in args.sizes:
        results[n] = {"ours": ours_at(n, args.latency_ms)}
        results[n]["terraform"] = ({"apply": EMPTY, "plan": EMPTY} if args.no_terraform
                                   else terraform_at(n, args.latency_ms))
        results[n]["floor"] = ({run: EMPTY for run, _ in RUNS} if args.no_floor
                               else floor_at(n, args.latency_ms))
        print(json.dumps({n: results[n]}, indent=1), file=sys.stderr)
    (WORK / "latency.json").write_text(json.dumps(results, indent=2))
    text = "\n".join(report(results, args.latency_ms))
    print(text)
    command = "python bench/latency_bench.py " + " ".join(sys.argv[1:])
    _write_report(args.report, command.strip(), text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
