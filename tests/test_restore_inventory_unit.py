"""`restore --inventory`: the plan from an S3 Inventory report (inventory/restore_query.py in
DuckDB) gives the same counts, samples, copies, archived and hides as the listing path's
`judge` over the same versions; the Batch Operations copy job the apply builds; its role.

- a report lists every version and delete marker with VersionId, IsLatest, IsDeleteMarker,
  LastModifiedDate, Size, ETag, StorageClass, keys URL-encoded:
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory.html and
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory-location.html
- the Copy operation copies each manifest object (`S3PutObjectCopy`, TargetResource the
  bucket), the manifest's VersionId field naming the version read:
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-copy-object.html,
  https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_CreateJob.html,
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-create-job.html#specify-batchjob-manifest
- the copy job's role: https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-iam-role-policies.html
- DeleteObjects without version ids adds delete markers in a versioned bucket:
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeletingObjectVersions.html
No emulator has Batch Operations: the job request is checked against botocore's model.
"""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from botocore.stub import ANY, Stubber

from s3replication.commands.restore.batch_copy import hide, job_request
from s3replication.commands.restore.inventory_plan import check_scope, plan_from_inventory
from s3replication.commands.restore.plan import GROUPS, Scope, Version, judge
from s3replication.config import load_config
from s3replication.config.model import RuleSpec
from s3replication.engine.context import Context
from s3replication.errors import UsageError
from s3replication.inventory.query import column_name
from s3replication.inventory.restore_query import TABLE, RestoreQuery
from s3replication.inventory.standin import SCHEMA, row, write_report
from tests.inventory_reports import REPORTS_USE1, SOURCE, config_text, redrive_entries

TO = datetime(2026, 12, 6, 10, 0, 0, tzinfo=UTC)
BEFORE, AFTER = TO - timedelta(hours=1), TO + timedelta(hours=1)
SPECIAL = "orders/a b+c%d,é.txt"


def v(key: str, vid: str, when: datetime, latest: bool = False, marker: bool = False,
      size: int = 10, storage: str = "STANDARD", etag: str = "") -> Version:
    return Version(key, vid, when, latest, marker, 0 if marker else size,
                   "" if marker else storage, etag or f"e-{vid}")


def scenario() -> list[Version]:
    """One key per case, newest version first per key, keys in order."""
    k = "orders/"
    versions = [
        v(k + "unchanged", "u1", BEFORE, latest=True),
        v(k + "overwritten", "o2", AFTER, latest=True), v(k + "overwritten", "o1", BEFORE),
        v(k + "deleted", "d2", AFTER, latest=True, marker=True), v(k + "deleted", "d1", BEFORE),
        v(k + "created", "c1", AFTER, latest=True),
        # deleted before TIME, written again since: created
        v(k + "recreated", "r3", AFTER, latest=True),
        v(k + "recreated", "r2", BEFORE, marker=True), v(k + "recreated", "r1", BEFORE),
        # created and deleted since: nothing then, nothing now
        v(k + "gone-both", "g2", AFTER, latest=True, marker=True), v(k + "gone-both", "g1", AFTER),
        # restored already: a copy of the version at TIME (same ETag and size)
        v(k + "restored", "s3", AFTER, latest=True, etag="same"),
        v(k + "restored", "s2", AFTER), v(k + "restored", "s1", BEFORE, etag="same"),
        # overwritten, its version at TIME archived
        v(k + "cold", "f2", AFTER, latest=True), v(k + "cold", "f1", BEFORE, storage="GLACIER"),
        # a version written at TIME exactly counts as there at TIME
        v(k + "at-time", "t2", TO, latest=True), v(k + "at-time", "t1", BEFORE),
        v(SPECIAL, "x2", AFTER, latest=True), v(SPECIAL, "x1", BEFORE),
        v("other/outside", "y2", AFTER, latest=True), v("other/outside", "y1", BEFORE),
    ]
    return sorted(versions, key=lambda x: x.key)  # stable: newest first within a key


def random_versions(keys: int, seed: int) -> list[Version]:
    """Random histories, one write a second per key (no ties within a second)."""
    chance = random.Random(seed)
    versions: list[Version] = []
    for n in range(keys):
        key = f"orders/{n:05d}"
        count = chance.randint(1, 4)
        start = TO - timedelta(seconds=chance.randint(1, 4))
        history = [v(key, f"{key}-v{i}", start + timedelta(seconds=2 * i),
                     marker=chance.random() < 0.3,
                     storage="GLACIER" if chance.random() < 0.05 else "STANDARD")
                   for i in range(count)]
        history[-1] = history[-1]._replace(is_latest=True)
        versions += reversed(history)
    return versions


def report_rows(bucket: str, versions: list[Version]) -> list[list[str]]:
    return [row(bucket, x.key, x.version_id, x.is_latest, x.is_delete_marker,
                None if x.is_delete_marker else x.size, x.last_modified, x.etag,
                x.storage_class or "STANDARD") for x in versions]


def inventory_plan(versions: list[Version], prefix: str, max_report: int,
                   materialized: bool = False) -> dict[str, Any]:
    connection = duckdb.connect()
    columns = ", ".join(f"{column_name(c)} VARCHAR" for c in SCHEMA)
    connection.execute(f"CREATE TABLE {TABLE} ({columns})")
    connection.executemany(f"INSERT INTO {TABLE} VALUES ({', '.join('?' for _ in SCHEMA)})",
                           report_rows(SOURCE, versions))
    query = RestoreQuery(prefix, TO)
    if materialized:
        connection.execute(query.materialize())
        query = RestoreQuery(prefix, TO, materialized=True)
    counts = dict.fromkeys(GROUPS, 0)
    counts.update(dict(connection.execute(query.counts()).fetchall()))
    samples: dict[str, list[str]] = {g: [] for g in GROUPS}
    for group, key in connection.execute(query.samples(max_report)).fetchall():
        samples[group].append(key)
    return {"counts": counts, "samples": samples,
            "copies": connection.execute(query.copies()).fetchall(),
            "archived": [(key, version) for key, version, *_ in
                         connection.execute(query.copies(archived=True)).fetchall()],
            "hides": [k for (k,) in connection.execute(query.hides()).fetchall()],
            "before": dict(connection.execute(query.before()).fetchall())}


def listing_plan(versions: list[Version], prefix: str, max_report: int) -> dict[str, Any]:
    plan = judge([x for x in versions if x.key.startswith(prefix)], TO, max_report)
    return {"counts": plan.counts, "samples": plan.samples, "copies": plan.copies,
            "archived": plan.archived, "hides": plan.hides, "before": plan.before}


@pytest.mark.parametrize("materialized", [False, True])
def test_the_inventory_plan_is_the_listing_plan_case_by_case(materialized: bool) -> None:
    versions = scenario()
    found = inventory_plan(versions, "orders/", 100, materialized)
    assert found == listing_plan(versions, "orders/", 100)
    assert found["counts"] == {"unchanged": 4, "overwritten": 3, "deleted": 1, "created": 2}
    assert ("orders/cold", "f1") in found["archived"]
    assert (SPECIAL, "x1", 10, "STANDARD") in found["copies"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_inventory_plan_is_the_listing_plan_on_random_histories(seed: int) -> None:
    versions = random_versions(400, seed)
    assert inventory_plan(versions, "orders/", 7) == listing_plan(versions, "orders/", 7)


def test_the_scope_prefix_limits_the_plan() -> None:
    versions = scenario()
    found = inventory_plan(versions, "other/", 5)
    assert found == listing_plan(versions, "other/", 5)
    assert found["counts"]["overwritten"] == 1
    assert found["copies"] == [("other/outside", "y1", 10, "STANDARD")]


@pytest.fixture
def reported(moto_clients: Any, tmp_path: Path) -> Context:
    """The crr script's context on moto, with a report of the source's versions (scenario)."""
    s3 = moto_clients.get("s3", "us-east-1")
    s3.create_bucket(Bucket=REPORTS_USE1)
    write_report(s3, REPORTS_USE1, SOURCE, report_rows(SOURCE, scenario()),
                 now=AFTER + timedelta(hours=1), per_file=7)
    config = tmp_path / "s3_config.py"
    config.write_text(config_text(tmp_path / "log.txt"))
    return Context(config=load_config(config), kind="crr", clients=moto_clients,
                   account="123456789012")


def test_plan_from_inventory_reads_the_newest_report(reported: Context) -> None:
    plan = plan_from_inventory(reported, Scope(SOURCE, "orders/"), TO, 2, "duckdb")
    wanted = judge([x for x in scenario() if x.key.startswith("orders/")], TO, 2)
    assert (plan.counts, plan.samples, plan.copies, plan.archived, plan.hides, plan.before) == (
        wanted.counts, wanted.samples, wanted.copies, wanted.archived, wanted.hides,
        wanted.before)
    assert plan.bucket == SOURCE and not plan.manifest


def test_plan_from_inventory_streams_the_copies_to_a_manifest(reported: Context,
                                                              moto_clients: Any) -> None:
    plan = plan_from_inventory(reported, Scope(SOURCE, "orders/"), TO, 2, "duckdb",
                               manifest=True)
    wanted = judge([x for x in scenario() if x.key.startswith("orders/")], TO, 2)
    assert plan.copies == [] and plan.copy_count == len(wanted.copies)
    entries = redrive_entries(moto_clients.get("s3", "us-east-1"), plan.manifest)
    assert entries == [(SOURCE, key, version) for key, version, *_ in wanted.copies]


def test_what_the_inventory_cannot_plan_is_a_usage_error() -> None:
    tagged = RuleSpec("t", "CRR", SOURCE, "dst", "orders/", tags=(("team", "a"),))
    with pytest.raises(UsageError, match="filters by tags"):
        check_scope(Scope(SOURCE, "orders/", rule=tagged))
    with pytest.raises(UsageError, match="--from replica"):
        check_scope(Scope(SOURCE, "orders/", rule=tagged, from_replica=True))


def test_the_copy_job_copies_each_listed_version_over_its_key(reported: Context,
                                                              moto_clients: Any) -> None:
    bucket = reported.bucket(SOURCE)
    manifest = f"arn:aws:s3:::{REPORTS_USE1}/inventory/restore/x-copies.csv"
    request = job_request(reported, bucket, manifest, "abc", "arn:aws:iam::1:role/r",
                          REPORTS_USE1, "token", TO.isoformat())
    assert request["Operation"] == {"S3PutObjectCopy": {
        "TargetResource": f"arn:aws:s3:::{SOURCE}", "MetadataDirective": "COPY"}}
    assert request["Manifest"] == {
        "Spec": {"Format": "S3BatchOperations_CSV_20180820",
                 "Fields": ["Bucket", "Key", "VersionId"]},
        "Location": {"ObjectArn": manifest, "ETag": "abc"}}
    assert request["Report"]["Enabled"] and request["Report"]["ReportScope"] == "AllTasks"
    control = moto_clients.get("s3control", "us-east-1")
    with Stubber(control) as stub:  # botocore validates the request against its model
        stub.add_response("create_job", {"JobId": "never"}, request)
        control.create_job(**request)


def test_the_copy_role_reads_versions_and_writes_over_keys() -> None:
    from s3replication.commands.batch_role import copy_policy
    from s3replication.config.model import BucketSpec

    bucket = BucketSpec(SOURCE, "us-east-1", None, "r")
    policy = copy_policy(bucket, REPORTS_USE1, "arn:aws:s3:::m/k", "arn:aws:kms:k")
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert {"s3:GetObjectVersion", "s3:GetObjectVersionTagging", "s3:PutObject",
            "s3:PutObjectTagging", "kms:Decrypt", "kms:GenerateDataKey"} <= actions
    assert not any("Delete" in a for a in actions)
    assert json.dumps(policy)


def test_hiding_adds_delete_markers_and_deletes_no_version(moto_clients: Any) -> None:
    s3 = moto_clients.get("s3", "us-east-1")
    s3.create_bucket(Bucket="hide-me")
    s3.put_bucket_versioning(Bucket="hide-me", VersioningConfiguration={"Status": "Enabled"})
    keys = [f"k/{n:04d}" for n in range(1003)]  # two DeleteObjects calls
    for key in keys:
        s3.put_object(Bucket="hide-me", Key=key, Body=b"x")
    made = hide(s3, "hide-me", keys)
    assert [k for k, _ in made] == keys and all(marker for _, marker in made)
    listed = s3.list_object_versions(Bucket="hide-me", MaxKeys=3000)
    assert len(listed["Versions"]) == 1003 and len(listed["DeleteMarkers"]) == 1003


def test_the_batch_apply_starts_the_copy_job_and_hides_the_created_keys(
        reported: Context, moto_clients: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from s3replication.commands.batch_role import COPY_POLICY_NAME, role_name
    from s3replication.commands.restore import batch_copy

    s3 = moto_clients.get("s3", "us-east-1")
    s3.create_bucket(Bucket=SOURCE)
    s3.put_bucket_versioning(Bucket=SOURCE, VersioningConfiguration={"Status": "Enabled"})
    plan = plan_from_inventory(reported, Scope(SOURCE, "orders/"), TO, 2, "duckdb",
                               manifest=True)
    for key in plan.hides:
        s3.put_object(Bucket=SOURCE, Key=key, Body=b"added since")
    control = moto_clients.get("s3control", "us-east-1")
    monkeypatch.setattr(batch_copy, "s3control", lambda ctx, region: control)
    reports, key = plan.manifest[5:].split("/", 1)
    etag = s3.head_object(Bucket=reports, Key=key)["ETag"].strip('"')
    arn = f"arn:aws:s3:::{reports}/{key}"
    wanted = job_request(reported, reported.bucket(SOURCE), arn, etag,
                         f"arn:aws:iam::123456789012:role/{role_name(reported.bucket(SOURCE))}",
                         reports, "token", TO.isoformat())
    wanted["ClientRequestToken"] = ANY
    with Stubber(control) as stub:
        stub.add_response("create_job", {"JobId": "job-restore-1"}, wanted)
        done = batch_copy.apply_batch(reported, plan)
        stub.assert_no_pending_responses()
    assert done.job_id == "job-restore-1"
    assert [k for k, _ in done.hidden] == plan.hides and plan.hides
    iam = moto_clients.get("iam", "us-east-1")
    policy = iam.get_role_policy(RoleName=role_name(reported.bucket(SOURCE)),
                                 PolicyName=COPY_POLICY_NAME)["PolicyDocument"]
    assert any(f"{reports}/{key}" in r for s in policy["Statement"] for r in s["Resource"])
    markers = s3.list_object_versions(Bucket=SOURCE)["DeleteMarkers"]
    assert {m["Key"] for m in markers} == set(plan.hides)


def test_restore_inventory_yes_starts_the_copy_job_and_says_its_id(
        reported: Context, moto_clients: Any, tmp_path: Path) -> None:
    """`restore --inventory --yes` on the command line: the copies go to a manifest and one
    Batch Operations copy job (create_job checked against botocore's model by the Stubber);
    the output names the job, the manifest, the report and the keys hidden."""
    from tests.shop import run_script

    s3 = moto_clients.get("s3", "us-east-1")
    s3.create_bucket(Bucket=SOURCE)
    s3.put_bucket_versioning(Bucket=SOURCE, VersioningConfiguration={"Status": "Enabled"})
    control = moto_clients.get("s3control", "us-east-1")
    argv = ("restore", "--to", "2026-12-06T10:00:00Z", "--bucket", SOURCE, "--prefix",
            "orders/", "--inventory", "--yes", "--config", str(tmp_path / "s3_config.py"))
    with Stubber(control) as stub:
        stub.add_response("create_job", {"JobId": "job-restore-cli"},
                          {k: ANY for k in ("AccountId", "ConfirmationRequired", "Priority",
                                            "RoleArn", "ClientRequestToken", "Description",
                                            "Operation", "Manifest", "Report", "Tags")})
        stub.add_response("create_job", {"JobId": "job-restore-json"},
                          {k: ANY for k in ("AccountId", "ConfirmationRequired", "Priority",
                                            "RoleArn", "ClientRequestToken", "Description",
                                            "Operation", "Manifest", "Report", "Tags")})
        said = run_script("crr", *argv, clients=lambda: moto_clients)
        found = run_script("crr", *argv, "--json", clients=lambda: moto_clients)
        stub.assert_no_pending_responses()
    assert said.status == 3, said.stderr  # the scenario has an archived version: exit 3
    assert "copy job job-restore-cli started" in said.stdout
    assert "s3://" + REPORTS_USE1 + "/inventory/restore/" in said.stdout
    assert re.search(r"\d+ keys? hidden with a delete marker", said.stdout), said.stdout
    assert "archived" in said.stdout
    data = json.loads(found.stdout)
    assert data["job_id"] == "job-restore-json" and data["job_copies"] > 0
    assert data["manifest"].startswith(f"s3://{REPORTS_USE1}/inventory/restore/")
    assert data["job_report"].endswith("/job-job-restore-json/")
    calls = [op for _, op, _ in said.calls]
    assert "CopyObject" not in calls and "HeadObject" in calls
