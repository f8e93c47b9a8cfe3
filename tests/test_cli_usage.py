"""The command line's grammar: each command takes its own options and no other's (exit 2 with
the command's usage line), the shared options go before or after the command, and no command
means apply."""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from s3replication import cli
from s3replication.aws.clients import Clients
from tests.shop import run_script, shop_config

ROOT = Path(__file__).resolve().parent.parent
OWN_OPTIONS = {
    "apply": (), "plan": ("--out",), "status": (), "permissions": (),
    "destroy": ("--yes",), "verify": ("--timeout",),
    "audit": ("--max-report", "--inventory", "--engine"),
    "backfill": ("--yes", "--method", "--job", "--manifest", "--report-bucket", "--max-report"),
    # cr_replication.py only
    "readiness": ("--timeout",), "failover": ("--timeout", "--to", "--yes", "--force"),
    "failback": ("--timeout", "--yes", "--force"),
}
SHARED = ("--config", "--sandbox", "--json", "--verbose")


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[argparse.Namespace]:
    """The arguments each `cli.main` call would run with; nothing is run, no AWS call made."""
    seen: list[argparse.Namespace] = []

    def record(kind: str, args: argparse.Namespace, stdout: Any, stderr: Any) -> int:
        seen.append(args)
        return 0
    monkeypatch.setattr(cli, "run", record)
    return seen


def options_listed(help_text: str) -> set[str]:
    """The long options a --help text lists (`  -v, --verbose  ...` gives --verbose)."""
    return {match.group(1) for match in re.finditer(r"^  (?:-\w, )?(--[\w-]+)", help_text,
                                                    re.MULTILINE)}


def main(*argv: str) -> int:
    return cli.main("crr", list(argv), stdout=io.StringIO(), stderr=io.StringIO())


@pytest.mark.parametrize("argv", [
    ("--json", "plan"), ("plan", "--json"),
    ("--config", "c.py", "-v", "status"), ("status", "--config", "c.py", "-v"),
    ("--sandbox", "verify", "--timeout", "5"), ("verify", "--timeout", "5", "--sandbox"),
    ("--json", "backfill", "--config", "c.py", "--yes"),
], ids=["json-before", "json-after", "config-v-before", "config-v-after", "sandbox-before",
        "sandbox-after", "json-before-config-after"])
def test_shared_options_before_or_after_the_command(parsed, argv) -> None:
    assert main(*argv) == 0
    args = vars(parsed[0])
    given = {"--json": "json", "--sandbox": "sandbox", "-v": "verbose"}
    assert {dest for flag, dest in given.items() if flag in argv} == {
        dest for dest in given.values() if args[dest]}
    assert args["config"] == (Path("c.py") if "--config" in argv else None)
    assert args["command"] == next(a for a in argv if a in OWN_OPTIONS)


@pytest.mark.parametrize("argv", [(), ("--sandbox",), ("--config", "c.py", "--json")],
                         ids=["bare", "sandbox", "config-json"])
def test_no_command_applies(parsed, argv) -> None:
    assert main(*argv) == 0
    assert parsed[0].command == "apply"


def test_a_flag_before_its_command_still_counts(parsed) -> None:
    assert main("--yes", "destroy") == 0
    assert parsed[0].command == "destroy" and parsed[0].yes is True


def test_command_options_and_their_defaults(parsed) -> None:
    assert main("backfill", "--method", "copy", "--max-report", "3", "--job", "j-1") == 0
    assert main("verify") == 0
    backfill, verify = vars(parsed[0]), vars(parsed[1])
    assert {k: backfill[k] for k in ("yes", "method", "job", "report_bucket", "max_report")} == {
        "yes": False, "method": "copy", "job": "j-1", "report_bucket": None, "max_report": 3}
    assert verify["timeout"] is None and "yes" not in verify and "max_report" not in verify


@pytest.mark.parametrize("argv", [
    ("plan", "--yes"), ("status", "--job", "X"), ("apply", "--yes"),
    ("verify", "--max-report", "3"), ("audit", "--timeout", "1"),
    ("permissions", "--method", "copy"), ("--yes",),
], ids=["plan-yes", "status-job", "apply-yes", "verify-max-report", "audit-timeout",
        "permissions-method", "no-command-yes"])
def test_an_option_the_command_does_not_take_is_a_usage_error(parsed, capsys, argv) -> None:
    assert main(*argv) == 2
    assert parsed == []
    command = next((a for a in argv if a in OWN_OPTIONS), "apply")
    err = capsys.readouterr().err
    assert err.startswith(f"usage: cr_replication.py {command} ")
    assert f"cr_replication.py {command}: error: unrecognized arguments: " in err


@pytest.mark.parametrize("command", sorted(OWN_OPTIONS))
def test_each_command_help_shows_only_its_options(parsed, capsys, command) -> None:
    assert main(command, "--help") == 0
    assert parsed == []
    shown = capsys.readouterr().out
    assert shown.startswith(f"usage: cr_replication.py {command} ")
    assert options_listed(shown) == {"--help", *SHARED, *OWN_OPTIONS[command]}


def test_verify_help_mentions_timeout_not_job(capsys) -> None:
    assert main("verify", "--help") == 0
    shown = capsys.readouterr().out
    assert "--timeout" in shown and "--job" not in shown


def test_script_help_lists_the_commands_and_no_command_option(capsys) -> None:
    assert main("--help") == 0
    shown = capsys.readouterr().out
    assert all(command in shown for command in OWN_OPTIONS)
    assert "COMMAND --help" in shown
    assert options_listed(shown) == {"--help", "--version", *SHARED}


def test_the_script_itself_exits_2_with_a_usage_line() -> None:
    done = subprocess.run([sys.executable, "sr_replication.py", "plan", "--yes"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("usage: sr_replication.py plan ")
    assert "unrecognized arguments: --yes" in done.stderr


@pytest.mark.parametrize("argv", [("--help",), ("plan", "--help"), ("plan", "--yes"),
                                  ("plan", "--config", "config/nonexistent.py")])
def test_the_script_ends_at_once_with_its_whole_output_and_status(capsys, argv) -> None:
    """cli.script ends the process with os._exit: what main wrote must all reach the pipe,
    and the status must be main's, the same as in this process."""
    expected = cli.main("crr", list(argv))  # to sys.stdout and sys.stderr, as captured
    shown = capsys.readouterr()
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    done = subprocess.run([sys.executable, "cr_replication.py", *argv], cwd=ROOT, env=buffered,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert (done.returncode, done.stdout, done.stderr) == (expected, shown.out, shown.err)
    assert done.stdout or done.stderr


def test_json_before_or_after_the_command_prints_the_same_plan(moto_clients, tmp_path) -> None:
    config = str(shop_config(tmp_path))
    before = run_script("srr", "--json", "plan", "--config", config, clients=Clients)
    after = run_script("srr", "plan", "--config", config, "--json", clients=Clients)
    assert (before.status, after.status) == (3, 3), before.stderr + after.stderr
    assert json.loads(before.stdout) == json.loads(after.stdout)
    assert json.loads(before.stdout)["command"] == "plan"
    assert [c for c in before.calls if c[1].startswith(("Put", "Create"))] == []
