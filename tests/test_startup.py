"""Start-up budget: a command imports what it uses, nothing more (measured with
`python -X importtime`, https://docs.python.org/3/using/cmdline.html#cmdoption-X). Time itself
is measured by `bench/startup_bench.py`, not here: this machine is too noisy to time tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# what `plan` has no use for: other commands, the sandbox, the inventory audit's engine
NOT_FOR_PLAN = ("duckdb", "s3replication.inventory", "s3replication.sandbox",
                "s3replication.commands.audit", "s3replication.commands.verify",
                "s3replication.commands.backfill", "s3replication.commands.status",
                "s3replication.commands.failover", "s3replication.commands.readiness",
                "s3replication.commands.permissions", "s3replication.commands.inventory_audit")


def imported(*argv: str) -> set[str]:
    """The modules `cr_replication.py ARGV` imports, against an endpoint that refuses."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL="http://127.0.0.1:9", AWS_ACCESS_KEY_ID="x",
               AWS_SECRET_ACCESS_KEY="x", AWS_CONFIG_FILE="/nonexistent",
               AWS_SHARED_CREDENTIALS_FILE="/nonexistent")
    done = subprocess.run([sys.executable, "-X", "importtime", str(ROOT / "cr_replication.py"),
                           *argv], env=env, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL, cwd=str(ROOT))
    return {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines()
            if line.startswith("import time:") and "|" in line}


def test_plan_imports_only_what_it_uses(tmp_path: Path) -> None:
    config = tmp_path / "s3_config.py"
    config.write_text((ROOT / "config" / "s3_config.py").read_text()
                      + f"\nLOG_FILE = {str(tmp_path / 'log.txt')!r}\n")
    modules = imported("plan", "--config", str(config))
    assert "s3replication.engine.stages" in modules  # it did get as far as the plan
    assert not [m for m in modules if m.startswith(NOT_FOR_PLAN)]


def test_help_imports_no_aws_sdk() -> None:
    modules = imported("--help")
    assert "s3replication.cli" in modules
    assert not [m for m in modules if m.split(".")[0] in ("boto3", "botocore", "duckdb")]
