"""`audit --inventory` end to end on a MiniStack of this module's own (with Athena and Glue): on
the same buckets, the listing audit, the inventory audit in DuckDB and the inventory audit in
Athena count the same objects number for number; the re-drive manifest lists exactly the
missing, failed and mismatched objects; a report whose data file is not the manifest's is
refused by name; a report without its manifest.checksum is not used.

MiniStack keeps no inventory configuration and delivers no report, so the reports are written by
the sandbox's stand-in (inventory/standin.py) from the buckets' real listings, in AWS's format
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory-location.html). What
the buckets hold is made the way S3 makes it:
- objects older than their rule have no replication status and no replica
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html):
  written while the source has no replication configuration;
- FAILED: a replica S3 cannot write, here because the destination's versioning is suspended
  (replication needs versioning on both buckets,
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication.html; MiniStack
  then marks the source version FAILED, as AWS reports a failed replication,
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-status.html);
- archived: StorageClass GLACIER given at PutObject
  (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html), written while no replica
  could be made (S3 does not replicate archived objects at all: the first page above);
- replicas deleted or written over by hand.
A tag-filtered rule's objects are all written while it exists (the inventory audit selects
them by replication status, as reports carry no tags: inventory/query.py).

The two reports are taken at different times, as S3's are (each a snapshot begun at its
manifest's creationTimestamp:
https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory-location.html): the
replica's first, then objects written and one overwritten, then the source's. Those are too new
for the replica's report: counted apart (`too_new`), by both engines, and not re-driven.
"""

from __future__ import annotations

import io
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from s3replication.inventory.reports import CHECKSUM, MANIFEST
from s3replication.inventory.standin import rows_from_bucket, write_report
from tests.inventory_reports import (
    DESTINATION,
    PREFIX,
    REPORTS_USE1,
    REPORTS_USW2,
    RULE,
    SOURCE,
    config_text,
    read_report,
    redrive_entries,
)
from tests.replicas import World

pytestmark = pytest.mark.e2e
TAGGED = "tagged"
TAG_RULE = (f"CRR_RULES.append({{'id': {TAGGED!r}, 'source': {SOURCE!r}, "
            f"'destination': {DESTINATION!r}, 'prefix': 'tagged/', 'tags': {{'team': 'sales'}}, "
            "'rtc': False})\n")
SPECIAL = f"{PREFIX}a b+c%d,é.json"  # a space, a plus, a percent sign, a comma, not ASCII


@pytest.fixture(scope="module")
def endpoint(athena_endpoint: str) -> str:
    """The module's MiniStack, with Athena and Glue (conftest.athena_endpoint)."""
    return athena_endpoint


@dataclass
class Scene:
    world: World
    expected: dict[str, dict[str, int]]  # rule -> counts
    redrive: dict[str, set[tuple[str, str, str]]]  # rule -> (bucket, key, version id)
    copy: dict[str, set[tuple[str, str, str]]]  # rule -> replicas deleted: copied in place
    taken: dict[str, datetime]  # bucket -> when its report was taken
    too_new: int  # objects of RULE written after the replica's report was taken

    def audit(self, *argv: str) -> tuple[int, dict[str, Any]]:
        return self.world.run_json("crr", "audit", "--max-report", "1000", *argv)


def counts(**found: int) -> dict[str, int]:
    kinds = ("missing", "mismatched", "failed", "pending", "archived", "needs_key")
    return {"checked": found.pop("checked"), **{k: found.get(k, 0) for k in kinds}}


def make_objects(world: World) -> dict[str, list[str]]:
    """Keys by what became of them; the rules exist on return."""
    src = world.s3(SOURCE)
    made = {"ok": [f"{PREFIX}ok-{n}.json" for n in range(6)] + [SPECIAL, f"{PREFIX}twice"],
            "lost": [f"{PREFIX}lost-{n}.json" for n in range(2)],
            "short": [f"{PREFIX}short.json"], "old": [f"{PREFIX}old-{n}.json" for n in range(3)],
            "cold": [f"{PREFIX}cold.json"], "failed": [f"{PREFIX}failed-{n}" for n in range(2)],
            "failed_cold": [f"{PREFIX}failed-cold"],
            "tagged_ok": ["tagged/t-0.json", "tagged/t-2.json"], "tagged_lost": ["tagged/t-1"]}
    world.put_many(SOURCE, made["ok"] + made["lost"] + made["short"])
    world.put(SOURCE, f"{PREFIX}twice", b"a longer second version")  # a noncurrent version
    world.put(SOURCE, f"{PREFIX}gone.json")
    src.delete_object(Bucket=SOURCE, Key=f"{PREFIX}gone.json")  # current: a delete marker
    world.put(SOURCE, "other/outside-every-rule.json")
    world.put_many(SOURCE, made["tagged_ok"] + made["tagged_lost"], tags="team=sales")
    world.put(SOURCE, "tagged/untagged.json")  # not selected by the tag rule
    for key in made["lost"] + made["tagged_lost"]:
        world.delete_replica(DESTINATION, key)
    world.put(DESTINATION, made["short"][0], b"x")  # the replica written over by hand
    src.delete_bucket_replication(Bucket=SOURCE)  # objects older than their rule
    world.put_many(SOURCE, made["old"])
    world.put(SOURCE, made["cold"][0], StorageClass="GLACIER")
    world.apply("crr")
    world.s3(DESTINATION).put_bucket_versioning(
        Bucket=DESTINATION, VersioningConfiguration={"Status": "Suspended"})
    world.put_many(SOURCE, made["failed"])
    world.put(SOURCE, made["failed_cold"][0], StorageClass="GLACIER")
    world.apply("crr")  # versioning enabled again
    return made


def deliver(world: World, bucket: str, when: datetime,
            rows: list[list[str]] | None = None) -> str:
    """A report of `bucket` as S3's daily job would write it, into its Region's report bucket."""
    s3 = world.s3(bucket)
    reports = REPORTS_USE1 if bucket == SOURCE else REPORTS_USW2
    return write_report(s3, reports, bucket, rows_from_bucket(s3, bucket) if rows is None
                        else rows, now=when, per_file=7)


def current_versions(world: World, keys: list[str]) -> set[tuple[str, str, str]]:
    versions = {v["Key"]: v["VersionId"] for v in world.versions(SOURCE) if v["IsLatest"]}
    return {(SOURCE, key, versions[key]) for key in keys}


@pytest.fixture(scope="module")
def scene(endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Scene:
    folder = tmp_path_factory.mktemp("inventory-audit")
    config = folder / "s3_config.py"
    config.write_text(config_text(folder / "log.txt", extra=TAG_RULE))
    world = World(endpoint, config)
    world.apply("crr")
    made = make_objects(world)
    taken = {DESTINATION: later_than_any_write()}
    deliver(world, DESTINATION, taken[DESTINATION])
    time.sleep(SECOND)
    newer = [f"{PREFIX}new-{n}.json" for n in range(3)]
    world.put_many(SOURCE, newer)  # replicated, but after the replica's report
    world.put(SOURCE, made["ok"][0], b"a newer, longer body")  # the report has the older
    taken[SOURCE] = later_than_any_write()
    deliver(world, SOURCE, taken[SOURCE])
    made["ok"] += newer
    n = {kind: len(keys) for kind, keys in made.items()}
    expected = {
        RULE: counts(checked=sum(n[k] for k in ("ok", "lost", "short", "old", "cold", "failed",
                                                "failed_cold")),
                     missing=n["lost"] + n["old"], mismatched=n["short"], failed=n["failed"],
                     archived=n["cold"] + n["failed_cold"]),
        TAGGED: counts(checked=n["tagged_ok"] + n["tagged_lost"], missing=n["tagged_lost"])}
    redrive = {RULE: current_versions(world, made["old"] + made["failed"]), TAGGED: set()}
    copy = {RULE: current_versions(world, made["lost"] + made["short"]),
            TAGGED: current_versions(world, made["tagged_lost"])}
    return Scene(world, expected, redrive, copy, taken, too_new=len(newer) + 1)


SECOND = 2.1  # report times and last-modified times are compared to the second


def later_than_any_write() -> datetime:
    """A report's time, in a later second than every object written so far."""
    time.sleep(SECOND)
    return datetime.now(UTC)


def iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


ENGINES = {"listing": (), "duckdb": ("--inventory",),
           "athena": ("--inventory", "--engine", "athena")}


@pytest.fixture(scope="module")
def audits(scene: Scene) -> dict[str, tuple[int, dict[str, Any]]]:
    return {name: scene.audit(*argv) for name, argv in ENGINES.items()}


def by_rule(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["rule"]: r for r in data["rules"]}


def test_listing_and_inventory_audits_count_the_same_objects(
        scene: Scene, audits: dict[str, tuple[int, dict[str, Any]]]) -> None:
    for name, (status, data) in audits.items():
        assert status == 3, (name, data)
        assert {rule: r["error"] for rule, r in by_rule(data).items()} == {
            RULE: None, TAGGED: None}, name
        found = {rule: dict(r["counts"]) for rule, r in by_rule(data).items()}
        if name != "listing":  # the listing is live: nothing is too new for it
            assert {rule: c.pop("too_new") for rule, c in found.items()} == {
                RULE: scene.too_new, TAGGED: 0}, name
        assert found == scene.expected, name
    problems = {name: {rule: sorted((p["problem"], p["key"]) for p in r["problems"])
                       for rule, r in by_rule(data).items()}
                for name, (_, data) in audits.items()}
    assert problems["duckdb"] == problems["listing"] == problems["athena"]
    assert ("archived", f"{PREFIX}failed-cold") in problems["listing"][RULE]
    for name in ("duckdb", "athena"):
        found = by_rule(audits[name][1])[RULE]
        assert set(found["reports"]) == {SOURCE, DESTINATION}
        assert all(when.startswith(f"{scene.taken[b]:%Y-%m-%d %H:%M} UTC")
                   for b, when in found["reports"].items()), found["reports"]
        assert found["report_times"] == {"source": iso(scene.taken[SOURCE]),
                                         "replica": iso(scene.taken[DESTINATION])}


def test_the_redrive_manifests_list_exactly_the_objects_to_redrive(
        scene: Scene, audits: dict[str, tuple[int, dict[str, Any]]]) -> None:
    """Replicated objects whose replica is gone (lost, written over) are listed apart, for copy
    in place: "Batch Replication does not support re-replicating objects that were deleted with
    the version ID of the object from the destination bucket"
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-batch-replication-batch.html)."""
    s3 = scene.world.s3(SOURCE)
    for name in ("duckdb", "athena"):
        for rule, report in by_rule(audits[name][1]).items():
            for url, wanted in ((report["redrive_manifest"], scene.redrive[rule]),
                                (report["copy_manifest"], scene.copy[rule])):
                assert (url is None) == (not wanted), (name, rule, url)
                if url:
                    assert url.startswith(f"s3://{REPORTS_USE1}/inventory/redrive/{rule}/"), url
                    assert sorted(redrive_entries(s3, url)) == sorted(wanted), (name, rule)
    listed = {(SOURCE, p["key"], p["version_id"]) for p in by_rule(audits["listing"][1])[
        RULE]["problems"] if p["problem"] in ("missing", "failed", "size mismatch")}
    assert listed == scene.redrive[RULE] | scene.copy[RULE]


@pytest.mark.parametrize("engine", ["duckdb", "athena"])
def test_objects_newer_than_the_replicas_report_are_too_new(
        scene: Scene, audits: dict[str, tuple[int, dict[str, Any]]], engine: str) -> None:
    """Written (or overwritten) after the replica's report was taken: neither missing nor a
    size mismatch, not in the re-drive manifest; each engine on its own."""
    found = by_rule(audits[engine][1])[RULE]
    assert found["counts"].get("too_new", 0) == scene.too_new
    newer = {f"{PREFIX}new-{n}.json" for n in range(3)} | {f"{PREFIX}ok-0.json"}
    assert not newer & {p["key"] for p in found["problems"]}
    assert not newer & {k for _, k, _ in redrive_entries(scene.world.s3(SOURCE),
                                                        found["redrive_manifest"])}


def test_backfill_plans_a_job_over_the_redrive_manifest(
        scene: Scene, audits: dict[str, tuple[int, dict[str, Any]]]) -> None:
    url = by_rule(audits["duckdb"][1])[RULE]["redrive_manifest"]
    status, data = scene.world.run_json("crr", "backfill", "--method", "batch", "--manifest", url)
    assert status == 3, data  # the plan: nothing started without --yes
    assert [(j["source"], j["region"]) for j in data["jobs"]] == [(SOURCE, "us-east-1")]


def remove(world: World, report_bucket: str, folder: str, files: list[str]) -> None:
    s3 = world.aws.get("s3", "us-east-1" if report_bucket == REPORTS_USE1 else "us-west-2")
    for key in [folder + MANIFEST, folder + CHECKSUM, *files]:
        s3.delete_object(Bucket=report_bucket, Key=key)


@pytest.mark.parametrize("engine", ["duckdb", "athena"])
def test_a_data_file_that_is_not_the_manifests_is_refused(scene: Scene, engine: str) -> None:
    world = scene.world
    folder = deliver(world, DESTINATION, scene.taken[DESTINATION] + timedelta(hours=1))
    delivered = read_report(world.s3(DESTINATION), REPORTS_USW2, folder)
    key = delivered.manifest["files"][-1]["key"]
    content = delivered.data[key]
    try:
        world.s3(DESTINATION).put_object(Bucket=REPORTS_USW2, Key=key,
                                         Body=content[:-1] + bytes([content[-1] ^ 1]))
        status, data = scene.audit(*ENGINES[engine])
        assert status == 1, data
        complaint = f"s3://{REPORTS_USW2}/{key}: its MD5 does not match the manifest"
        assert all(complaint in str(r["error"]) for r in data["rules"]), data
        assert all(r["counts"]["checked"] == 0 for r in data["rules"])
    finally:
        remove(world, REPORTS_USW2, folder, list(delivered.data))
    assert scene.audit(*ENGINES[engine])[0] == 3  # the older report, intact, is used again


def test_a_report_without_its_checksum_is_not_used(scene: Scene) -> None:
    """An empty report of the source, newer: used while complete, ignored without its
    manifest.checksum (the last file S3 writes)."""
    world = scene.world
    folder = deliver(world, SOURCE, scene.taken[SOURCE] + timedelta(hours=1), rows=[])
    try:
        status, data = scene.audit("--inventory")
        assert (status, by_rule(data)[RULE]["counts"]["checked"]) == (0, 0)
        world.s3(SOURCE).delete_object(Bucket=REPORTS_USE1, Key=folder + CHECKSUM)
        status, data = scene.audit("--inventory")
        assert status == 3
        assert {rule: {k: n for k, n in r["counts"].items() if k != "too_new"}
                for rule, r in by_rule(data).items()} == scene.expected
        assert by_rule(data)[RULE]["reports"][SOURCE].startswith(
            f"{scene.taken[SOURCE]:%Y-%m-%d %H:%M}")
    finally:
        remove(world, REPORTS_USE1, folder, [])


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_inventory_audit_shows_its_progress_on_a_terminal(
        scene: Scene, monkeypatch: pytest.MonkeyPatch) -> None:
    """As the listing audit does: progress on a TTY (stderr), here the report files read."""
    from s3replication.commands import audit
    from s3replication.output.progress import Progress

    terminal = _Terminal()
    monkeypatch.setattr(audit, "Progress", lambda label, **kw: Progress(
        label, stream=terminal, after=0.0, every=0.0, **kw))
    status, _ = scene.audit("--inventory")
    assert status == 3
    assert re.search(r"audit --inventory: \d+ report files read", terminal.getvalue())
