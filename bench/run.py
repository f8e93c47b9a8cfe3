"""`make bench`: this tool side by side with Terraform and the AWS CLI, on fresh MiniStack
servers, in one run; writes docs/benchmarks.md.

Every comparison is a ratio taken in the same run (these machines are noisy):
- apply of N CRR pairs (KMS, buckets with every setting, role, RTC rule, alarms,
  notifications, dashboard) vs `terraform apply` of the equivalent configuration;
- no-change apply and plan vs `terraform plan`;
- N = 1 apply vs the same calls made one by one with the AWS CLI;
- peak memory (GNU time -v) of each;
- API calls per pair, read and mutating, counted by a botocore event hook;
- audit vs a bare listing of both buckets' versions, and verify latency.

Sizes: BENCH_SIZES="1 10 50" (default); BENCH_AUDIT_SIZES="5000 50000"; or the options
--sizes, --audit-sizes (and --report PATH); --inventory-sizes N M adds `audit --inventory`
(bench/inventory_audit.py), e.g. 50000 1000000. The quickest whole run:

    .venv/bin/python bench/run.py --sizes 1 --audit-sizes --report bench/.work/benchmarks.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import peers  # noqa: E402
from bench.ministack_server import ministack, run_measured  # noqa: E402

WORK = ROOT / "bench" / ".work"
REPORT = ROOT / "docs" / "benchmarks.md"
SIZES = [int(n) for n in os.environ.get("BENCH_SIZES", "1 10 50").split()]
AUDIT_SIZES = [int(n) for n in os.environ.get("BENCH_AUDIT_SIZES", "5000 50000").split()]


def shop_config(n_pairs: int, path: Path) -> Path:
    """N CRR pairs like Terraform's: us-east-1 -> us-west-2, one KMS key per Region."""
    buckets, rules = {}, []
    for i in range(n_pairs):
        buckets[f"bench-src-{i}"] = {"region": "us-east-1", "kms_key": "alias/bench-use1"}
        buckets[f"bench-dst-{i}"] = {"region": "us-west-2", "kms_key": "alias/bench-usw2"}
        rules.append({"id": f"pair-{i}", "source": f"bench-src-{i}",
                      "destination": f"bench-dst-{i}", "prefix": "data/"})
    path.write_text(
        f"TAGS = {{'project': 'bench'}}\nBUCKETS = {buckets!r}\nCRR_RULES = {rules!r}\n"
        "SRR_RULES = []\nMONITORING = {'sns_topic': 'bench-alerts', 'dashboard': 'bench'}\n"
        f"LOG_FILE = {str(path.parent / 'replication_logs.txt')!r}\n")
    return path


def env_for(endpoint: str) -> dict[str, str]:
    """The environment of a measured run: this one, at `endpoint`, with bench keys. Python
    caches compiled modules as a user's would (a shell that sets PYTHONDONTWRITEBYTECODE
    would make every run compile the tool anew, while Terraform's binary is compiled once)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
               AWS_DEFAULT_REGION="us-east-1")
    return env


def ours(command: str, config: Path, endpoint: str) -> peers.Measurement:
    seconds, rss, code, output = run_measured(
        [sys.executable, str(ROOT / "cr_replication.py"), command, "--config", str(config)],
        env=env_for(endpoint), cwd=str(ROOT))
    ok = code == 0
    detail = output.strip().splitlines()[0] if ok else output[-500:]
    return peers.Measurement(seconds, rss, ok, detail)


def count_calls(config: Path, endpoint: str) -> dict[str, int]:
    """API calls of a fresh apply and of a no-change apply, in this process."""
    urllib.request.urlopen(urllib.request.Request(endpoint + "/_ministack/reset", method="POST"))
    os.environ.update(env_for(endpoint))
    from s3replication.aws.clients import Clients
    from tests.shop import run_script

    fresh = run_script("crr", "apply", "--config", str(config), clients=Clients)
    again = run_script("crr", "apply", "--config", str(config), clients=Clients)
    return {"apply_reads": len(fresh.calls) - len(fresh.mutating),
            "apply_writes": len(fresh.mutating),
            "no_change_reads": len(again.calls) - len(again.mutating),
            "no_change_writes": len(again.mutating)}


def measure_size(n: int) -> dict:
    row: dict = {"n": n}
    with tempfile.TemporaryDirectory(dir=_ensure(WORK)) as tmp:
        config = shop_config(n, Path(tmp) / "s3_config.py")
        with ministack() as endpoint:
            row["apply"] = ours("apply", config, endpoint)
            row["no_change"] = ours("apply", config, endpoint)
            row["plan"] = ours("plan", config, endpoint)
            row["calls"] = count_calls(config, endpoint)
    if peers.terraform_available():
        terraform = peers.terraform_run(n, WORK / f"tf-{n}")
        row["tf_apply"], row["tf_plan"] = terraform.apply, terraform.plan
        row["tf_attempts"] = terraform.attempts
    return row


def measure_verify() -> dict | None:
    with tempfile.TemporaryDirectory(dir=_ensure(WORK)) as tmp:
        config = shop_config(1, Path(tmp) / "s3_config.py")
        with ministack() as endpoint:
            if not ours("apply", config, endpoint).ok:
                return None
            seconds, rss, code, output = run_measured(
                [sys.executable, str(ROOT / "cr_replication.py"), "verify", "--json",
                 "--config", str(config)], env=env_for(endpoint), cwd=str(ROOT))
    try:
        data = json.loads(output[output.index("{"):])
    except ValueError:
        return {"seconds": seconds, "exit": code, "latencies": []}
    latencies = [r.get("latency_seconds") for r in data.get("rules", [])]
    return {"seconds": seconds, "exit": code, "latencies": latencies}


def measure_audits(sizes: list[int]) -> list[dict]:
    try:
        from bench.audit_bench import measure_audit
    except ImportError:
        return []
    results = []
    for n in sizes:
        with ministack() as endpoint:
            results.append({"n": n, **measure_audit(endpoint, n)})
    return results


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def ratio(a: peers.Measurement | None, b: peers.Measurement | None) -> str:
    if not a or not b or not a.ok or not b.ok or not b.seconds:
        return "n/a"
    return f"{a.seconds / b.seconds:.3f}"


def mem_ratio(a: peers.Measurement | None, b: peers.Measurement | None) -> str:
    if not a or not b or not b.peak_rss_kib:
        return "n/a"
    return f"{a.peak_rss_kib / b.peak_rss_kib:.3f}"


def fmt(m: peers.Measurement | None) -> str:
    if m is None:
        return "n/a"
    return f"{m.seconds:.2f} s, {m.peak_rss_mib:.0f} MiB" + ("" if m.ok else " (FAILED)")


def _header(started: float) -> list[str]:
    lines = ["# Benchmarks", "",
             "Made by `make bench` (`python bench/run.py`) on fresh MiniStack servers, this tool "
             "and its peers side by side in one run. Ratios are ours / peer's: below 1 is faster "
             "or smaller.", "",
             f"- machine: {platform.machine()}, {os.cpu_count()} cores, Python "
             f"{platform.python_version()}, {platform.platform()}",
             f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; whole run "
             f"{time.time() - started:.0f} s"]
    return lines + [f"- {k}: {v}" for k, v in peers.versions().items()]


def _terraform_table(rows: list[dict]) -> list[str]:
    lines = ["", "## Apply, no-change apply and plan vs Terraform", "",
             "| N pairs | ours: apply | terraform apply | ratio | ours: no-change apply | "
             "ours: plan | terraform plan | no-change / tf plan | plan / tf plan | "
             "peak memory ours / tf (apply) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        lines.append(
            f"| {row['n']} | {fmt(row['apply'])} | {fmt(row.get('tf_apply'))} | "
            f"{ratio(row['apply'], row.get('tf_apply'))} | {fmt(row['no_change'])} | "
            f"{fmt(row['plan'])} | {fmt(row.get('tf_plan'))} | "
            f"{ratio(row['no_change'], row.get('tf_plan'))} | "
            f"{ratio(row['plan'], row.get('tf_plan'))} | "
            f"{mem_ratio(row['apply'], row.get('tf_apply'))} |")
    return lines


def _calls_table(rows: list[dict]) -> list[str]:
    lines = ["", "## API calls per pair (botocore event counter)", "",
             "| N pairs | apply: reads / pair | apply: writes / pair | no-change: reads / pair | "
             "no-change: writes | no-change reads / managed bucket |",
             "| --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        c, n = row["calls"], row["n"]
        lines.append(f"| {n} | {c['apply_reads'] / n:.1f} | {c['apply_writes'] / n:.1f} | "
                     f"{c['no_change_reads'] / n:.1f} | {c['no_change_writes']} | "
                     f"{c['no_change_reads'] / (2 * n):.1f} |")
    return lines


def _targets_at_10(by_n: dict[int, dict]) -> list[str]:
    r = by_n[10]
    lines = [f"| apply vs terraform apply (N=10) | <= 0.10 | "
             f"{ratio(r['apply'], r.get('tf_apply'))} |",
             f"| no-change apply vs terraform plan (N=10) | <= 0.05 | "
             f"{ratio(r['no_change'], r.get('tf_plan'))} |",
             f"| plan vs terraform plan (N=10) | <= 0.05 | "
             f"{ratio(r['plan'], r.get('tf_plan'))} |",
             f"| peak memory vs terraform apply (N=10) | <= 0.25 | "
             f"{mem_ratio(r['apply'], r.get('tf_apply'))} |",
             f"| read calls per managed bucket, no-change (N=10) | <= 10 | "
             f"{r['calls']['no_change_reads'] / 20:.1f} |"]
    if 50 in by_n:
        lines.append(f"| apply N=50 vs apply N=10 | <= 3 | "
                     f"{ratio(by_n[50]['apply'], r['apply'])} |")
    return lines


def _targets(rows: list[dict], cli: peers.Measurement | None, audits: list[dict]) -> list[str]:
    by_n = {row["n"]: row for row in rows}
    lines = ["", "## Targets", "", "| comparison | target | measured |", "| --- | --- | --- |"]
    if 10 in by_n:
        lines += _targets_at_10(by_n)
    if 1 in by_n:
        lines.append(f"| apply N=1 vs AWS CLI, same calls | <= 0.10 | "
                     f"{ratio(by_n[1]['apply'], cli)} ({fmt(cli)} for the CLI) |")
    for audit in audits:
        lines.append(f"| audit vs bare listing, {audit['n']} objects | <= 1.5 | "
                     f"{audit.get('ratio', 'n/a'):.2f} |" if isinstance(audit.get("ratio"), float)
                     else f"| audit vs bare listing, {audit['n']} objects | <= 1.5 | n/a |")
    return lines


def _audit_and_verify(audits: list[dict], verify: dict | None) -> list[str]:
    lines: list[str] = []
    if audits:
        lines += ["", "## Audit vs bare listing", "", "| objects | audit | bare listing | ratio | "
                  "audit peak memory |", "| --- | --- | --- | --- | --- |"]
        for a in audits:
            lines.append(f"| {a['n']} | {a.get('audit_seconds', 0):.2f} s | "
                         f"{a.get('listing_seconds', 0):.2f} s | {a.get('ratio', 0):.2f} | "
                         f"{a.get('peak_memory_mib', 0):.1f} MiB |")
    if verify:
        lat = [x for x in verify["latencies"] if isinstance(x, (int, float))]
        lines += ["", "## Verify", "",
                  f"`verify` on one RTC rule in the sandbox: exit {verify['exit']}, whole command "
                  f"{verify['seconds']:.2f} s, replication latency "
                  f"{', '.join(f'{x:.3f} s' for x in lat) or 'n/a'} (MiniStack replicates "
                  "synchronously, so this measures the tool's round trip, not S3's)."]
    return lines


def report(rows: list[dict], cli: peers.Measurement | None, verify: dict | None,
           audits: list[dict], started: float, inventory: list[str] | None = None) -> str:
    lines = _header(started) + _terraform_table(rows) + _calls_table(rows)
    lines += _targets(rows, cli, audits) + _audit_and_verify(audits, verify) + (inventory or [])
    lines += ["", "## Notes", ""] + [f"- Terraform on MiniStack: {q}" for q in peers.QUIRKS]
    lines += ["", "Reproduce: `make bench` (or `BENCH_SIZES=\"1 10\" make bench` for a shorter "
              "run)."]
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="Run the side-by-side benchmark, write its report.")
    ap.add_argument("--sizes", type=int, nargs="+", default=SIZES, metavar="N",
                    help="N pairs to measure (default: $BENCH_SIZES or 1 10 50)")
    ap.add_argument("--audit-sizes", type=int, nargs="*", default=AUDIT_SIZES, metavar="N",
                    help="objects for the audit benchmark, none when given no value "
                         "(default: $BENCH_AUDIT_SIZES or 5000 50000)")
    ap.add_argument("--inventory-sizes", type=int, nargs="*", default=[], metavar="N",
                    help="audit --inventory: the smallest N as objects, side by side with the "
                         "listing audit; larger ones as inventory files only (default: none)")
    ap.add_argument("--report", type=Path, default=REPORT,
                    help="where to write the report (default: docs/benchmarks.md)")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.time()
    rows = []
    for n in args.sizes:
        print(f"N={n} ...", flush=True)
        rows.append(measure_size(n))
    print("AWS CLI ...", flush=True)
    cli = peers.aws_cli_run() if 1 in args.sizes and peers.aws_cli_available() else None
    print("verify ...", flush=True)
    verify = measure_verify()
    print("audit ...", flush=True)
    audits = measure_audits(args.audit_sizes)
    from bench.inventory_audit import report_section  # nothing without --inventory-sizes
    text = report(rows, cli, verify, audits, started, report_section(args.inventory_sizes))
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
