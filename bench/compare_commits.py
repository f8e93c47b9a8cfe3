"""Two commits of the tool side by side at API latency: for each, on a fresh MiniStack behind
the latency proxy (bench/latency_proxy.py), a fresh apply, a no-change apply and a plan of N
CRR pairs; the commits alternate, first one then the other, `--runs` times, so that both see
the same machine. Prints the median seconds of each run, and the calls and critical path.

    .venv/bin/python bench/compare_commits.py BEFORE AFTER [--size 10] [--latency-ms 50]
                                                            [--runs 3]

Each commit is checked out in a worktree under bench/.work (removed at the end) and run with
this checkout's Python.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.latency_proxy import Proxy, critical_path, latency_proxy  # noqa: E402
from bench.ministack_server import ministack  # noqa: E402
from bench.run import env_for, shop_config  # noqa: E402

WORK = ROOT / "bench" / ".work"
RUNS = (("apply", "apply"), ("no-change apply", "apply"), ("plan", "plan"))


def _timed(tree: Path, command: str, config: Path, endpoint: str, proxy: Proxy) -> dict:
    proxy.reset()
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(tree / "cr_replication.py"), command,
                           "--config", str(config)], env=env_for(endpoint), cwd=str(tree),
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 3):
        raise SystemExit(f"{tree}: {command} exited {done.returncode}:\n{done.stderr[-800:]}")
    return {"seconds": seconds, "calls": len(proxy.calls),
            "critical_path": critical_path(proxy.calls)}


def one_round(tree: Path, size: int, latency_ms: float) -> dict[str, dict]:
    with ministack() as server, latency_proxy(server, latency_ms) as (endpoint, proxy):
        config = shop_config(size, Path(tempfile.mkdtemp(prefix="compare-", dir=WORK)) / "c.py")
        return {name: _timed(tree, command, config, endpoint, proxy) for name, command in RUNS}


def worktree(commit: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix="tree-", dir=WORK))
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--force", str(path),
                    commit], check=True, capture_output=True)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commits", nargs=2)
    parser.add_argument("--size", type=int, default=10)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    trees = {commit: worktree(commit) for commit in args.commits}
    found: dict[str, list[dict[str, dict]]] = {commit: [] for commit in args.commits}
    try:
        for n in range(args.runs):
            order = args.commits if n % 2 == 0 else args.commits[::-1]
            for commit in order:
                found[commit].append(one_round(trees[commit], args.size, args.latency_ms))
    finally:
        for tree in trees.values():
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                           capture_output=True)
    print(f"N={args.size}, {args.latency_ms:g} ms per call, median of {args.runs} (calls, "
          "critical path):")
    for commit, rounds in found.items():
        cells = []
        for name, _ in RUNS:
            seconds = statistics.median(r[name]["seconds"] for r in rounds)
            cells.append(f"{name} {seconds:.2f} s ({rounds[0][name]['calls']}, "
                         f"{rounds[0][name]['critical_path']})")
        print(f"  {commit}: " + "; ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
