"""A run stopped anywhere is finished by the next plain run: killed before any API call
(in-process, for sampled calls), SIGKILLed with requests in flight, interrupted with Ctrl-C;
and two runs at once take turns, writing whole log lines."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from s3replication.aws.clients import Clients
from s3replication.engine import runlock
from tests.converged import assert_converged, clients_for, run, subprocess_env
from tests.faultproxy import FaultProxy
from tests.shop import run_script, shop_config

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = {"crr": ROOT / "cr_replication.py", "srr": ROOT / "sr_replication.py"}
CRASH_EVERY = 3  # sample every 3rd call of a fresh run
CRASH_EVERY_BESIDE = 5  # ... and every 5th of a run beside the other script's
LOG_LINE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (DEBUG|INFO|WARNING|ERROR|CRITICAL) "
                      r"(cr|sr)_replication [a-z]+ \S.*")


class Killed(BaseException):
    """A simulated kill: not an Exception, so nothing in the tool can catch it."""


def killing_before_call(endpoint: str, k: int, error: type[BaseException] = Killed) -> Clients:
    """Clients whose k-th API call (counted across threads) and every later one raises."""
    clients = clients_for(endpoint)()
    lock, made = threading.Lock(), [0]

    def hook(service: str, operation: str, region: str) -> None:
        with lock:
            made[0] += 1
            n = made[0]
        if n >= k:
            raise error(f"killed before call {k} ({service} {operation} {region})")

    clients.on_call(hook)
    return clients


@pytest.fixture
def config(tmp_path: Path) -> str:
    return str(shop_config(tmp_path))


def crash_points(endpoint: str, config: str, kind: str, reset, prepare=(),
                 every: int = CRASH_EVERY) -> list[int]:
    """Every `every`-th call of a run of `kind` after `prepare` (scripts applied first)."""
    reset()
    for earlier in prepare:
        assert run(endpoint, earlier, "apply", "--config", config).status == 0
    total = len(run(endpoint, kind, "apply", "--config", config).calls)
    assert total > 20
    return list(range(1, total + 1, every))


def crash_then_rerun(endpoint: str, config: str, kind: str, reset, points: list[int],
                     prepare=()) -> dict[int, str]:
    """Crash before call k, re-run, check; returns {k: what went wrong} for failing ks."""
    failures: dict[int, str] = {}
    for k in points:
        reset()
        for earlier in prepare:
            assert run(endpoint, earlier, "apply", "--config", config).status == 0
        clients = killing_before_call(endpoint, k)
        try:
            ended = run_script(kind, "apply", "--config", config, clients=lambda c=clients: c)
        except Killed:
            pass
        else:
            # Stages run at once (engine/stages.py), so a run's reads of one bucket's tags are
            # shared or not as they happen to meet: a run may make a few calls fewer than the
            # one sampled, and end before call k. Then nothing was killed.
            assert ended.status == 0 and len(ended.calls) < k, (k, len(ended.calls))
        rerun = run(endpoint, kind, "apply", "--config", config)
        try:
            assert rerun.status == 0, rerun.stdout + rerun.stderr
            assert_converged(endpoint, config, kinds=(*prepare, kind))
        except AssertionError as exc:
            failures[k] = str(exc)[:500]
    return failures


def test_crr_killed_before_any_sampled_call_is_finished_by_a_rerun(
        ministack_endpoint, reset_ministack, config):
    points = crash_points(ministack_endpoint, config, "crr", reset_ministack)
    assert crash_then_rerun(ministack_endpoint, config, "crr", reset_ministack, points) == {}


def test_srr_killed_beside_applied_crr_is_finished_by_a_rerun(
        ministack_endpoint, reset_ministack, config):
    """The shared source and role: a crash of one script must not disturb the other's rules."""
    points = crash_points(ministack_endpoint, config, "srr", reset_ministack, prepare=("crr",),
                          every=CRASH_EVERY_BESIDE)
    failures = crash_then_rerun(ministack_endpoint, config, "srr", reset_ministack, points,
                                prepare=("crr",))
    assert failures == {}


# -- a real process, killed or interrupted with requests in flight ------------------------


def start(kind: str, endpoint: str, config: str, *argv: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(SCRIPT[kind]), "apply", "--config", config,
                             *argv], cwd=ROOT, env=subprocess_env(endpoint),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(proxy: FaultProxy, forwarded: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while proxy.forwarded < forwarded:
        assert proc.poll() is None, f"the run ended first: {proc.communicate()}"
        assert time.monotonic() < deadline, "the run never got that far"
        time.sleep(0.005)


@pytest.mark.parametrize("after", [5, 30, 60], ids=lambda n: f"after-{n}-calls")
def test_sigkill_mid_apply_then_rerun_converges(ministack_endpoint, reset_ministack, config,
                                                 after):
    with FaultProxy(ministack_endpoint, delay=0.05, lifetime=90) as proxy:
        proc = start("crr", proxy.url, config)
        wait_for(proxy, after, proc)
        proc.send_signal(signal.SIGKILL)  # with an answer held back: MiniStack acted
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    rerun = run(ministack_endpoint, "crr", "apply", "--config", config)
    assert rerun.status == 0, rerun.stdout + rerun.stderr
    assert_converged(ministack_endpoint, config, kinds=("crr",))


def test_ctrl_c_mid_apply_exits_130_and_logs_it(ministack_endpoint, reset_ministack, config,
                                                tmp_path):
    # 0.2 s a call: the apply's chain of calls made one after another takes seconds after the
    # 20th request, so the signal lands mid-apply even on a loaded machine (at 0.05 s a run
    # once finished first)
    with FaultProxy(ministack_endpoint, delay=0.2, lifetime=90) as proxy:
        proc = start("crr", proxy.url, config)
        wait_for(proxy, 20, proc)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)

    assert proc.returncode == 130, out + err
    assert "interrupted" in err and "Traceback" not in err
    log = (tmp_path / "replication_logs.txt").read_text()
    assert re.search(r" WARNING cr_replication apply interrupted$", log, re.MULTILINE)
    assert run(ministack_endpoint, "crr", "apply", "--config", config).status == 0
    assert_converged(ministack_endpoint, config, kinds=("crr",))


@pytest.mark.parametrize("k", [1, 10, 40], ids=lambda k: f"before-call-{k}")
def test_keyboard_interrupt_in_process_exits_130(ministack_endpoint, reset_ministack, config,
                                                 tmp_path, k):
    clients = killing_before_call(ministack_endpoint, k, error=KeyboardInterrupt)
    interrupted = run_script("crr", "apply", "--config", config, clients=lambda: clients)

    assert interrupted.status == 130
    assert interrupted.stderr == "interrupted; re-run the same command to finish\n"
    log = (tmp_path / "replication_logs.txt").read_text().splitlines()
    assert log[-2].endswith(" WARNING cr_replication apply interrupted")
    assert " INFO cr_replication apply end: exit 130 after " in log[-1]
    assert run(ministack_endpoint, "crr", "apply", "--config", config).status == 0
    assert_converged(ministack_endpoint, config, kinds=("crr",))


# -- two runs at once --------------------------------------------------------------------


def test_concurrent_runs_take_turns_and_write_whole_log_lines(ministack_endpoint,
                                                              reset_ministack, config, tmp_path):
    with FaultProxy(ministack_endpoint, delay=0.01, lifetime=120) as proxy:
        procs = []
        for kind in ("crr", "srr", "crr"):
            procs.append(start(kind, proxy.url, config, "-v"))
            time.sleep(0.3)
        results = [p.communicate(timeout=150) for p in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, out + err

    lines = (tmp_path / "replication_logs.txt").read_text().splitlines()
    assert [line for line in lines if not LOG_LINE.fullmatch(line)] == []
    # Runs hold the lock from just after "start" and "account" to "end": their other lines
    # never mix.
    scripts = [line.split()[2] for line in lines
               if " start: " not in line and " account: " not in line]
    blocks = [s for n, s in enumerate(scripts) if n == 0 or scripts[n - 1] != s]
    ends = sum(1 for line in lines if " end: exit " in line)
    assert ends == 3 and len(blocks) <= 3, blocks
    assert_converged(ministack_endpoint, config)


def test_second_run_refuses_when_the_lock_is_held_too_long(ministack_endpoint, reset_ministack,
                                                          config, tmp_path, monkeypatch):
    held = runlock.held
    monkeypatch.setattr(runlock, "held", lambda path: held(path, wait_seconds=0.3))
    with held(tmp_path / ".s3replication.lock"):
        refused = run(ministack_endpoint, "crr", "apply", "--config", config)

    assert refused.status == 1
    assert refused.mutating == []
    assert "another run holds" in refused.stderr and "Traceback" not in refused.stderr
    assert oct(os.stat(tmp_path / ".s3replication.lock").st_mode & 0o777) == "0o600"
