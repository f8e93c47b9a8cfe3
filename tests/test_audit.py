"""`audit`: end to end on MiniStack (exactly the replicas deleted by hand and the objects that
predate their rule; never a healthy object), and the streamed merge on a fake S3 where AWS's
behaviour differs from the emulator's (kept version ids, FAILED and PENDING)."""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from typing import Any

import pytest

from s3replication.commands.audit import audit
from s3replication.config import load_config
from s3replication.engine.context import Context
from s3replication.output import render
from s3replication.output.progress import Progress
from tests.replicas import World
from tests.shop import SHIPPED_CONFIG

SOURCE, DR, BACKUP = "shopco-data-use1", "shopco-data-usw2", "shopco-data-use1-backup"


@pytest.fixture
def world(ministack_endpoint: str, reset_ministack, tmp_path: Path) -> World:
    return World.make(ministack_endpoint, tmp_path)


def problems(data: dict[str, Any], rule: str) -> dict[str, dict[str, Any]]:
    found = next(r for r in data["rules"] if r["rule"] == rule)
    return {p["key"]: p for p in found["problems"]}


def counts(data: dict[str, Any], rule: str) -> dict[str, int]:
    return next(r for r in data["rules"] if r["rule"] == rule)["counts"]


def test_finds_exactly_the_deleted_replicas_and_the_objects_older_than_the_rule(world):
    world.apply("crr")
    world.put_many(SOURCE, [f"customers/old-{n}.json" for n in range(3)])  # no SRR rule yet
    world.apply("srr")
    world.put_many(SOURCE, [f"customers/new-{n}.json" for n in range(5)])
    world.put_many(SOURCE, [f"catalog/item-{n:03}.json" for n in range(20)])
    for key in ("catalog/item-003.json", "catalog/item-017.json"):
        world.delete_replica(DR, key)

    status, data = world.run_json("crr", "audit")
    assert status == 3
    assert {k: (p["problem"], p["replication_status"]) for k, p in
            problems(data, "catalog-usw2").items()} == {
        "catalog/item-003.json": ("missing", "COMPLETED"),
        "catalog/item-017.json": ("missing", "COMPLETED")}
    assert counts(data, "catalog-usw2") == {"checked": 20, "missing": 2, "mismatched": 0,
                                            "failed": 0, "pending": 0, "archived": 0,
                                            "needs_key": 0}
    assert all(not r["problems"] for r in data["rules"] if r["rule"] != "catalog-usw2")

    status, data = world.run_json("srr", "audit")
    assert status == 3
    old = problems(data, "customers-backup")
    assert set(old) == {f"customers/old-{n}.json" for n in range(3)}
    assert {p["replication_status"] for p in old.values()} == {None}  # never replicated
    assert counts(data, "customers-backup")["checked"] == 8


def test_a_healthy_sandbox_audits_clean(world):
    world.apply("crr", "srr")
    world.put(SOURCE, "catalog/a.json")
    world.put(SOURCE, "customers/c.json")
    for kind in ("crr", "srr"):
        run = world.run(kind, "audit")
        assert run.status == 0, run.stdout
        assert "every replica present" in run.stdout
        assert run.stderr == ""  # no progress line: stderr is not a terminal


def test_what_is_not_a_problem(world):
    """Objects a tag rule does not select, keys deleted in the source (delete marker
    replicated or not), and objects only in the destination."""
    world.apply("crr")
    world.put(SOURCE, "orders/untagged.json")  # the rule wants retain=7y: not replicated
    world.put(SOURCE, "orders/kept.json", tags="retain=7y")
    world.s3(SOURCE).delete_object(Bucket=SOURCE, Key="orders/kept.json")  # marker stays here
    world.put(SOURCE, "catalog/gone.json")
    world.s3(SOURCE).delete_object(Bucket=SOURCE, Key="catalog/gone.json")  # marker replicated
    world.put(DR, "catalog/only-in-the-replica.json")
    status, data = world.run_json("crr", "audit")
    assert status == 0, data
    assert counts(data, "orders-usw2")["checked"] == 0
    assert all(not r["problems"] for r in data["rules"])


def test_tag_rules_report_only_the_objects_they_select(world):
    world.apply("crr")
    world.put(SOURCE, "orders/untagged.json")
    world.put(SOURCE, "orders/tagged.json", tags="retain=7y&team=sales")
    world.delete_replica(DR, "orders/tagged.json")
    status, data = world.run_json("crr", "audit")
    assert status == 3
    assert set(problems(data, "orders-usw2")) == {"orders/tagged.json"}
    assert counts(data, "orders-usw2")["checked"] == 1


def test_a_replica_of_another_size_is_a_mismatch(world):
    world.apply("crr")
    world.put(SOURCE, "inventory/stock.csv", b"sku,count\n1,5\n")
    world.put(DR, "inventory/stock.csv", b"truncated")  # written over by hand
    status, data = world.run_json("crr", "audit")
    assert status == 3
    found = problems(data, "inventory-usw2")["inventory/stock.csv"]
    assert (found["problem"], found["size"], found["replica_size"]) == ("size mismatch", 14, 9)


def test_max_report_caps_the_list_but_not_the_totals(world):
    world.apply("crr")
    keys = [f"catalog/{n}.json" for n in range(4)]
    world.put_many(SOURCE, keys)
    for key in keys[:3]:
        world.delete_replica(DR, key)
    status, data = world.run_json("crr", "audit", "--max-report", "1")
    catalog = next(r for r in data["rules"] if r["rule"] == "catalog-usw2")
    assert (status, len(catalog["problems"]), catalog["problems_total"]) == (3, 1, 3)
    assert catalog["counts"]["missing"] == 3
    text = world.run("crr", "audit", "--max-report", "1").stdout
    assert "... and 2 more (--max-report 1)" in text
    assert "run `backfill`" in text


def test_merges_listings_across_pages(world):
    """1,200 objects: both listings span two pages of 1,000 versions; replicas deleted on
    either side of the page boundary are found, and nothing else."""
    world.apply("crr")
    keys = [f"catalog/p{n:04}" for n in range(1200)]
    world.put_many(SOURCE, keys)
    deleted = {keys[0], keys[998], keys[999], keys[1000], keys[1199]}
    for key in deleted:
        world.delete_replica(DR, key)
    status, data = world.run_json("crr", "audit", "--max-report", "10")
    assert status == 3
    assert set(problems(data, "catalog-usw2")) == deleted
    assert counts(data, "catalog-usw2")["checked"] == 1200


# -- the merge on a fake S3: AWS behaviour the emulator does not have -------------------


class FakeS3:
    """Listings in pages of `page` versions, statuses for HEAD, tags for tag rules."""

    def __init__(self, buckets: dict[str, list[tuple]], statuses: dict[str, str] | None = None,
                 page: int = 2):
        self.buckets, self.statuses, self.page = buckets, statuses or {}, page
        self.heads: list[str] = []

    def get_paginator(self, name: str) -> FakeS3:
        assert name == "list_object_versions"
        return self

    def paginate(self, Bucket: str, Prefix: str):  # boto3's parameter names
        entries = sorted((e for e in self.buckets.get(Bucket, []) if e[0].startswith(Prefix)),
                         key=lambda e: e[0])
        for start in range(0, len(entries), self.page):
            chunk = entries[start:start + self.page]
            yield {"Versions": [{"Key": k, "VersionId": v, "Size": s, "IsLatest": latest}
                                for k, v, s, latest in chunk if s is not None],
                   "DeleteMarkers": [{"Key": k, "VersionId": v, "IsLatest": latest}
                                     for k, v, s, latest in chunk if s is None]}

    def head_object(self, Bucket: str, Key: str, VersionId: str) -> dict:
        self.heads.append(Key)
        return {"ReplicationStatus": self.statuses[Key]} if Key in self.statuses else {}


class FakeClients:
    def __init__(self, s3: FakeS3, endpoint_url: str | None):
        self.s3, self.endpoint_url = s3, endpoint_url

    def get(self, service: str, region: str) -> FakeS3:
        return self.s3


def fake_audit(s3: FakeS3, endpoint_url: str | None, monkeypatch) -> tuple[int, dict]:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    ctx = Context(config=load_config(SHIPPED_CONFIG), kind="crr",
                  clients=FakeClients(s3, endpoint_url), account="123456789012")
    outcome = render.outcome(audit(ctx, argparse.Namespace(max_report=50)))
    return int(outcome.status), problems(outcome.data, "catalog-usw2")


SOURCE_VERSIONS = [
    ("catalog/a", "v1", 5, True),
    ("catalog/b", "v2", 5, True), ("catalog/b", "v1", 3, False),  # an older version
    ("catalog/c", "v3", None, True), ("catalog/c", "v1", 5, False),  # deleted: not expected
    ("catalog/d", "v4", 5, True),
    ("catalog/e", "v5", 5, True),
    ("catalog/f", "v6", 5, True),
]


def test_on_aws_versions_are_compared_exactly(monkeypatch):
    replicas = [("catalog/a", "v1", 5, True),
                ("catalog/b", "v1", 3, False), ("catalog/b", "v0", 5, True),  # stale replica
                ("catalog/d", "v4", 5, True), ("catalog/e", "v5", 5, True),
                ("catalog/f", "v6", 5, True)]
    s3 = FakeS3({SOURCE: SOURCE_VERSIONS, DR: replicas}, {"catalog/b": "PENDING"})
    status, found = fake_audit(s3, None, monkeypatch)
    assert {k: p["problem"] for k, p in found.items()} == {"catalog/b": "pending"}
    assert found["catalog/b"]["replica_version_id"] == "v0"
    assert status == 0  # pending: on its way, not (yet) a problem
    assert s3.heads == ["catalog/b"]  # HEAD only for what is absent


def test_at_an_emulator_replicas_are_matched_by_key_and_size(monkeypatch):
    renamed = [(k, f"replica-{v}", s, latest) for k, v, s, latest in SOURCE_VERSIONS
               if k not in ("catalog/d", "catalog/e")]
    renamed.append(("catalog/e", "replica-v5", 6, True))
    s3 = FakeS3({SOURCE: SOURCE_VERSIONS, DR: renamed}, {"catalog/d": "FAILED"}, page=3)
    status, found = fake_audit(s3, "http://127.0.0.1:1", monkeypatch)
    assert {k: (p["problem"], p["replication_status"]) for k, p in found.items()} == {
        "catalog/d": ("failed", "FAILED"), "catalog/e": ("size mismatch", None)}
    assert status == 3


def test_progress_is_shown_on_a_terminal_only():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    shown, piped = Terminal(), io.StringIO()
    for stream in (shown, piped):
        progress = Progress("audit", stream=stream, after=0, every=0)
        progress.add(1000)
        progress.add(234)
        progress.close()
    assert "audit: 1,234 objects compared" in shown.getvalue()
    assert shown.getvalue().endswith("\r\033[K")
    assert piped.getvalue() == ""


# -- what backfill cannot repair is named for what it is ---------------------------------


def put_before_the_rules(world: World, puts: list[dict[str, Any]]) -> None:
    """Objects written while the source has no replication configuration (S3 never replicates
    them), then the configuration back."""
    s3 = world.s3(SOURCE)
    configuration = s3.get_bucket_replication(Bucket=SOURCE)["ReplicationConfiguration"]
    s3.delete_bucket_replication(Bucket=SOURCE)
    for put in puts:
        s3.put_object(Bucket=SOURCE, Body=b"cold data", **put)
    s3.put_bucket_replication(Bucket=SOURCE, ReplicationConfiguration=configuration)


CUSTOMER_KEY = bytes(range(32))  # an SSE-C key (256 bits)


def test_archived_and_sse_c_objects_are_named_for_what_they_are(world):
    """S3 does not replicate objects in GLACIER or DEEP_ARCHIVE
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/sc-howtoset.html,
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html)
    and they must be restored before a copy
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/restoring-objects.html): "restore
    first", not "run backfill". An SSE-C object cannot even be HEADed without its key
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerSideEncryptionCustomerKeys.html);
    MiniStack answers that HEAD with 400 and the GET with InvalidRequest, as AWS does."""
    world.apply("crr")
    put_before_the_rules(world, [
        {"Key": "catalog/cold.json", "StorageClass": "GLACIER"},
        {"Key": "catalog/colder.json", "StorageClass": "DEEP_ARCHIVE"},
        {"Key": "catalog/secret.bin", "SSECustomerAlgorithm": "AES256",
         "SSECustomerKey": CUSTOMER_KEY}])
    status, data = world.run_json("crr", "audit")
    assert status == 3, data
    found = problems(data, "catalog-usw2")
    assert {k: (p["problem"], p["storage_class"]) for k, p in found.items()} == {
        "catalog/cold.json": ("archived", "GLACIER"),
        "catalog/colder.json": ("archived", "DEEP_ARCHIVE"),
        "catalog/secret.bin": ("needs key", "STANDARD")}
    assert "restore it first" in found["catalog/cold.json"]["detail"]
    assert "customer-provided key (SSE-C)" in found["catalog/secret.bin"]["detail"]
    assert counts(data, "catalog-usw2") == {"checked": 3, "missing": 0, "mismatched": 0,
                                            "failed": 0, "pending": 0, "archived": 2,
                                            "needs_key": 1}
    text = world.run("crr", "audit").stdout
    assert "run `backfill`" not in text  # nothing here that backfill could repair
    assert "restore them first (RestoreObject)" in text
    # into a destination that blocks SSE-C nothing replicates them: the key's holder re-encrypts
    assert "copy each in place re-encrypted with SSE-KMS or SSE-S3" in text
