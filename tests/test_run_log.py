"""The log tells the story of every run (issue 23): one `start:` line (script, command, the
config file, what it runs against) and one `end:` line (exit status, duration, the caller's
account once known, the result's counts) per run, whatever happens: success, a usage error
after the config loaded, an AWS failure (a real process against an endpoint that refuses every
call), an unexpected exception, Ctrl-C. The account is known only after the first call: it has
an `account:` line of its own, so start and end lines count the runs. DEBUG lines only with
`-v`; a traceback only for an unexpected failure; no line over 1,000 characters."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pytest

from s3replication.commands import permissions
from s3replication.output import runlog
from tests.counting_endpoint import CountingListener, listening, run_process
from tests.shop import run_script, shop_config

listener = pytest.fixture(listening)
LINE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (DEBUG|INFO|WARNING|ERROR) "
                  r"(cr|sr)_replication \w+ .*")


def messages(log: Path) -> list[str]:
    """The log's lines, each a whole record."""
    lines = log.read_text().splitlines()
    assert all(LINE.fullmatch(line) for line in lines), lines
    return lines


def test_every_run_writes_one_start_and_one_end_line(
        tmp_path: Path, moto_clients: Any, listener: CountingListener,
        monkeypatch: pytest.MonkeyPatch) -> None:
    config = str(shop_config(tmp_path))
    log = tmp_path / "replication_logs.txt"

    def run(*argv: str) -> int:
        return run_script("crr", *argv, "--config", config, clients=lambda: moto_clients).status

    statuses = [run("permissions"), run("verify", "--timeout", "-1")]
    statuses.append(run_process("crr", "status", "--config", config,
                                endpoint=listener.url).status)
    monkeypatch.setattr(permissions, "permissions", lambda ctx, args: 1 / 0)
    statuses.append(run("permissions"))

    def interrupted(ctx: Any, args: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(permissions, "permissions", interrupted)
    statuses.append(run("permissions"))
    assert statuses == [0, 2, 1, 1, 130]

    lines = messages(log)
    starts = [line for line in lines if " start: " in line]
    ends = [line for line in lines if " end: " in line]
    assert len(starts) == len(ends) == 5
    assert [int(re.search(r"end: exit (\d+) after [\d.]+ s", e)[1]) for e in ends] == statuses
    commands = [line.split()[3] for line in starts]
    assert commands == ["permissions", "verify", "status", "permissions", "permissions"]
    for line in starts:
        assert f"start: config {Path(config).resolve()}, against " in line
    assert "against AWS" in starts[0] and f"against the endpoint {listener.url}" in starts[2]
    # each run's lines lie between its start and its end
    order = [line for line in lines if " start: " in line or " end: " in line]
    assert [" start: " in line for line in order] == [True, False] * 5
    assert "account 123456789012" in ends[0] and "account not known" in ends[1]
    assert sum(" account: 123456789012" in line for line in lines) == 3
    assert "Traceback" not in "".join(lines[:lines.index(ends[2]) + 1])  # usage, AWS failures
    assert "Traceback" in lines[lines.index(ends[3]) - 1]  # the unexpected one
    assert not any(" DEBUG " in line for line in lines)


def test_the_end_line_carries_the_counts(tmp_path: Path, moto_clients: Any) -> None:
    config = str(shop_config(tmp_path))
    run_script("crr", "plan", "--config", config, clients=lambda: moto_clients)

    end = [line for line in messages(tmp_path / "replication_logs.txt") if " end: " in line]
    assert len(end) == 1
    assert re.search(r"end: exit 3 after [\d.]+ s \(account 123456789012; \d+ changes\)",
                     end[0]), end


def test_debug_lines_only_with_verbose(tmp_path: Path, moto_clients: Any) -> None:
    config = str(shop_config(tmp_path))
    log = tmp_path / "replication_logs.txt"
    run_script("crr", "plan", "--config", config, clients=lambda: moto_clients)
    assert not any(" DEBUG " in line for line in messages(log))

    run_script("crr", "plan", "-v", "--config", config, clients=lambda: moto_clients)
    assert any(" DEBUG " in line for line in messages(log))


def test_no_line_is_longer_than_1000_characters(tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    runlog.setup(log, "cr_replication", "apply")
    try:
        logging.getLogger("s3replication.test").error("%s", "x" * 5000 + "THE END")
    finally:
        runlog.teardown()
    line, = log.read_text().splitlines()
    assert len(line) == 1000 and line.endswith("THE END")
    cut = int(re.search(r"\[\.\.\. (\d+) characters cut \.\.\.\]", line)[1])
    assert len(line) - len(re.search(r" \[\.\.\..*\.\.\.\] ", line)[0]) + cut == len(
        line.split(" ERROR ")[0]) + len(" ERROR cr_replication apply ") + 5007
