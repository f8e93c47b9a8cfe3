"""`verify` end to end on MiniStack: a canary per rule replicates, is measured and is removed
without a trace; a rule that does not replicate, or misses its RTC target, exits 3."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from s3replication.aws.clients import Clients
from s3replication.commands.verify import CANARY_FOLDER
from tests.replicas import World
from tests.shop import run_script

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
    assert "All 3 rules replicated in time. Canary versions removed: 6." in run.stdout
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


def clients_reporting_failed(world: World, source: str) -> Callable[[], Clients]:
    """Clients whose HEAD of a source version reads ReplicationStatus FAILED, as S3 reports it
    when any one destination of several failed
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-status.html). MiniStack
    checks no permission on same-account replication, so no destination of its can fail: a
    botocore handler rewrites the status it answers."""

    def make() -> Clients:
        clients = world.clients()
        events = clients.get("s3", world.config.buckets[source].region).meta.events

        def remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
            context["source_version"] = params["Bucket"] == source and "VersionId" in params

        def failed(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
            if context.get("source_version") and "Error" not in parsed:
                parsed["ReplicationStatus"] = "FAILED"

        events.register("before-parameter-build.s3.HeadObject", remember)
        events.register("after-call.s3.HeadObject", failed)
        return clients

    return make


def test_the_canary_reads_its_own_replica_when_another_destination_failed(world):
    run = run_script("crr", "verify", "--json", "--config", str(world.config_path),
                     clients=clients_reporting_failed(world, SOURCE))
    data = json.loads(run.stdout)
    catalog = next(r for r in data["rules"] if r["rule"] == "catalog-usw2")
    assert (catalog["source_status"], catalog["replica_status"]) == ("FAILED", "REPLICA")
    assert (catalog["replicated"], catalog["ok"]) == (True, True), catalog
    assert catalog["removed_versions"] == 2
    text = run_script("crr", "verify", "--config", str(world.config_path),
                      clients=clients_reporting_failed(world, SOURCE)).stdout
    assert "the source version reads FAILED: another destination of shopco-data-use1 failed" \
        in text


def test_a_failed_source_with_no_other_destination_gives_up_at_once(ministack_endpoint,
                                                                     reset_ministack, tmp_path):
    """Only the rule's own destination can have failed: no waiting for the timeout."""
    world = World.make(ministack_endpoint, tmp_path, MEDIA)
    world.apply("srr")
    s3 = world.s3("shopco-media-use1")
    configuration = s3.get_bucket_replication(Bucket="shopco-media-use1")
    configuration["ReplicationConfiguration"]["Rules"][0]["Status"] = "Disabled"
    s3.put_bucket_replication(Bucket="shopco-media-use1",
                              ReplicationConfiguration=configuration["ReplicationConfiguration"])
    started = time.monotonic()
    run = run_script("srr", "verify", "--json", "--timeout", "20", "--config",
                     str(world.config_path),
                     clients=clients_reporting_failed(world, "shopco-media-use1"))
    media = next(r for r in json.loads(run.stdout)["rules"] if r["rule"] == "media-copy")
    assert time.monotonic() - started < 10
    assert (media["replicated"], media["ok"]) == (False, False), media
