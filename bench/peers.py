"""The PEER side of ``make bench``: Terraform and the AWS CLI doing the same work as our
scripts, each on its own fresh MiniStack (``bench/ministack_server.py``).  No code of ours is
used but the server start.  This module gathers the peers' API for ``bench/run.py`` and,
run as a script, checks them on their own: ``python bench/peers.py [N ...]``.

Where things are
----------------
``bench/terraform/``       ``main.tf`` + ``variables.tf``: the configuration, static
``terraform_setup.py``     a working directory: the config, ``terraform.tfvars.json``,
                           ``terraformrc`` (offline, provider from the filesystem mirror)
``terraform_peer.py``      ``terraform init`` / ``apply`` / ``plan``, measured; ``terraform_run``
``awscli_sequence.py``     the AWS CLI calls for one pair, as a table of argument lists
``awscli_peer.py``         runs that table, measured; ``aws_cli_run``
``emulator_quirks.py``     MiniStack's account, dummy keys and quirks, and the code that copes
``common.py``              ``Measurement``, Regions, the scratch folder

API
---
``Measurement(seconds, peak_rss_kib, ok, detail, changes, only_known_drift)``
    One measured run (``bench/common.py``).
``terraform_available()``, ``terraform_resource_count(n_pairs)`` (``9 + 18 * N``),
``terraform_workdir(n_pairs, endpoint, workdir, prefix="bench") -> Path``,
``terraform_init(workdir)``, ``terraform_apply(workdir)``, ``terraform_plan(workdir)``
    The Terraform steps.
``terraform_run(n_pairs, workdir=None, plan=True, attempts=3) -> TerraformRun``
    The whole Terraform side for one N on its own fresh MiniStack: write, init, apply, plan;
    redoes the run on a new server when apply hit the connection flake (quirk 4).
    ``TerraformRun(n_pairs, resources, init, apply, plan, attempts)``.  Prefer it.
``is_flake(measurement) -> bool``
    The apply failed only because of quirk 4.
``aws_cli_available()``, ``aws_cli_sequence(endpoint, workdir, prefix="clibench")``,
``aws_cli_run(workdir=None)``
    The same work for ONE pair as 29 separate ``aws`` invocations.
``versions() -> dict``, ``QUIRKS: list[str]``
    For the report.

What both peers create
----------------------
Per Region one KMS key (rotation on) + alias and one SNS topic + policy (S3 and CloudWatch
may publish; the CLI makes only the source Region's topic); one dashboard (two widgets per
pair).  Per pair: source and destination buckets (tags, versioning, SSE-KMS with the
Region's key and Bucket Keys, all four public access blocks, BucketOwnerEnforced, a policy
denying non-TLS access); a replication role (trust s3.amazonaws.com) and its inline policy
(``kms:Decrypt`` on the source key, ``kms:Encrypt`` on the replica key, each with
``kms:ViaService`` and ``kms:EncryptionContext:aws:s3:arn`` conditions); one V2 replication
rule (prefix filter, priority, delete-marker replication, SSE-KMS objects, replica key,
RTC 15 min + metrics); two alarms (OperationsFailedReplication Sum > 0, ReplicationLatency
Maximum >= 900, actions to the source topic); the source bucket's notification of the three
``s3:Replication:*`` events to that topic.  Nothing was dropped for the emulator.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python bench/peers.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.awscli_peer import aws_cli_available, aws_cli_run, aws_cli_sequence
from bench.common import Measurement
from bench.emulator_quirks import QUIRKS, is_flake
from bench.terraform_peer import (
    TerraformRun,
    terraform_apply,
    terraform_init,
    terraform_plan,
    terraform_run,
)
from bench.terraform_setup import (
    mirror,
    terraform_available,
    terraform_resource_count,
    terraform_workdir,
)

__all__ = [
    "Measurement",
    "terraform_available",
    "terraform_workdir",
    "terraform_init",
    "terraform_apply",
    "terraform_plan",
    "terraform_resource_count",
    "TerraformRun",
    "terraform_run",
    "is_flake",
    "aws_cli_run",
    "aws_cli_available",
    "aws_cli_sequence",
    "versions",
    "QUIRKS",
]


def _first_line(cmd: Sequence[str]) -> str:
    try:
        cp = subprocess.run(list(cmd), capture_output=True, text=True, timeout=30,
                            env={**os.environ, "CHECKPOINT_DISABLE": "1"})
    except (OSError, subprocess.TimeoutExpired):
        return "absent"
    text = (cp.stdout or cp.stderr).strip()
    return text.splitlines()[0] if text else "unknown"


def versions() -> dict[str, str]:
    """Versions of the peers' tools, for the report."""
    out: dict[str, str] = {}
    if shutil.which("terraform"):
        out["terraform"] = _first_line(["terraform", "version"])
        m = mirror()
        if m:
            provs = sorted(p.name for p in (m / "registry.terraform.io/hashicorp/aws").iterdir())
            out["terraform-provider-aws"] = ", ".join(provs)
    if shutil.which("aws"):
        out["aws-cli"] = _first_line(["aws", "--version"])
    return out


def _fmt(label: str, m: Measurement) -> str:
    return (
        f"{label:<34} {m.seconds:8.2f} s  {m.peak_rss_mib:7.1f} MiB  "
        f"{'ok ' if m.ok else 'FAIL'}  {m.detail}"
    )


def _check_terraform(n: int) -> bool:
    t0 = time.perf_counter()
    run = terraform_run(n)
    print(_fmt(f"terraform init, N={n}", run.init))
    print(_fmt(f"terraform apply, N={n}", run.apply))
    ok = run.apply.ok
    if run.plan is not None:
        print(_fmt(f"terraform plan, N={n}", run.plan))
        ok &= run.plan.ok
    print(f"  (N={n}: {run.resources} resources, {run.attempts} attempt(s), "
          f"{time.perf_counter() - t0:.1f} s in all)")
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Run the peer side of the benchmark.")
    ap.add_argument("sizes", nargs="*", type=int, default=[1, 10])
    ap.add_argument("--no-cli", action="store_true")
    args = ap.parse_args(argv)

    for k, v in versions().items():
        print(f"{k}: {v}")
    ok = True
    if not args.no_cli and aws_cli_available():
        m = aws_cli_run()
        print(_fmt("aws cli, N=1", m))
        ok &= m.ok
    if not terraform_available():
        print("terraform: not available")
        return 0 if ok else 1
    for n in args.sizes:
        ok &= _check_terraform(n)
    print("quirks:")
    for q in QUIRKS:
        print(" -", q)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
