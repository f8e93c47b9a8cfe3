"""Issue 23's smaller things: `--version` on both scripts; a Python without boto3 told how to
run the scripts (not a ModuleNotFoundError); with `--json`, an error leaves
`{"error": ..., "exit": N}` on stdout (usage errors too); `make sandbox-status` on a stopped
sandbox reports it without make failing (exit 3 of the status command is an answer)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from s3replication import cli
from s3replication.commands import permissions
from tests.counting_endpoint import ROOT, CountingListener, listening, run_process
from tests.shop import run_script, shop_config

listener = pytest.fixture(listening)


@pytest.mark.parametrize("script", ["cr_replication.py", "sr_replication.py"])
def test_version(script: str) -> None:
    done = subprocess.run([sys.executable, str(ROOT / script), "--version"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{script} (ecommerce-s3-replication) commit ")
    assert ", boto3 " in done.stdout and ", Python 3." in done.stdout


# botocore and boto3 made unimportable (None in sys.modules), then the script run as __main__
WITHOUT_BOTO3 = ("import runpy, sys; sys.modules['boto3'] = sys.modules['botocore'] = None; "
                 "sys.argv = [sys.argv[1], 'plan']; runpy.run_path(sys.argv[0], "
                 "run_name='__main__')")


@pytest.mark.parametrize("script", ["cr_replication.py", "sr_replication.py"])
def test_a_python_without_boto3_is_told_how(script: str) -> None:
    done = subprocess.run([sys.executable, "-c", WITHOUT_BOTO3, script], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1, done.stderr
    assert f".venv/bin/python {script}" in done.stderr and "make venv" in done.stderr
    assert "Traceback" not in done.stderr and "ModuleNotFoundError" not in done.stderr


def main_json(*argv: str) -> tuple[int, dict[str, Any], str]:
    out, err = io.StringIO(), io.StringIO()
    status = cli.main("crr", list(argv), stdout=out, stderr=err)
    return status, json.loads(out.getvalue()), err.getvalue()


def test_json_usage_errors_leave_a_document_on_stdout(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, found, _ = main_json("plan", "--yes", "--json")
    assert (status, found) == (2, {"error": "unrecognized arguments: --yes", "exit": 2})
    assert "unrecognized arguments: --yes" in capsys.readouterr().err  # argparse's own line

    status, found, _ = main_json("--json", "plan", "--config", str(tmp_path / "none.py"))
    assert status == 2 and found["exit"] == 2 and "cannot read the file" in found["error"]

    config = str(shop_config(tmp_path))
    status, found, err = main_json("--json", "verify", "--timeout", "0", "--config", config)
    assert (status, found["exit"]) == (2, 2) and found["error"] == err.removeprefix(
        "error: ").strip()


def test_json_failures_leave_a_document_on_stdout(tmp_path: Path, moto_clients: Any,
                                                 listener: CountingListener,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    config = str(shop_config(tmp_path))
    done = run_process("crr", "status", "--json", "--config", config, endpoint=listener.url)
    assert done.status == 1 and listener.count > 0
    found = json.loads(done.stdout)
    assert found["exit"] == 1 and "sts:GetCallerIdentity" in found["error"]

    monkeypatch.setattr(permissions, "permissions", lambda ctx, args: 1 / 0)
    bug = run_script("crr", "permissions", "--json", "--config", config,
                     clients=lambda: moto_clients)
    assert bug.status == 1
    assert json.loads(bug.stdout) == {"error": "ZeroDivisionError: division by zero",
                                      "exit": 1}


@pytest.mark.parametrize(("answer", "make_status"), [(3, 0), (0, 0), (1, 2)])
def test_make_sandbox_status_reports_a_stopped_sandbox_without_failing(
        tmp_path: Path, answer: int, make_status: int) -> None:
    """The status command's own answer stands in (PY=a stand-in that prints and exits
    `answer`): 3, not running, is a report, not a failure of make; 1 still is."""
    stand_in = tmp_path / "python"
    stand_in.write_text(f'#!/bin/sh\necho "sandbox not running"\nexit {answer}\n')
    stand_in.chmod(0o755)
    done = subprocess.run(["make", "-o", ".venv/.requirements-installed", "sandbox-status",
                           f"PY={stand_in}"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False, env={**os.environ, "MAKEFLAGS": ""})
    assert done.returncode == make_status, done.stdout + done.stderr
    assert "sandbox not running" in done.stdout
    assert ("Error" in done.stderr) == bool(make_status)
