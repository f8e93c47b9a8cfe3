"""`plan` lists exactly what `apply` then makes, on a fresh sandbox, for every config the
project ships: the shipped config (both scripts), the failover example and the backup-account
example (issue 23, item 6). Each script runs as a user runs it (`--sandbox`, in a process of
its own, IAM enforced, each account of ACCOUNTS reached with its own keys), with `--json`:
the same number of changes, the same (resource, setting, action) in the same order, and the
same values, but for those a plan cannot know (a new key's ARN, a new access point's alias:
"known after apply", as Terraform shows them).

Why a new key's state and rotation are no change of their own: "Most KMS keys are created in
the Enabled state" (those with imported key material excepted, which the tool never makes:
https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html), and the alias row turns
rotation on (EnableKeyRotation) before the alias exists. Nor are a new Multi-Region Access
Point's buckets: AWS fixes them at its creation
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointRestrictions.html),
and creation sets its first routes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from s3replication import sandbox
from tests.shop import shop_config
from tests.test_sandbox_accounts import RUN_SCRIPT

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = {
    "shipped": (ROOT / "config" / "s3_config.py", ("crr", "srr")),
    "failover": (ROOT / "config" / "examples" / "failover.py", ("crr",)),
    "backup": (ROOT / "config" / "examples" / "backup_account.py", ("crr",)),
}
UNKNOWN = "known after apply"


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    """A sandbox of the test's own: fresh, stopped afterwards."""
    path = tmp_path / "sandbox"
    yield path
    sandbox.stop(path)


def script(state_dir: Path, kind: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """`python cr_replication.py ARGV` (kind "crr") or `sr_replication.py ARGV`, in a new
    process, its sandbox state in `state_dir`."""
    name = "cr_replication.py" if kind == "crr" else "sr_replication.py"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    return subprocess.run([sys.executable, "-c", RUN_SCRIPT.replace("cr_replication.py", name),
                           str(state_dir), *argv], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600, check=False)


def run(state_dir: Path, kind: str, config: Path, command: str) -> tuple[int, dict[str, Any]]:
    """`--sandbox --json --config CONFIG COMMAND`: the exit status and the data printed."""
    done = script(state_dir, kind, "--sandbox", "--json", "--config", str(config), command)
    assert done.stdout.strip(), done.stderr
    return done.returncode, json.loads(done.stdout)


def same_value(planned: Any, made: Any) -> bool:
    """Equal, where the plan knew the value; a value the plan could not know matches any."""
    if isinstance(planned, str) and UNKNOWN in planned:
        return True
    if isinstance(planned, dict) and isinstance(made, dict):
        return planned.keys() == made.keys() and all(
            same_value(planned[k], made[k]) for k in planned)
    if isinstance(planned, list) and isinstance(made, list):
        return len(planned) == len(made) and all(map(same_value, planned, made))
    return bool(planned == made)


def listed(changes: list[dict[str, Any]]) -> list[str]:
    return [f"{c['resource']}: {c['setting']} ({c['action']})" for c in changes]


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_plan_lists_exactly_what_apply_makes(state_dir: Path, name: str,
                                             tmp_path: Path) -> None:
    """Plan, apply, plan again: the first plan's changes are apply's, the second has none."""
    path, kinds = CONFIGS[name]
    config = shop_config(tmp_path, base=path.read_text())
    for kind in kinds:
        plan_status, planned = run(state_dir, kind, config, "plan")
        apply_status, applied = run(state_dir, kind, config, "apply")

        assert (plan_status, apply_status) == (3, 0), applied
        assert listed(planned["changes"]) == listed(applied["changes"])
        for before, after in zip(planned["changes"], applied["changes"], strict=True):
            assert same_value(before["current"], after["current"]), (before, after)
            assert same_value(before["wanted"], after["wanted"]), (before, after)
        again_status, again = run(state_dir, kind, config, "plan")
        assert (again_status, again["changes"]) == (0, []), again
