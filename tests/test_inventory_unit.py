"""The audit from S3 Inventory, piece by piece: the comparison's SQL in DuckDB over hand-built
tables, finding and checking a report, the stand-in's report format, the re-drive manifest,
the Batch job over a manifest of the user's and its role, the INVENTORY config checks, and the
inventory configuration item (botocore's Stubber: moto deletes the bucket on
DeleteBucketInventoryConfiguration).

- verdicts: https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-status.html
  (a source version's status: PENDING, COMPLETED, FAILED; none when no rule selected it, as for
  objects older than their rule, https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html,
  which also says archived objects, GLACIER and DEEP_ARCHIVE, are not replicated)
- on AWS a replica keeps its source's version id:
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html
- a report: gzip'd CSV data files, keys URL-encoded, manifest.json listing each file's key, size
  and MD5, manifest.checksum the MD5 of manifest.json:
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory-location.html and
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory.html
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import duckdb
import pytest
from botocore.stub import ANY, Stubber

from s3replication.config import load_config
from s3replication.config.model import RuleSpec
from s3replication.engine.context import Context
from s3replication.engine.items import run_lane
from s3replication.engine.scope import Scope
from s3replication.errors import ConfigError
from s3replication.inventory import duckdb_engine, redrive
from s3replication.inventory.query import Comparison
from s3replication.inventory.reports import (
    CHECKSUM,
    MANIFEST,
    ReportError,
    check_file,
    newest_report,
    parse_manifest,
)
from s3replication.inventory.standin import SCHEMA, row, write_report
from s3replication.resources.inventory import configuration_item
from s3replication.resources.inventory import lanes as inventory_lanes
from tests.inventory_reports import (
    REPORTS_USE1,
    SOURCE,
    OneClient,
    comparison_tables,
    config_text,
    read_report,
    redrive_entries,
)
from tests.replication_access import Access, decision, role_policies
from tests.shop import run_script

SRC, DST, REPORT_BUCKET = "src", "dst", "reports"
SPECIAL = "p/a b+c%d,é.txt"  # a space, a plus, a percent sign, a comma, and not ASCII


def ok_pair(key: str, size: int = 10, storage: str = "STANDARD") -> tuple[list[str], list[str]]:
    return (row(SRC, key, f"s-{key}", True, False, size, storage_class=storage,
                status="COMPLETED"),
            row(DST, key, f"r-{key}", True, False, size, status="REPLICA"))


def verdict_tables() -> tuple[list[list[str]], list[list[str]]]:
    """One source object per verdict (and the rows the rule does not count), its replica."""
    source, replica = [], []
    for key, storage in (("p/ok.txt", "STANDARD"), (SPECIAL, "STANDARD"),
                         ("p/glacier-ok.txt", "GLACIER")):
        s, r = ok_pair(key, storage=storage)
        source.append(s)
        replica.append(r)
    source += [
        row(SRC, "p/versions.txt", "old", False, False, 1, status="COMPLETED"),
        row(SRC, "p/versions.txt", "new", True, False, 2, status="COMPLETED"),
        row(SRC, "p/missing.txt", "m1", True, False, 4, status="COMPLETED"),  # replica deleted
        row(SRC, "p/old.txt", "o1", True, False, 4),  # older than its rule: no status
        row(SRC, "p/replaced.txt", "x1", True, False, 4, status="COMPLETED"),
        row(SRC, "p/short.txt", "sh", True, False, 10, status="COMPLETED"),
        row(SRC, "p/failed.txt", "f1", True, False, 4, status="FAILED"),
        row(SRC, "p/pending.txt", "pe", True, False, 4, status="PENDING"),
        row(SRC, "p/glacier.txt", "g1", True, False, 4, storage_class="GLACIER"),
        row(SRC, "p/deep.txt", "d1", True, False, 4, storage_class="DEEP_ARCHIVE",
            status="FAILED"),
        row(SRC, "p/glacier-pending.txt", "gp", True, False, 4, storage_class="GLACIER",
            status="PENDING"),
        row(SRC, "p/deleted.txt", "dv", False, False, 5, status="COMPLETED"),
        row(SRC, "p/deleted.txt", "dm", True, True),  # current version a delete marker
        row(SRC, "q/other.txt", "q1", True, False, 4),  # outside the rule's prefix
    ]
    replica += [
        row(DST, "p/versions.txt", "rv", True, False, 2, status="REPLICA"),
        row(DST, "p/replaced.txt", "rx", False, False, 4, status="REPLICA"),
        row(DST, "p/replaced.txt", "rm", True, True),  # the replica's current: a delete marker
        row(DST, "p/short.txt", "rs", True, False, 3, status="REPLICA"),
        row(DST, "p/extra.txt", "re", True, False, 3),  # only in the replica
    ]
    return source, replica


def run(comparison: Comparison, source: list[list[str]],
        replica: list[list[str]]) -> tuple[dict[str, int], list[tuple[str, str]], list[Any]]:
    connection = duckdb.connect()
    comparison_tables(connection, source, replica)
    counts = dict(connection.execute(comparison.counts()).fetchall())
    problems = [(r[0], r[-1]) for r in connection.execute(comparison.problems(100)).fetchall()]
    return counts, problems, connection.execute(comparison.redrive()).fetchall()


def test_every_verdict_of_the_comparison() -> None:
    rule = RuleSpec("r", "crr", SRC, DST, prefix="p/")
    counts, problems, to_redrive = run(Comparison(rule, exact_versions=False), *verdict_tables())
    assert counts == {"ok": 4, "missing": 3, "mismatched": 1, "failed": 1, "pending": 2,
                      "archived": 2}
    assert problems == [
        ("p/deep.txt", "archived"), ("p/failed.txt", "failed"), ("p/glacier-pending.txt",
                                                                 "pending"),
        ("p/glacier.txt", "archived"), ("p/missing.txt", "missing"), ("p/old.txt", "missing"),
        ("p/pending.txt", "pending"), ("p/replaced.txt", "missing"),
        ("p/short.txt", "mismatched")]
    assert to_redrive == [("p/failed.txt", "f1"), ("p/old.txt", "o1")]


def test_replicas_gone_from_the_destination_are_copied_in_place_not_batch_replicated() -> None:
    """A COMPLETED object whose replica is gone (deleted by version id, or its current version
    replaced) cannot be re-replicated by Batch Replication ("does not support re-replicating
    objects that were deleted with the version ID of the object from the destination bucket",
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-batch-replication-batch.html):
    those are listed apart, for copy in place; the job's manifest keeps the others."""
    comparison = Comparison(RuleSpec("r", "crr", SRC, DST, prefix="p/"), exact_versions=False)
    connection = duckdb.connect()
    comparison_tables(connection, *verdict_tables())
    assert connection.execute(comparison.copy_redrive()).fetchall() == [
        ("p/missing.txt", "m1"), ("p/replaced.txt", "x1"), ("p/short.txt", "sh")]
    assert connection.execute(comparison.copy_count()).fetchall() == [(3,)]
    assert ("p/missing.txt", "m1") not in connection.execute(comparison.redrive()).fetchall()


def test_keys_are_decoded_plus_as_space_and_percent_escapes() -> None:
    """A report may encode a space as '+' (form encoding); a literal '+' is then %2B."""
    source = [row(SRC, "p/a b+c.txt", "s1", True, False, 3, status="COMPLETED")]
    form = row(DST, "x", "r1", True, False, 3)
    form[1] = "p/a+b%2Bc.txt"
    counts, problems, _ = run(Comparison(RuleSpec("r", "crr", SRC, DST), False), source, [form])
    assert (counts, problems) == ({"ok": 1}, [])
    form[1] = "p/a+b+c.txt"  # "p/a b c.txt": another key
    counts, problems, _ = run(Comparison(RuleSpec("r", "crr", SRC, DST), False), source, [form])
    assert problems == [("p/a b+c.txt", "missing")]


def test_on_aws_a_replica_must_keep_the_source_version_id() -> None:
    source = [row(SRC, "p/a", "v1", True, False, 3, status="COMPLETED"),
              row(SRC, "p/b", "v2", True, False, 3, status="COMPLETED")]
    replica = [row(DST, "p/a", "other", True, False, 3), row(DST, "p/b", "v2", True, False, 4)]
    rule = RuleSpec("r", "crr", SRC, DST)
    assert run(Comparison(rule, exact_versions=True), source, replica)[1] == [
        ("p/a", "missing"), ("p/b", "mismatched")]
    assert run(Comparison(rule, exact_versions=False), source, replica)[1] == [
        ("p/b", "mismatched")]


def test_a_tag_filtered_rule_counts_what_it_selected_by_replication_status() -> None:
    """Inventory reports carry no tags; a version the rule selected has a status."""
    rule = RuleSpec("r", "crr", SRC, DST, prefix="p/", tags=(("team", "a"),))
    counts, problems, _ = run(Comparison(rule, exact_versions=False), *verdict_tables())
    assert counts == {"ok": 4, "missing": 2, "mismatched": 1, "failed": 1, "pending": 2,
                      "archived": 1}
    assert ("p/old.txt", "missing") not in problems
    assert ("p/glacier.txt", "archived") not in problems


def test_problems_are_capped_in_key_order() -> None:
    source = [row(SRC, f"p/{n}", str(n), True, False, 1) for n in (3, 1, 2)]
    connection = duckdb.connect()
    comparison_tables(connection, source, [])
    rule = RuleSpec("r", "crr", SRC, DST)
    assert [r[0] for r in connection.execute(
        Comparison(rule, False).problems(2)).fetchall()] == ["p/1", "p/2"]


# -- reports taken at different times -------------------------------------------------------
# Each report is a snapshot begun at its manifest's creationTimestamp ("the start time and the
# date when the inventory report generation begins scanning the bucket",
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory-location.html), and
# "eventually consistent (that is, the list might not include recently added or deleted
# objects)" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory.html): a
# source version written since the replica's report began cannot be judged from it.

TAKEN = datetime(2026, 11, 1, 6, 30, 15, 250000, tzinfo=UTC)  # the replica's report


def timed_tables() -> tuple[list[list[str]], list[list[str]]]:
    """Source versions written before and after the replica's report was taken."""
    before, after = TAKEN - timedelta(hours=1), TAKEN + timedelta(hours=1)
    source = [
        row(SRC, "p/before.txt", "b1", True, False, 4, before, status="COMPLETED"),
        row(SRC, "p/second-before.txt", "sb", True, False, 4, TAKEN - timedelta(seconds=1),
            status="COMPLETED"),
        row(SRC, "p/same-second.txt", "ss", True, False, 4, TAKEN + timedelta(milliseconds=100),
            status="COMPLETED"),
        row(SRC, "p/after.txt", "a1", True, False, 4, after, status="COMPLETED"),
        row(SRC, "p/after-none.txt", "an", True, False, 4, after),
        row(SRC, "p/after-ok.txt", "ao", True, False, 4, after, status="COMPLETED"),
        row(SRC, "p/after-pending.txt", "ap", True, False, 4, after, status="PENDING"),
        row(SRC, "p/after-failed.txt", "af", True, False, 4, after, status="FAILED"),
        row(SRC, "p/overwritten.txt", "o2", True, False, 9, after, status="COMPLETED"),
        row(SRC, "p/overwritten.txt", "o1", False, False, 4, before, status="COMPLETED"),
        row(SRC, "p/after-glacier.txt", "ag", True, False, 4, after, storage_class="GLACIER"),
        row(SRC, "p/no-time.txt", "nt", True, False, 4, status="COMPLETED"),
    ]
    plain = row(SRC, "p/after-no-millis.txt", "nm", True, False, 4, status="COMPLETED")
    plain[6] = f"{after:%Y-%m-%dT%H:%M:%S}Z"  # ISO 8601 without milliseconds
    source.append(plain)
    replica = [row(DST, "p/after-ok.txt", "ao", True, False, 4, before, status="REPLICA"),
               row(DST, "p/overwritten.txt", "o1", True, False, 4, before, status="REPLICA")]
    return source, replica


@pytest.mark.parametrize("exact_versions", [True, False])
def test_objects_written_after_the_replicas_report_are_too_new(exact_versions: bool) -> None:
    """Not missing, not a size mismatch, not re-driven: too_new. FAILED and PENDING are the
    source report's own word, archived objects are never replicated: kept as they are."""
    rule = RuleSpec("r", "crr", SRC, DST, prefix="p/")
    comparison = Comparison(rule, exact_versions, replica_taken=TAKEN)
    counts, problems, to_redrive = run(comparison, *timed_tables())
    assert counts == {"ok": 1, "missing": 3, "too_new": 5, "pending": 1, "failed": 1,
                      "archived": 1}
    assert problems == [
        ("p/after-failed.txt", "failed"), ("p/after-glacier.txt", "archived"),
        ("p/after-pending.txt", "pending"), ("p/before.txt", "missing"),
        ("p/no-time.txt", "missing"), ("p/second-before.txt", "missing")]
    assert to_redrive == [("p/after-failed.txt", "af")]
    connection = duckdb.connect()
    comparison_tables(connection, *timed_tables())
    # replicated (COMPLETED) and gone from the replica's report: copied in place, too_new never
    assert connection.execute(comparison.copy_redrive()).fetchall() == [
        ("p/before.txt", "b1"), ("p/no-time.txt", "nt"), ("p/second-before.txt", "sb")]
    judged = dict(connection.execute(
        f"SELECT key, kind FROM ({comparison.judged()}) j").fetchall())
    assert {k for k, kind in judged.items() if kind == "too_new"} == {
        "p/same-second.txt", "p/after.txt", "p/after-none.txt", "p/overwritten.txt",
        "p/after-no-millis.txt"}


@pytest.fixture
def timed_reports(moto_clients: Any, tmp_path: Path) -> Any:
    """The crr script on moto, with INVENTORY, and a report of the source (taken an hour
    after the replica's) and of the replica in their report buckets."""
    from tests.inventory_reports import DESTINATION, REPORTS_USW2

    s3 = moto_clients.get("s3", "us-east-1")
    west = moto_clients.get("s3", "us-west-2")
    s3.create_bucket(Bucket=REPORTS_USE1)
    west.create_bucket(Bucket=REPORTS_USW2,
                       CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    source, replica = timed_tables()
    rename = {SRC: SOURCE, DST: DESTINATION}
    for rows in (source, replica):
        for line in rows:
            line[0] = rename[line[0]]
            line[1] = line[1].replace("p/", "orders/", 1)
    write_report(s3, REPORTS_USE1, SOURCE, source, now=TAKEN + timedelta(hours=2))
    write_report(west, REPORTS_USW2, DESTINATION, replica, now=TAKEN)
    config = tmp_path / "s3_config.py"
    config.write_text(config_text(tmp_path / "log.txt"))
    return (lambda *argv: run_script("crr", "audit", "--inventory", *argv, "--config",
                                     str(config), clients=lambda: moto_clients)), s3


def test_the_audit_shows_both_reports_times_and_counts_too_new_apart(
        timed_reports: Any) -> None:
    audit, s3 = timed_reports
    result = audit("--json")
    assert result.status == 3, result.stderr
    (found,) = json.loads(result.stdout)["rules"]
    assert found["report_times"] == {"source": "2026-11-01T08:30:15.250Z",
                                     "replica": "2026-11-01T06:30:15.250Z"}
    assert found["counts"]["too_new"] == 5 and found["counts"]["missing"] == 3
    assert found["problems_total"] == 6
    assert all(p["problem"] != "too_new" for p in found["problems"])
    listed = {k for _, k, _ in redrive_entries(s3, found["redrive_manifest"])}
    assert listed == {"orders/after-failed.txt"}
    copied = {k for _, k, _ in redrive_entries(s3, found["copy_manifest"])}
    assert copied == {"orders/before.txt", "orders/no-time.txt", "orders/second-before.txt"}
    text = audit().stdout
    assert "5 too new" in text
    assert ("too new: 5 source objects written since the replica's report was taken "
            "(2026-11-01T06:30:15.250Z)") in text


# -- reports -----------------------------------------------------------------------------


@pytest.fixture
def s3(moto_clients: Any) -> Any:
    client = moto_clients.get("s3", "us-east-1")
    client.create_bucket(Bucket=REPORT_BUCKET)
    return client


T0 = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)


def deliver(s3: Any, when: datetime, rows: list[list[str]] | None = None,
            per_file: int = 2) -> str:
    listed = rows if rows is not None else [row(SRC, f"p/{n}", str(n), True, False, n)
                                            for n in range(5)]
    return write_report(s3, REPORT_BUCKET, SRC, listed, now=when, per_file=per_file)


def test_the_newest_complete_report_is_chosen(s3: Any) -> None:
    assert newest_report(s3, REPORT_BUCKET, "inventory", SRC, "s3-replication-audit") is None
    older, newer = deliver(s3, T0), deliver(s3, T0 + timedelta(days=1))
    found = newest_report(s3, REPORT_BUCKET, "inventory", SRC, "s3-replication-audit")
    assert found is not None and found.folder == newer
    assert found.created == T0 + timedelta(days=1) and len(found.files) == 3
    incomplete = deliver(s3, T0 + timedelta(days=2))
    s3.delete_object(Bucket=REPORT_BUCKET, Key=incomplete + CHECKSUM)  # still being delivered
    found = newest_report(s3, REPORT_BUCKET, "inventory", SRC, "s3-replication-audit")
    assert found is not None and found.folder == newer and older < newer < incomplete


def test_a_tampered_manifest_is_refused_by_name(s3: Any) -> None:
    folder = deliver(s3, T0)
    manifest = json.loads(s3.get_object(Bucket=REPORT_BUCKET, Key=folder + MANIFEST)["Body"].read())
    manifest["files"] = manifest["files"][1:]
    s3.put_object(Bucket=REPORT_BUCKET, Key=folder + MANIFEST,
                  Body=json.dumps(manifest).encode())
    where = f"s3://{REPORT_BUCKET}/{folder}{MANIFEST}: its MD5"
    with pytest.raises(ReportError, match=re.escape(where)):
        newest_report(s3, REPORT_BUCKET, "inventory", SRC, "s3-replication-audit")


@pytest.mark.parametrize("change, complaint", [
    (lambda b: bytes([b[0] ^ 1]) + b[1:], "its MD5 does not match the manifest"),
    (lambda b: b + b"\0", "bytes, but the manifest says"),
])
def test_a_data_file_that_is_not_the_manifests_is_refused_by_name(s3: Any, tmp_path: Path,
                                                                  change: Any,
                                                                  complaint: str) -> None:
    deliver(s3, T0)
    report = newest_report(s3, REPORT_BUCKET, "inventory", SRC, "s3-replication-audit")
    assert report is not None
    tampered = report.files[1]
    content = s3.get_object(Bucket=REPORT_BUCKET, Key=tampered.key)["Body"].read()
    check_file(report, tampered, content)  # as delivered: accepted
    s3.put_object(Bucket=REPORT_BUCKET, Key=tampered.key, Body=change(content))
    where = f"s3://{REPORT_BUCKET}/{tampered.key}: "
    with pytest.raises(ReportError, match=re.escape(where) + ".*" + complaint):
        duckdb_engine.fetch(s3, report, tmp_path)
    with pytest.raises(ReportError, match=re.escape(where) + ".*" + complaint):
        check_file(report, tampered, change(content))


def test_a_manifest_without_a_needed_column_is_refused() -> None:
    manifest = {"fileFormat": "CSV", "creationTimestamp": "0", "files": [],
                "fileSchema": "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size"}
    with pytest.raises(ReportError, match="fileSchema has no StorageClass column"):
        parse_manifest(manifest, SRC, "us-east-1", REPORT_BUCKET, "inventory/src/x/")


def test_the_stand_in_writes_reports_in_awss_format(s3: Any) -> None:
    rows = [row(SRC, SPECIAL, "v1", True, False, 7, T0, '"abc"', status="COMPLETED"),
            row(SRC, "p/gone", "v2", True, True, modified=T0),
            row(SRC, "p/plain", None, False, False, 0)]
    folder = deliver(s3, T0, rows, per_file=2)
    assert folder == f"inventory/{SRC}/s3-replication-audit/2026-11-01T06-30Z/"
    got = read_report(s3, REPORT_BUCKET, folder)
    assert set(got.manifest) == {"sourceBucket", "destinationBucket", "version",
                                 "creationTimestamp", "fileFormat", "fileSchema", "files"}
    assert (got.manifest["sourceBucket"], got.manifest["destinationBucket"]) == (
        SRC, f"arn:aws:s3:::{REPORT_BUCKET}")
    assert (got.manifest["version"], got.manifest["fileFormat"]) == ("2016-11-30", "CSV")
    assert got.manifest["creationTimestamp"] == str(int(T0.timestamp() * 1000))
    assert [c.strip() for c in got.manifest["fileSchema"].split(",")] == list(SCHEMA)
    assert got.checksum == hashlib.md5(got.raw_manifest).hexdigest()
    for listed in got.manifest["files"]:
        assert set(listed) == {"key", "size", "MD5checksum"}
        assert listed["key"].startswith(f"inventory/{SRC}/s3-replication-audit/data/")
        content = got.data[listed["key"]]
        assert (listed["size"], listed["MD5checksum"]) == (
            len(content), hashlib.md5(content).hexdigest())
    lines = got.lines()
    assert len(got.manifest["files"]) == 2 and len(lines) == 3  # no header row
    assert all(re.fullmatch(r'"[^"]*"(,"[^"]*")*', line) for line in lines)  # all quoted
    parsed = [next(csv.reader([line])) for line in lines]
    assert parsed[0][:3] == [SRC, "p/a%20b%2Bc%25d%2C%C3%A9.txt", "v1"]
    assert urllib.parse.unquote(parsed[0][1]) == SPECIAL
    assert parsed[0][5:9] == ["7", "2026-11-01T06:30:00.000Z", "abc", "STANDARD"]
    assert parsed[1][3:6] == ["true", "true", ""] and parsed[1][8] == ""  # a delete marker
    assert parsed[2][2:4] == ["", "false"]


# -- the re-drive manifest -----------------------------------------------------------------


def test_redrive_lines_url_encode_keys() -> None:
    assert redrive.manifest_line(SRC, "p/a,b\nc d+e%f.txt", "v1") == (
        "src,p/a%2Cb%0Ac%20d%2Be%25f.txt,v1\n")
    assert redrive.manifest_line(SRC, "p/x", None) == "src,p/x,\n"
    assert redrive.manifest_key("a rule/1", T0) == (
        "inventory/redrive/a%20rule%2F1/20261101T063000Z.csv")


def test_a_written_manifest_reads_back_key_for_key(s3: Any) -> None:
    objects = [("p/a,b\nc.txt", "v1"), (SPECIAL, "v2"), ("p/plain", None)]
    key = "inventory/redrive/r/x.csv"
    url, count = redrive.write_manifest(s3, REPORT_BUCKET, key, SRC, objects)
    assert (url, count) == (f"s3://{REPORT_BUCKET}/{key}", 3)
    text = s3.get_object(Bucket=REPORT_BUCKET, Key=key)["Body"].read().decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert [(b, urllib.parse.unquote(k), v) for b, k, v in rows] == [
        (SRC, key, version or "") for key, version in objects]



# -- a Batch Replication job over the re-drive manifest ------------------------------------

BATCH = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-batch-replication-policies.html"
MANIFEST_KEY = "inventory/redrive/orders/20261101T063000Z.csv"
ROLE = "arn:aws:iam::123456789012:role/inv-src-use1-replication-batch"  # moto's account


@pytest.fixture
def batch(moto_clients: Any, tmp_path: Path) -> Any:
    """The crr script on moto with a re-drive manifest in the us-east-1 report bucket; its
    s3control client stubbed."""
    s3 = moto_clients.get("s3", "us-east-1")
    s3.create_bucket(Bucket=REPORTS_USE1)
    url, _ = redrive.write_manifest(s3, REPORTS_USE1, MANIFEST_KEY, SOURCE,
                                    [("orders/a b.json", "v1"), ("orders/c", "v2")])
    config = tmp_path / "s3_config.py"
    config.write_text(config_text(tmp_path / "log.txt"))
    control = moto_clients.get("s3control", "us-east-1")
    with Stubber(control) as stub:
        yield (lambda *argv: run_script("crr", "backfill", *argv, "--config", str(config),
                                        clients=lambda: moto_clients)), stub, url, s3
        stub.assert_no_pending_responses()


def test_a_job_over_exactly_the_manifests_objects(batch: Any) -> None:
    """A CSV manifest of the user's: Manifest.Spec (S3BatchOperations_CSV_20180820, its
    Fields) and Location (ObjectArn and ETag), no ManifestGenerator
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_JobManifestSpec.html,
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_JobManifestLocation.html,
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-batch-replication-batch.html)."""
    run, stub, url, s3 = batch
    etag = s3.head_object(Bucket=REPORTS_USE1, Key=MANIFEST_KEY)["ETag"].strip('"')
    reports = f"arn:aws:s3:::{SOURCE}"
    stub.add_response("create_job", {"JobId": "job-0001"}, {
        "AccountId": "123456789012", "ConfirmationRequired": False, "Priority": 10,
        "RoleArn": ROLE, "ClientRequestToken": ANY,
        "Description": f"cr_replication backfill of {SOURCE}",
        "Operation": {"S3ReplicateObject": {}},
        "Manifest": {"Spec": {"Format": "S3BatchOperations_CSV_20180820",
                              "Fields": ["Bucket", "Key", "VersionId"]},
                     "Location": {"ObjectArn": f"arn:aws:s3:::{REPORTS_USE1}/{MANIFEST_KEY}",
                                  "ETag": etag}},
        "Report": {"Bucket": reports, "Prefix": "s3-replication-batch-reports",
                   "Format": "Report_CSV_20180820", "Enabled": True, "ReportScope": "AllTasks",
                   "ExpectedBucketOwner": "123456789012"},
        "Tags": [{"Key": "s3replication:managed", "Value": "true"}]})
    result = run("--method", "batch", "--manifest", url, "--yes", "--json")
    assert result.status == 0, result.stderr
    assert json.loads(result.stdout)["jobs"][0]["job_id"] == "job-0001"


def test_the_batch_role_reads_that_manifest_object_and_no_other(batch: Any,
                                                                 moto_clients: Any) -> None:
    """The role's permissions with a manifest of the user's (""" + BATCH + """):
    s3:GetObject and s3:GetObjectVersion on the manifest, s3:InitiateReplication on the source's
    objects, s3:PutObject for the completion report; nothing to generate a manifest. Judged by
    MiniStack's IAM policy evaluator on the policy IAM holds."""
    run, stub, url, _ = batch
    stub.add_response("create_job", {"JobId": "job-0002"}, None)
    assert run("--manifest", url, "--yes").status == 0  # batch: the default with a manifest
    manifest = f"arn:aws:s3:::{REPORTS_USE1}/{MANIFEST_KEY}"
    policies = role_policies(moto_clients.get("iam", "us-east-1"), ROLE.rsplit("/", 1)[1])
    source, reports = f"arn:aws:s3:::{SOURCE}", f"arn:aws:s3:::{REPORTS_USE1}"
    wanted = [
        ("s3:GetObject", manifest, "Allow"), ("s3:GetObjectVersion", manifest, "Allow"),
        ("s3:InitiateReplication", f"{source}/orders/a b.json", "Allow"),
        ("s3:PutObject", f"{source}/s3-replication-batch-reports/job-1/r.csv", "Allow"),
        ("s3:GetObject", f"{reports}/inventory/redrive/orders/b.csv", "ImplicitDeny"),
        ("s3:GetObject", f"{manifest}.old", "ImplicitDeny"),
        ("s3:GetObject", f"{source}/orders/a b.json", "ImplicitDeny"),
        ("s3:PutInventoryConfiguration", source, "ImplicitDeny"),
    ]
    assert [(action, resource, decision(ROLE, policies, Access(action, resource, "us-east-1",
                                                                BATCH)))
            for action, resource, _ in wanted] == wanted


@pytest.mark.parametrize("manifest, complaint", [
    ("s3://inv-reports-use1/", "give the manifest as s3://BUCKET/KEY"),
    ("https://inv-reports-use1/x.csv", "give the manifest as s3://BUCKET/KEY"),
    (f"s3://{REPORTS_USE1}/other.csv", "not a source of this script's rules"),
    (f"s3://{REPORTS_USE1}/empty.csv", "it lists no objects"),
    (f"s3://{REPORTS_USE1}/nothing.csv", "no such object"),
])
def test_a_manifest_that_names_no_source_of_the_rules_is_refused(batch: Any, manifest: str,
                                                                 complaint: str) -> None:
    run, _, _, s3 = batch
    s3.put_object(Bucket=REPORTS_USE1, Key="other.csv", Body=b"shopco-other,orders/a,v1\n")
    s3.put_object(Bucket=REPORTS_USE1, Key="empty.csv", Body=b"")
    result = run("--method", "batch", "--manifest", manifest)
    assert result.status == 2 and complaint in result.stderr, result.stderr
    assert result.mutating == []


def test_a_manifest_of_replicas_deleted_is_copied_in_place_even_when_batch_is_asked(
        batch: Any) -> None:
    """`audit --inventory` marks the manifest of replicas deleted from the destination; backfill
    copies its objects in place and starts no job: Batch Replication does not re-replicate
    objects deleted from the destination by version id
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-batch-replication-batch.html).
    The s3control client is stubbed with no response: a CreateJob would fail the run."""
    run, _, _, s3 = batch
    s3.create_bucket(Bucket=SOURCE)
    s3.put_bucket_versioning(Bucket=SOURCE, VersioningConfiguration={"Status": "Enabled"})
    listed = [(key, s3.put_object(Bucket=SOURCE, Key=key, Body=b"{}",
                                  ContentType="application/json")["VersionId"])
              for key in ("orders/a b.json", "orders/c")]
    key = "inventory/redrive/orders/20261101T063000Z-copy-in-place.csv"
    url, _ = redrive.write_manifest(s3, REPORTS_USE1, key, SOURCE, listed,
                                    redrive.copy_metadata("orders"))
    dry = run("--method", "batch", "--manifest", url)
    assert (dry.status, dry.mutating) == (3, [])
    assert ("backfill would copy 2 objects in place (cr_replication); run "
            f"`backfill --manifest {url} --yes`") in dry.stdout
    assert "they are copied in place, since Batch Replication does not re-replicate" in dry.stdout
    assert "(not by a batch job, as --method batch asked)" in dry.stdout

    result = run("--method", "batch", "--manifest", url, "--yes", "--json")
    assert result.status == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["method"], data["rules"][0]["copied"]) == ("copy", 2)
    assert [c[1] for c in result.calls if c[0] == "s3control"] == []
    for name, version in listed:
        versions = s3.list_object_versions(Bucket=SOURCE, Prefix=name)["Versions"]
        current = next(v for v in versions if v["IsLatest"])
        assert (len(versions), current["VersionId"] != version) == (2, True), name
        head = s3.head_object(Bucket=SOURCE, Key=name)
        assert head["ContentType"] == "application/json"


def test_the_plan_names_the_manifest_and_how_many_objects_it_lists(batch: Any) -> None:
    """A job over a manifest of the user's runs on exactly its objects, one task each
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-create-job.html#specify-batchjob-manifest):
    the plan says which manifest and how many, not the prefixes of a generated manifest."""
    run, _, url, s3 = batch
    dry = run("--method", "batch", "--manifest", url)
    assert (dry.status, dry.mutating) == (3, []), dry.stderr
    assert f"batch job: the 2 objects manifest {url} lists (exactly those" in dry.stdout
    assert f"run `backfill --manifest {url} --yes`" in dry.stdout
    assert "prefixes" not in dry.stdout
    data = json.loads(run("--manifest", url, "--json").stdout)
    assert [(j["manifest"], j["manifest_objects"]) for j in data["jobs"]] == [(url, 2)]


NO_BATCH = ("error: --method batch: the sandbox (MiniStack) has no S3 Batch Operations; use "
            "--method copy (the sandbox's default), which copies the objects the audit finds "
            "missing in place, so that S3 replicates them\n")


@pytest.mark.parametrize("argv", [(), ("--yes",), ("--manifest", "URL", "--yes")])
def test_the_sandbox_refuses_batch_before_any_call(batch: Any, moto_clients: Any,
                                                   argv: tuple[str, ...]) -> None:
    """MiniStack serves no S3 Batch Operations (CreateJob): `--sandbox --method batch` is a
    usage error (exit 2) found before the first call, so no batch role is made."""
    run, _, url, _ = batch
    result = run("--sandbox", "--method", "batch", *[url if a == "URL" else a for a in argv])
    assert (result.status, result.stderr, result.calls) == (2, NO_BATCH, [])
    assert moto_clients.get("iam", "us-east-1").list_roles()["Roles"] == []


def test_the_sandbox_refuses_a_manifest_that_needs_a_job_before_any_change(
        batch: Any, moto_clients: Any) -> None:
    """With `--manifest` batch is the default method, and whether the manifest needs a job
    (not one of replicas deleted, which is copied in place) shows only in the manifest: the
    refusal comes after reading it, before any change: exit 1, since exit 2 promises that
    no call was made."""
    run, _, url, _ = batch
    result = run("--sandbox", "--manifest", url, "--yes")
    assert result.status == 1
    assert result.stderr == (f"error: --manifest {url} needs a Batch Replication job: the "
                             "sandbox (MiniStack) has no S3 Batch Operations; `backfill "
                             "--method copy` (without --manifest) copies the objects the audit "
                             "finds missing in place, so that S3 replicates them\n")
    assert result.mutating == []
    assert moto_clients.get("iam", "us-east-1").list_roles()["Roles"] == []


def test_copy_in_place_takes_no_manifest(batch: Any) -> None:
    run, _, url, _ = batch
    result = run("--method", "copy", "--manifest", url, "--yes")
    assert result.status == 2 and "--manifest is for --method batch" in result.stderr
    assert result.mutating == []


# -- INVENTORY in the config, and the inventory configuration it asks for ------------------


def test_every_inventory_problem_is_reported_at_once(tmp_path: Path) -> None:
    """A report bucket per Region of the rules' buckets: S3 delivers a report only to a bucket
    in the inventoried bucket's Region
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory.html); CSV, the
    format S3 Batch Replication takes
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-batch-replication-batch.html)."""
    reports = {"us-east-1": SOURCE, "mars-1": "x-reports", "eu-west-1": "Bad_Name",
               "ap-south-1": "dup-reports", "ap-southeast-1": "dup-reports", "us-west-2": 7}
    path = tmp_path / "s3_config.py"
    path.write_text(config_text(tmp_path / "log.txt", reports=reports)
                    + "INVENTORY['format'] = 'ORC'\nINVENTORY['schedule'] = 'Weekly'\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert [p.split(":")[0] for p in caught.value.problems] == [
        "INVENTORY", 'INVENTORY["format"]', 'INVENTORY["buckets"]["us-east-1"]',
        'INVENTORY["buckets"]["mars-1"]', 'INVENTORY["buckets"]["eu-west-1"]',
        'INVENTORY["buckets"]["ap-southeast-1"]', 'INVENTORY["buckets"]["us-west-2"]',
        'INVENTORY["buckets"]', 'INVENTORY["buckets"]']
    text = str(caught.value)
    for complaint in ('unknown key "schedule"', '"ORC" is not supported', "is also in BUCKETS",
                      "not a Region name", 'invalid bucket name "Bad_Name"',
                      "report bucket of another Region too", "must be a str, not int",
                      "no report bucket for us-east-1", "no report bucket for us-west-2"):
        assert complaint in text
    path.write_text(config_text(tmp_path / "log.txt") + "INVENTORY = ['inv-reports-use1']\n")
    with pytest.raises(ConfigError, match="INVENTORY: must be a dict"):
        load_config(path)


CONFIGURE = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/configure-inventory.html"


@pytest.fixture
def configuration(tmp_path: Path) -> Any:
    """The inventory configuration item of the source, its S3 client stubbed."""
    path = tmp_path / "s3_config.py"
    path.write_text(config_text(tmp_path / "log.txt"))
    client = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x",
                           region_name="us-east-1").client("s3")
    ctx = Context(config=load_config(path), kind="crr", clients=OneClient(client),
                  account="111122223333")
    with Stubber(client) as stub:
        yield ctx, stub
        stub.assert_no_pending_responses()


# daily, every version, CSV into the Region's report bucket under inventory/
WANTED: dict[str, Any] = {
    "Id": "s3-replication-audit", "IsEnabled": True, "IncludedObjectVersions": "All",
    "Schedule": {"Frequency": "Daily"},
    "OptionalFields": ["ETag", "EncryptionStatus", "IsMultipartUploaded", "LastModifiedDate",
                       "ReplicationStatus", "Size", "StorageClass"],
    "Destination": {"S3BucketDestination": {
        "AccountId": "111122223333", "Bucket": f"arn:aws:s3:::{REPORTS_USE1}", "Format": "CSV",
        "Prefix": "inventory"}}}
KEYS = {"Bucket": SOURCE, "Id": "s3-replication-audit"}


def test_the_inventory_configuration_is_planned_applied_and_kept(configuration: Any) -> None:
    """Put, read back, deleted by destroy (""" + CONFIGURE + """)."""
    ctx, stub = configuration
    item = configuration_item(ctx, ctx.bucket(SOURCE), removing=False)
    stub.add_client_error("get_bucket_inventory_configuration", "NoSuchConfiguration",
                          http_status_code=404, expected_params=KEYS)
    assert [c.action for c in run_lane([item], apply=False)] == ["create"]
    stub.add_client_error("get_bucket_inventory_configuration", "NoSuchConfiguration",
                          http_status_code=404, expected_params=KEYS)
    stub.add_response("put_bucket_inventory_configuration", {},
                      {**KEYS, "InventoryConfiguration": WANTED})
    assert [c.action for c in run_lane([item], apply=True)] == ["create"]
    fields = list(reversed(WANTED["OptionalFields"]))  # S3 keeps no order
    stub.add_response("get_bucket_inventory_configuration",
                      {"InventoryConfiguration": {**WANTED, "OptionalFields": fields}}, KEYS)
    assert run_lane([item], apply=True) == []
    removed = configuration_item(ctx, ctx.bucket(SOURCE), removing=True)
    stub.add_response("get_bucket_inventory_configuration",
                      {"InventoryConfiguration": WANTED}, KEYS)
    stub.add_response("delete_bucket_inventory_configuration", {}, KEYS)
    assert [c.action for c in run_lane([removed], apply=True)] == ["delete"]


def test_a_configuration_of_another_id_is_none_of_ours(configuration: Any) -> None:
    ctx, stub = configuration
    item = configuration_item(ctx, ctx.bucket(SOURCE), removing=True)
    stub.add_response("get_bucket_inventory_configuration",
                      {"InventoryConfiguration": {**WANTED, "Id": "theirs"}}, KEYS)
    assert run_lane([item], apply=True) == []


def test_no_inventory_configuration_is_sent_to_an_emulator(configuration: Any) -> None:
    ctx, _ = configuration
    emulated = Context(config=ctx.config, kind="crr", clients=OneClient(None, custom=True),
                       account="000000000000")
    assert inventory_lanes(emulated, Scope.of(emulated)) == []
    assert any("not set at an emulator" in note for note in emulated.notes)
    assert len(inventory_lanes(ctx, Scope.of(ctx))) == 2  # the source and the replica
