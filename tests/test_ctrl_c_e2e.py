"""Ctrl-C stops every long command at once: the real script as a process against MiniStack,
one SIGINT in its long wait or its work, and the process ends within 2 s with exit 130, no
traceback, "interrupted" in the log, and nothing of its own left behind (the canary).

What AWS does, and these tests rely on:
- a rule replicates only the objects its filter selects, and a disabled rule none
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-add-config.html): the
  canary of such a rule never replicates, so verify and readiness wait their whole timeout;
- deleting one object version by id removes it for good and is not replicated
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeletingObjectVersions.html,
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html):
  the canary's removal leaves no version behind.
"""

from __future__ import annotations

import csv
import json
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

from s3replication.resources.canary_expiry import CANARY_FOLDER
from tests.converged import subprocess_env
from tests.faultproxy import FaultProxy
from tests.replicas import World
from tests.test_failover_e2e import Shop, applied

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = {"crr": ROOT / "cr_replication.py", "srr": ROOT / "sr_replication.py"}
STOP_WITHIN = 2.0  # seconds from the first Ctrl-C to the end of the process


class Running:
    """The script as a process; its stderr read line by line on a thread."""

    def __init__(self, kind: str, endpoint: str, config: Path, *argv: str):
        self.proc = subprocess.Popen(
            [sys.executable, str(SCRIPT[kind]), *argv, "--config", str(config)], cwd=ROOT,
            env=subprocess_env(endpoint), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        self.lines: list[str] = []
        self.stdout = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)

    @property
    def stderr(self) -> str:
        return "".join(self.lines)

    def wait_for(self, seen: object, limit: float = 25.0) -> None:
        """Until `seen()` is true (the run reached its long wait)."""
        deadline = time.monotonic() + limit
        while not seen():  # type: ignore[operator]
            assert self.proc.poll() is None, f"the run ended first: {self.stderr}"
            assert time.monotonic() < deadline, f"the run never got there: {self.stderr}"
            time.sleep(0.05)

    def interrupt(self) -> float:
        """One SIGINT; the seconds until the process ended (killed after 15 s)."""
        sent = time.monotonic()
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"still running 15 s after Ctrl-C: {self.stderr}")
        took = time.monotonic() - sent
        self._reader.join(timeout=5)
        assert self.proc.stdout is not None
        self.stdout = self.proc.stdout.read()
        return took

    def waiting_line(self, label: str) -> bool:
        return any(line.startswith(f"waiting: {label}") for line in self.lines)


def assert_stopped(run: Running, took: float, log_file: Path) -> None:
    print(f"ended {took:.2f} s after Ctrl-C")  # the figure, with pytest -s
    assert took < STOP_WITHIN, f"{took:.1f} s after Ctrl-C: {run.stderr}"
    assert run.proc.returncode == 130, run.stdout + run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    assert "interrupted; re-run the same command to finish" in run.stderr
    assert re.search(r" WARNING \S+ \S+ interrupted$", log_file.read_text(), re.MULTILINE)


@pytest.fixture
def world(ministack_endpoint: str, reset_ministack, tmp_path: Path) -> World:
    made = World.make(ministack_endpoint, tmp_path)
    made.apply("srr")
    return made


def test_verify_stops_in_its_canary_wait_and_removes_the_canary(world: World) -> None:
    """customers-backup disabled: its canary never replicates and verify would wait 120 s;
    the wait shows on stderr, a pipe here (a line every 10 s, the first after 3 s)."""
    source = "shopco-data-use1"
    s3 = world.s3(source)
    configuration = s3.get_bucket_replication(Bucket=source)["ReplicationConfiguration"]
    for rule in configuration["Rules"]:
        if rule["ID"] == "customers-backup":
            rule["Status"] = "Disabled"
    s3.put_bucket_replication(Bucket=source, ReplicationConfiguration=configuration)

    run = Running("srr", world.endpoint, world.config_path, "verify", "--timeout", "120")
    run.wait_for(lambda: run.waiting_line(
        f"canary {source} -> shopco-data-use1-backup: its replica: "))
    assert world.versions(source, f"customers/{CANARY_FOLDER}")  # written, waited for
    took = run.interrupt()

    assert_stopped(run, took, Path(world.config.log_file))
    assert re.search(r"its replica: \d+ s of up to 120 s", run.stderr), run.stderr
    assert world.versions(source, f"customers/{CANARY_FOLDER}") == []
    assert world.versions("shopco-data-use1-backup", f"customers/{CANARY_FOLDER}") == []
    assert "rule customers-backup: interrupted; canary customers/" in \
        Path(world.config.log_file).read_text()


@pytest.mark.parametrize("command", [("readiness",), ("failover", "--yes")],
                         ids=["readiness", "failover"])
def test_readiness_and_failover_stop_in_the_canary_wait(
        ministack_endpoint: str, reset_ministack, tmp_path: Path, unique_name,
        command: tuple[str, ...]) -> None:
    """west -> east selects nothing the canary is: its canary waits (in the main thread)."""
    shop = Shop(tmp_path, ministack_endpoint, unique_name("shop"), unique_name("east"),
                unique_name("west"), unique_name("third"))
    shop.write_config()
    applied(shop)
    west = shop.clients().get("s3", "us-west-2")
    rules = west.get_bucket_replication(Bucket=shop.west)["ReplicationConfiguration"]
    rules["Rules"][0]["Filter"] = {"Prefix": "nothing-is-written-here/"}
    west.put_bucket_replication(Bucket=shop.west, ReplicationConfiguration=rules)
    argv = [command[0], shop.point, *(["--to", shop.west] if command[0] == "failover" else []),
            *command[1:], "--timeout", "120"]

    run = Running("crr", ministack_endpoint, tmp_path / "s3_config.py", *argv)
    run.wait_for(lambda: run.waiting_line(f"canary {shop.west} -> {shop.east}: its replica"))
    took = run.interrupt()

    assert_stopped(run, took, tmp_path / "replication_logs.txt")
    left = west.list_object_versions(Bucket=shop.west, Prefix=CANARY_FOLDER)
    assert left.get("Versions", []) + left.get("DeleteMarkers", []) == []
    assert shop.routes() == {shop.east: 100, shop.west: 0}  # no failover half made


def never_replicated(endpoint: str, tmp_path: Path, keys: list[str]) -> World:
    """The shipped config's first SRR rule applied, and `keys` written into its source while
    the rule was disabled: in the source, never in the replica."""
    world = World.make(endpoint, tmp_path, "SRR_RULES = SRR_RULES[:1]")
    world.apply("srr")
    source = "shopco-data-use1"
    s3 = world.s3(source)
    configuration = s3.get_bucket_replication(Bucket=source)["ReplicationConfiguration"]
    enabled = json.loads(json.dumps(configuration))
    for rule in configuration["Rules"]:
        rule["Status"] = "Disabled"
    s3.put_bucket_replication(Bucket=source, ReplicationConfiguration=configuration)
    world.put_many(source, keys)
    s3.put_bucket_replication(Bucket=source, ReplicationConfiguration=enabled)
    return world


def test_audit_stops_with_its_reads_under_way(ministack_endpoint: str, reset_ministack,
                                              tmp_path: Path) -> None:
    """One rule (audited in the main thread), 40 objects written while it was disabled (never
    replicated: a HEAD each), every answer held back 1.5 s: the audit's reads are under way
    when Ctrl-C comes; they are not waited for."""
    world = never_replicated(ministack_endpoint, tmp_path,
                             [f"customers/{n}.json" for n in range(40)])
    with FaultProxy(world.endpoint, delay=1.5, lifetime=60) as proxy:
        run = Running("srr", proxy.url, world.config_path, "audit")
        run.wait_for(lambda: proxy.forwarded >= 6, limit=40)
        took = run.interrupt()
    assert_stopped(run, took, Path(world.config.log_file))


def test_backfill_stops_with_its_copies_under_way(ministack_endpoint: str, reset_ministack,
                                                  tmp_path: Path) -> None:
    """200 objects written while the rule was disabled (never replicated: backfill copies each
    in place, a HEAD then a CopyObject), every answer held back 1.5 s: Ctrl-C once the first
    copies are made; no copy starts after it, the calls under way are not waited for, and the
    run ends."""
    keys = [f"customers/{n:03}.json" for n in range(200)]
    world = never_replicated(ministack_endpoint, tmp_path, keys)
    source = "shopco-data-use1"

    def copies_made() -> int:
        return len(world.versions(source, "customers/")) - len(keys)

    with FaultProxy(world.endpoint, delay=1.5, lifetime=90) as proxy:
        run = Running("srr", proxy.url, world.config_path, "backfill", "--method", "copy",
                      "--yes")
        run.wait_for(lambda: copies_made() > 0, limit=60)
        took = run.interrupt()

    assert_stopped(run, took, Path(world.config.log_file))
    assert 0 < copies_made() < len(keys), "stopped half-way: no copy started after Ctrl-C"


def test_restore_apply_stops_and_lists_every_change_it_made(
        ministack_endpoint: str, reset_ministack, tmp_path: Path) -> None:
    """Every answer held back 0.6 s, 200 keys to copy back: on Ctrl-C no key starts, the copies
    under way end and are listed, and the run ends; each listed version is there."""
    world = World.make(ministack_endpoint, tmp_path)
    world.apply("crr")
    keys = [f"catalog/{n:03}.json" for n in range(200)]
    put_all(world, keys, b"good")
    time.sleep(1.1)
    when = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    time.sleep(1.1)
    put_all(world, keys, b"ENCRYPTED BY RANSOMWARE")  # the bad change
    bad = current_versions(world)

    with FaultProxy(ministack_endpoint, delay=0.6, lifetime=90) as proxy:
        run = Running("crr", proxy.url, world.config_path, "restore", "--to", when,
                      "--rule", "catalog-usw2", "--yes")
        run.wait_for(lambda: any(len(p.read_text().splitlines()) > 1
                                 for p in tmp_path.glob("restore-*.csv")), limit=40)
        took = run.interrupt()

    assert_stopped(run, took, tmp_path / "replication_logs.txt")
    listed = list(csv.DictReader(next(tmp_path.glob("restore-*.csv")).open()))
    copied = {row["key"]: row["version_after"] for row in listed}
    made = {key: version for key, version in current_versions(world).items()
            if version != bad[key]}
    assert 0 < len(made) < len(keys)  # stopped half-way
    assert copied == made  # every copy it made is listed, and only those


def put_all(world: World, keys: list[str], body: bytes) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda key: world.put("shopco-data-use1", key, body), keys))


def current_versions(world: World) -> dict[str, str]:
    return {v["Key"]: v["VersionId"] for v in world.versions("shopco-data-use1", "catalog/")
            if v.get("IsLatest")}
