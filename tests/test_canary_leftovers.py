"""Canaries never outlive a run: a canary left by a run that crashed is not "missing" data for
`audit` (listing or inventory) nor offered by `backfill`, and the next canary of its rule
removes it once it is older than the longest canary wait (never one another run may still
be waiting for).

What AWS does, and these tests rely on:
- ListObjectVersions gives each version and delete marker its LastModified
  (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html), which is
  what tells an earlier run's canary from one a run is waiting for;
- deleting one object version by id removes it for good and is not replicated
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeletingObjectVersions.html,
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html);
- an object is replicated by the rule whose filter selects it, and replicas keep their key
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-add-config.html).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from s3replication.commands import canary_sweep
from s3replication.config.model import RuleSpec
from s3replication.inventory.query import Comparison
from s3replication.inventory.standin import row
from s3replication.resources.canary_expiry import CANARY_FOLDER
from tests.inventory_reports import comparison_tables
from tests.replicas import World

SOURCE, BACKUP = "shopco-data-use1", "shopco-data-use1-backup"


@pytest.fixture
def world(ministack_endpoint: str, reset_ministack, tmp_path: Path) -> World:
    made = World.make(ministack_endpoint, tmp_path, "SRR_RULES = SRR_RULES[:1]")
    made.apply("srr")
    return made


def crashed_run_canary(world: World) -> str:
    """A canary of customers-backup as a killed verify leaves it: in the source, its replica
    deleted from the destination (the removal had begun there), so it reads as never there."""
    key = f"customers/{CANARY_FOLDER}{uuid.uuid4()}"
    world.put(SOURCE, key, b'{"rule": "customers-backup"}')
    assert world.versions(BACKUP, key), "MiniStack replicated it"
    world.delete_replica(BACKUP, key)
    return key


def test_audit_ignores_a_leftover_canary(world: World) -> None:
    world.put(SOURCE, "customers/42.json")
    crashed_run_canary(world)

    status, data = world.run_json("srr", "audit")
    assert status == 0, data
    assert data["rules"][0]["counts"]["checked"] == 1  # the customer, not the canary


def test_backfill_does_not_offer_a_leftover_canary(world: World) -> None:
    key = crashed_run_canary(world)
    offered = world.run("srr", "backfill", "--method", "copy")
    assert offered.status == 0, offered.stdout + offered.stderr
    assert key not in offered.stdout
    assert len(world.versions(SOURCE, key)) == 1  # nothing copied


def test_the_inventory_audit_ignores_canaries_too() -> None:
    rule = RuleSpec("r", "crr", "src", "dst", prefix="p/")
    source = [row("src", f"p/{CANARY_FOLDER}1", "c1", True, False, 9, status="COMPLETED"),
              row("src", f"p/deeper/{CANARY_FOLDER}2", "c2", True, False, 9),
              row("src", "p/missing.txt", "m1", True, False, 4)]
    connection = duckdb.connect()
    comparison_tables(connection, source, [])
    comparison = Comparison(rule, exact_versions=False)
    assert dict(connection.execute(comparison.counts()).fetchall()) == {"missing": 1}
    assert connection.execute(comparison.redrive()).fetchall() == [("p/missing.txt", "m1")]


def test_verify_removes_an_earlier_runs_canary_once_no_run_can_wait_for_it(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    leftover = f"customers/{CANARY_FOLDER}{uuid.uuid4()}"
    world.put(SOURCE, leftover, b'{"rule": "customers-backup"}')  # and its replica
    assert world.versions(BACKUP, leftover)

    status, data = world.run_json("srr", "verify")
    assert status == 0, data
    # written a moment ago: another verify may still be waiting for it
    assert world.versions(SOURCE, leftover) and world.versions(BACKUP, leftover)

    # the longest wait: the latency threshold (900 s by default) and a minute
    later = canary_sweep.utc_now() + timedelta(seconds=961)
    monkeypatch.setattr(canary_sweep, "utc_now", lambda: later)
    status, data = world.run_json("srr", "verify")
    assert status == 0, data
    assert world.versions(SOURCE, leftover) == []
    assert world.versions(BACKUP, leftover) == []
    assert world.versions(SOURCE, f"customers/{CANARY_FOLDER}") == []  # its own removed too
    assert "removed 2 canary versions left by earlier runs" in \
        Path(world.config.log_file).read_text()


def test_a_canary_is_stale_after_the_longest_wait_and_a_margin() -> None:
    assert canary_sweep.stale_after(900, 60) == 960
    assert canary_sweep.stale_after(30, 2000) == 2060  # this run's own --timeout
    assert canary_sweep.stale_after(30, 5) == 180  # readiness's 120 s canary by default
    assert canary_sweep.is_canary(f"{CANARY_FOLDER}x")
    assert canary_sweep.is_canary(f"logs/{CANARY_FOLDER}x")
    assert not canary_sweep.is_canary(f"logs{CANARY_FOLDER}x")
