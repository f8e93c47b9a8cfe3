"""`restore` end to end on MiniStack: a bad change to `catalog/` (overwrites, a delete, a new
key) and one outside the scope; the plan counts it and changes nothing; `--yes` brings back
the state at TIME of the scope only, deleting no version, keeping content type and tags; a
second run changes nothing; the replica converges (audit exits 0); versions destroyed in the
source come back from the replica.

Relied on: a versioned bucket keeps every version, a delete without version id only adds a
delete marker (https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html);
CopyObject copies one version named by `versionId` in the copy source, its tags and metadata
(the directives' default, COPY: https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html),
and a previous version copied over its key becomes the current version
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/RestoringPreviousVersions.html); delete
markers are replicated (for rules that say so), deletes of a version by id are not
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html).
"""

from __future__ import annotations

import csv
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.replicas import World

SOURCE, DR = "shopco-data-use1", "shopco-data-usw2"
KEYS = ["catalog/a.json", "catalog/b.json", "catalog/c.json", "catalog/d.json"]


def body(world: World, bucket: str, key: str) -> bytes:
    return bytes(world.s3(bucket).get_object(Bucket=bucket, Key=key)["Body"].read())


def under_the_source_key(world: World, key: str) -> bool:
    """Whether `key`'s current version in SOURCE is encrypted with the source's KMS key (the
    bucket's default: a copy without encryption headers gets it,
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html)."""
    head = world.s3(SOURCE).head_object(Bucket=SOURCE, Key=key)
    alias = world.config.buckets[SOURCE].kms_key
    wanted = world.aws.get("kms", "us-east-1").describe_key(KeyId=alias)["KeyMetadata"]
    return (head.get("ServerSideEncryption") == "aws:kms"
            and head.get("SSEKMSKeyId", "").endswith(wanted["KeyId"]))


@pytest.fixture
def attacked(ministack_endpoint: str, reset_ministack, tmp_path: Path) -> tuple[World, str]:
    world = World.make(ministack_endpoint, tmp_path)
    world.apply("crr")
    for key in KEYS:
        world.put(SOURCE, key, f"good {key}".encode(), tags="team=web",
                  ContentType="application/json", Metadata={"origin": "erp"})
    world.put(SOURCE, "inventory/stock.json", b"good stock")
    time.sleep(1.1)
    when = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    time.sleep(1.1)
    for key in KEYS[:2]:
        world.put(SOURCE, key, b"ENCRYPTED BY RANSOMWARE", ContentType="text/plain")
    world.s3(SOURCE).delete_object(Bucket=SOURCE, Key="catalog/c.json")
    world.put(SOURCE, "catalog/ransom-note.txt", b"pay up")
    world.put(SOURCE, "inventory/stock.json", b"outside the scope")
    return world, when


def test_plan_then_restore_then_nothing_left(attacked) -> None:
    world, when = attacked
    before = {(v["Key"], v["VersionId"]) for v in world.versions(SOURCE)}

    planned = world.run("crr", "restore", "--to", when, "--rule", "catalog-usw2", "--json")
    status, data = world.run_json("crr", "restore", "--to", when, "--rule", "catalog-usw2")

    assert status == 3 and planned.mutating == []
    assert data["counts"] == {"unchanged": 1, "overwritten": 2, "deleted": 1, "created": 1}
    assert data["samples"]["overwritten"] == KEYS[:2]

    done = world.run("crr", "restore", "--to", when, "--rule", "catalog-usw2", "--yes")

    assert done.status == 0, done.stdout + done.stderr
    assert "undo this restore with a restore to the moment before it" in done.stdout
    for key in KEYS:
        assert body(world, SOURCE, key) == f"good {key}".encode()
        head = world.s3(SOURCE).head_object(Bucket=SOURCE, Key=key)
        assert (head["ContentType"], head["Metadata"]) == ("application/json", {"origin": "erp"})
        tags = world.s3(SOURCE).get_object_tagging(Bucket=SOURCE, Key=key)["TagSet"]
        assert tags == [{"Key": "team", "Value": "web"}]
        assert under_the_source_key(world, key)
    assert "catalog/ransom-note.txt" not in world.keys(SOURCE, "catalog/")
    assert body(world, SOURCE, "inventory/stock.json") == b"outside the scope"
    after = {(v["Key"], v["VersionId"]) for v in world.versions(SOURCE)}
    assert before < after and len(after) == len(before) + 4, "no version deleted, 4 added"

    changes = next(Path(world.config.log_file).parent.glob("restore-*.csv"))
    assert str(changes) in done.stdout
    rows = list(csv.DictReader(changes.open()))
    assert sorted(r["key"] for r in rows) == sorted([*KEYS[:3], "catalog/ransom-note.txt"])
    assert all(r["version_after"] and (r["key"], r["version_after"]) in after for r in rows)

    again = world.run("crr", "restore", "--to", when, "--rule", "catalog-usw2", "--yes")
    assert (again.status, again.mutating) == (0, []), again.stdout
    for key in KEYS[:3]:
        assert body(world, DR, key) == f"good {key}".encode(), "the replica converges"
    assert "catalog/ransom-note.txt" not in world.keys(DR, "catalog/")
    audit = world.run("crr", "audit")
    assert audit.status == 0, audit.stdout


def test_a_bucket_and_prefix_scope(attacked) -> None:
    world, when = attacked
    status, data = world.run_json("crr", "restore", "--to", when, "--bucket", SOURCE,
                                  "--prefix", "inventory/")
    assert (status, data["counts"]["overwritten"], data["counts"]["created"]) == (3, 1, 0)


def test_versions_destroyed_in_the_source_come_back_from_the_replica(attacked) -> None:
    world, when = attacked
    for key in KEYS[:2]:  # the attacker deletes every version by id: not replicated
        world.delete_replica(SOURCE, key)
    assert not world.keys(SOURCE, "catalog/a")

    from_source = world.run_json("crr", "restore", "--to", when, "--rule", "catalog-usw2")[1]
    assert from_source["counts"]["overwritten"] == 0, "the source alone has lost them"

    done = world.run("crr", "restore", "--to", when, "--rule", "catalog-usw2",
                     "--from", "replica", "--yes")

    assert done.status == 0, done.stdout + done.stderr
    assert f"versions read from {DR}" in done.stdout
    for key in KEYS:
        assert body(world, SOURCE, key) == f"good {key}".encode()
        tags = world.s3(SOURCE).get_object_tagging(Bucket=SOURCE, Key=key)["TagSet"]
        assert tags == [{"Key": "team", "Value": "web"}]
        assert under_the_source_key(world, key), "the source's key, not the replica's"
    assert "catalog/ransom-note.txt" not in world.keys(SOURCE, "catalog/")
    again = world.run("crr", "restore", "--to", when, "--rule", "catalog-usw2",
                      "--from", "replica")
    assert again.status == 0, again.stdout


def test_an_archived_version_is_listed_as_needing_a_restore_not_failed(attacked) -> None:
    """Versions in GLACIER must be restored before they can be copied
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/restoring-objects.html)."""
    world, _ = attacked
    world.put(SOURCE, "cold/old.json", b"archived", StorageClass="GLACIER")
    time.sleep(1.1)
    when = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    time.sleep(1.1)
    world.put(SOURCE, "cold/old.json", b"bad")

    status, data = world.run_json("crr", "restore", "--to", when, "--bucket", SOURCE,
                                  "--prefix", "cold/", "--yes")

    assert (status, data["counts"]["overwritten"], data["copied"], data["failed"]) == (3, 1, 0, 0)
    assert [a["key"] for a in data["archived"]] == ["cold/old.json"]
    text = world.run("crr", "restore", "--to", when, "--bucket", SOURCE, "--prefix", "cold/")
    assert "restore them first (RestoreObject)" in text.stdout and "cold/old.json" in text.stdout


def test_a_tag_filtered_rule_restores_only_the_keys_it_selects(
        ministack_endpoint: str, reset_ministack, tmp_path: Path) -> None:
    """orders-usw2 selects orders/ objects tagged retain=7y: a restore of the rule changes those
    (by the tags of the version at TIME, or of the current one for a key created since) and
    leaves untagged keys of the same prefix as they are. A rule's filter selects objects by
    prefix and every tag it names (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-add-config.html);
    GetObjectTagging reads a given version's tags (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectTagging.html).
    Not played here: a tagged key *deleted* since. MiniStack (1.5.33) answers GetObjectTagging
    of a noncurrent version with NoSuchKey once a delete marker is current (measured); AWS
    reads the tags of any version by its id (the page above)."""
    world = World.make(ministack_endpoint, tmp_path)
    world.apply("crr")
    world.put(SOURCE, "orders/kept.json", b"good kept", tags="retain=7y")
    world.put(SOURCE, "orders/draft.json", b"good draft")
    time.sleep(1.1)
    when = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    time.sleep(1.1)
    world.put(SOURCE, "orders/kept.json", b"bad kept", tags="retain=7y")
    world.put(SOURCE, "orders/draft.json", b"bad draft")
    world.put(SOURCE, "orders/new-tagged.json", b"new", tags="retain=7y")
    world.put(SOURCE, "orders/new-plain.json", b"new")

    status, data = world.run_json("crr", "restore", "--to", when, "--rule", "orders-usw2")
    assert status == 3
    assert data["counts"] == {"unchanged": 0, "overwritten": 1, "deleted": 0, "created": 1}

    done = world.run("crr", "restore", "--to", when, "--rule", "orders-usw2", "--yes")

    assert done.status == 0, done.stdout + done.stderr
    assert body(world, SOURCE, "orders/kept.json") == b"good kept"
    assert body(world, SOURCE, "orders/draft.json") == b"bad draft", "not the rule's: left"
    assert world.keys(SOURCE, "orders/new") == {"orders/new-plain.json"}
