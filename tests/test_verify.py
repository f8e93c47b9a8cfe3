"""`verify` end to end on MiniStack: a canary per rule replicates, is measured and is removed
without a trace; a rule that does not replicate, or misses its RTC target, exits 3."""

from __future__ import annotations

from pathlib import Path

import pytest

from s3replication.verify import CANARY_FOLDER
from tests.replicas import World

SOURCE = "shopco-data-use1"
# An SRR rule of every other kind: SSE-S3 buckets and no prefix (the canary at the root).
MEDIA = """
BUCKETS["shopco-media-use1"] = {"region": "us-east-1", "kms_key": None}
BUCKETS["shopco-media-use1-copy"] = {"region": "us-east-1", "kms_key": None}
SRR_RULES.append({"id": "media-copy", "source": "shopco-media-use1",
                  "destination": "shopco-media-use1-copy"})
"""


@pytest.fixture
def world(ministack_endpoint: str, reset_ministack, tmp_path: Path) -> World:
    made = World.make(ministack_endpoint, tmp_path, MEDIA)
    made.apply("crr", "srr")
    made.put(SOURCE, "catalog/shoes.json")
    made.put(SOURCE, "orders/1001.json", tags="retain=7y")
    made.put("shopco-media-use1", "banner.png")
    return made


@pytest.mark.parametrize("kind, rules", [
    ("crr", {"catalog-usw2", "orders-usw2", "inventory-usw2", "images-euw1"}),
    ("srr", {"customers-backup", "transactions-archive", "media-copy"}),
], ids=["crr", "srr"])
def test_every_rule_replicates_and_no_version_is_left(world, kind, rules):
    before = world.version_counts()
    status, data = world.run_json(kind, "verify")
    assert status == 0, data
    results = {r["rule"]: r for r in data["rules"]}
    assert set(results) == rules
    for r in results.values():
        assert (r["replicated"], r["source_status"], r["replica_status"], r["error"]) == (
            True, "COMPLETED", "REPLICA", None), r
        assert r["latency_seconds"] >= 0
        assert r["rtc_met"] is (True if r["rtc"] else None)
        assert r["removed_versions"] == 2  # the canary and its replica, nothing else
        assert CANARY_FOLDER in r["key"]
    assert world.version_counts() == before


def test_canary_carries_the_prefix_and_tags_of_its_rule(world):
    status, data = world.run_json("crr", "verify")
    assert status == 0
    orders = next(r for r in data["rules"] if r["rule"] == "orders-usw2")
    assert orders["key"].startswith("orders/.s3-replication-canary/")  # tags: it replicated


def test_results_are_logged_and_shown(world):
    run = world.run("srr", "verify")
    assert run.status == 0, run.stderr
    assert "ok     customers-backup: shopco-data-use1 -> shopco-data-use1-backup: replicated" \
        in run.stdout
    log = Path(world.config.log_file).read_text()
    assert "sr_replication verify rule media-copy: replicated in" in log
    assert "sr_replication verify end: exit 0" in log


def test_a_rule_that_does_not_replicate_exits_3_and_still_cleans_up(world):
    s3 = world.s3(SOURCE)
    configuration = s3.get_bucket_replication(Bucket=SOURCE)["ReplicationConfiguration"]
    for rule in configuration["Rules"]:
        if rule["ID"] == "catalog-usw2":
            rule["Status"] = "Disabled"
    s3.put_bucket_replication(Bucket=SOURCE, ReplicationConfiguration=configuration)
    before = world.version_counts()
    status, data = world.run_json("crr", "verify", "--timeout", "0.3")
    assert status == 3
    results = {r["rule"]: r for r in data["rules"]}
    catalog = results.pop("catalog-usw2")
    assert (catalog["replicated"], catalog["replica_status"], catalog["ok"]) == (False, None, False)
    assert catalog["removed_versions"] == 1  # the canary in the source
    assert all(r["ok"] for r in results.values())
    assert world.version_counts() == before


def test_a_missed_rtc_target_exits_3(ministack_endpoint, reset_ministack, tmp_path):
    world = World.make(ministack_endpoint, tmp_path, 'MONITORING["latency_threshold_seconds"] = 0')
    world.apply("srr")
    status, data = world.run_json("srr", "verify")
    assert status == 3
    results = {r["rule"]: r for r in data["rules"]}
    assert results["customers-backup"]["replicated"] is True
    assert results["customers-backup"]["rtc_met"] is False  # any latency exceeds 0 s
    assert results["transactions-archive"]["ok"] is True  # no RTC: replicated is enough
