"""`backfill`: copy in place end to end on MiniStack (repairs what audit finds, keeps metadata
and tags, multipart above the CopyObject limit); Batch Replication through botocore's Stubber
(no emulator has S3 Batch Operations), every request checked against botocore's model."""

from __future__ import annotations

import json
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest
from botocore.exceptions import ParamValidationError
from botocore.stub import ANY, Stubber

from s3replication.commands import object_copy
from tests.replicas import World
from tests.shop import run_script, shop_config

SOURCE, DR, ASSETS = "shopco-data-use1", "shopco-data-usw2", "shopco-assets-use1"
ACCOUNT = "123456789012"  # moto's


@pytest.fixture
def world(ministack_endpoint: str, reset_ministack, tmp_path: Path) -> World:
    made = World.make(ministack_endpoint, tmp_path)
    made.apply("crr")
    return made


@pytest.fixture
def broken(world: World) -> World:
    """Two objects that predate the rules, two replicas deleted by hand, one healthy object."""
    configuration = world.s3(SOURCE).get_bucket_replication(Bucket=SOURCE)
    world.s3(SOURCE).delete_bucket_replication(Bucket=SOURCE)
    world.put(SOURCE, "catalog/before-the-rule.json", b"{}", ContentType="application/json",
              Metadata={"origin": "erp"})
    world.put(SOURCE, "orders/before-the-rule.json", tags="retain=7y")
    world.s3(SOURCE).put_bucket_replication(
        Bucket=SOURCE, ReplicationConfiguration=configuration["ReplicationConfiguration"])
    world.put(SOURCE, "catalog/deleted-1.json")
    world.put(SOURCE, "inventory/deleted-2.json")
    world.put(SOURCE, "catalog/healthy.json")
    for key in ("catalog/deleted-1.json", "inventory/deleted-2.json"):
        world.delete_replica(DR, key)
    return world


BROKEN = {"catalog/before-the-rule.json", "orders/before-the-rule.json",
          "catalog/deleted-1.json", "inventory/deleted-2.json"}


def listed(data: dict) -> set[str]:
    return {p["key"] for r in data["rules"] for p in r["problems"]}


def test_copy_repairs_what_audit_finds_and_audit_is_then_clean(broken):
    status, data = broken.run_json("crr", "audit")
    assert (status, listed(data)) == (3, BROKEN)
    before = broken.version_counts()

    dry = broken.run("crr", "backfill", "--method", "copy")
    assert dry.status == 3
    assert "backfill would copy 4 objects in place" in dry.stdout
    assert dry.mutating == []
    assert broken.version_counts() == before

    status, data = broken.run_json("crr", "backfill", "--yes")  # copy: the default here
    assert (status, data["method"]) == (0, "copy")
    assert sum(r["copied"] for r in data["rules"]) == 4
    assert broken.keys(DR) >= BROKEN

    assert broken.run("crr", "audit").status == 0
    again = broken.run("crr", "backfill", "--yes")
    assert (again.status, again.mutating) == (0, [])


def test_copy_keeps_metadata_content_type_and_tags(broken):
    assert broken.run("crr", "backfill", "--method", "copy", "--yes").status == 0
    s3, replica = broken.s3(SOURCE), broken.s3(DR)
    copied = s3.head_object(Bucket=SOURCE, Key="catalog/before-the-rule.json")
    assert (copied["Metadata"], copied["ContentType"]) == ({"origin": "erp"}, "application/json")
    assert copied["ServerSideEncryption"] == "aws:kms"
    head = replica.head_object(Bucket=DR, Key="catalog/before-the-rule.json")
    assert (head["Metadata"], head["ReplicationStatus"]) == ({"origin": "erp"}, "REPLICA")
    tags = replica.get_object_tagging(Bucket=DR, Key="orders/before-the-rule.json")["TagSet"]
    assert tags == [{"Key": "retain", "Value": "7y"}]


def test_objects_over_the_copy_limit_are_copied_in_parts(broken, monkeypatch):
    monkeypatch.setattr(object_copy, "MAX_COPY_OBJECT_BYTES", 1024 * 1024)
    monkeypatch.setattr(object_copy, "PART_BYTES", 1024 * 1024)
    body = bytes(range(256)) * (10 * 1024)  # 2.5 MiB: three parts
    broken.put(SOURCE, "catalog/big.bin", body, ContentType="application/x-big")
    broken.delete_replica(DR, "catalog/big.bin")
    run = broken.run("crr", "backfill", "--yes")
    assert run.status == 0, run.stdout
    assert ("s3", "UploadPartCopy", "us-east-1") in run.calls
    replica = broken.s3(DR).get_object(Bucket=DR, Key="catalog/big.bin")
    assert (replica["Body"].read(), replica["ContentType"]) == (body, "application/x-big")
    assert broken.run("crr", "audit").status == 0


# -- Batch Replication, with botocore's Stubber on the s3control client ------------------


def job_request(source: str, prefixes: list[str]) -> dict:
    """What AWS documents for a Batch Replication job
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-batch-replication-batch.html)."""
    reports = f"arn:aws:s3:::{source}"
    role = "shopco-assets-replicator" if source == ASSETS else f"{source}-replication"
    return {
        "AccountId": ACCOUNT, "ConfirmationRequired": False, "Priority": 10,
        "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/{role}-batch",
        "ClientRequestToken": ANY, "Description": f"cr_replication backfill of {source}",
        "Operation": {"S3ReplicateObject": {}},
        "ManifestGenerator": {"S3JobManifestGenerator": {
            "ExpectedBucketOwner": ACCOUNT, "SourceBucket": f"arn:aws:s3:::{source}",
            "EnableManifestOutput": True,
            "ManifestOutputLocation": {
                "ExpectedManifestBucketOwner": ACCOUNT, "Bucket": reports,
                "ManifestPrefix": "s3-replication-batch-reports",
                "ManifestEncryption": {"SSES3": {}},
                "ManifestFormat": "S3InventoryReport_CSV_20211130"},
            "Filter": {"EligibleForReplication": True,
                       "ObjectReplicationStatuses": ["NONE", "FAILED"],
                       "KeyNameConstraint": {"MatchAnyPrefix": prefixes}}}},
        "Report": {"Bucket": reports, "Prefix": "s3-replication-batch-reports",
                   "Format": "Report_CSV_20180820", "Enabled": True, "ReportScope": "AllTasks",
                   "ExpectedBucketOwner": ACCOUNT},
        "Tags": [{"Key": "project", "Value": "shopco"}, {"Key": "owner", "Value": "platform-team"},
                 {"Key": "s3replication:managed", "Value": "true"}],
    }


@pytest.fixture
def batch(moto_clients, tmp_path):
    """The crr script on moto, its us-east-1 s3control client stubbed."""
    config = str(shop_config(tmp_path))
    control = moto_clients.get("s3control", "us-east-1")
    with Stubber(control) as stub:
        yield lambda *argv: run_script("crr", "backfill", "--method", "batch", *argv,
                                       "--config", config, clients=lambda: moto_clients), stub
        stub.assert_no_pending_responses()


def test_batch_starts_one_job_per_source_bucket(batch, moto_clients):
    run, stub = batch
    stub.add_response("create_job", {"JobId": "job-data-0001"},
                      job_request(SOURCE, ["catalog/", "inventory/", "orders/"]))
    stub.add_response("create_job", {"JobId": "job-assets-0002"}, job_request(ASSETS, ["images/"]))
    result = run("--yes", "--json")
    assert result.status == 0, result.stderr
    assert [j["job_id"] for j in json.loads(result.stdout)["jobs"]] == [
        "job-data-0001", "job-assets-0002"]


def test_batch_role_is_trusted_by_batch_operations_with_the_documented_permissions(batch,
                                                                                 moto_clients):
    run, stub = batch
    for job in ("job-0001", "job-0002"):
        stub.add_response("create_job", {"JobId": job}, None)
    assert run("--yes").status == 0
    iam = moto_clients.get("iam", "us-east-1")
    role = iam.get_role(RoleName="shopco-data-use1-replication-batch")["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "batchoperations.s3.amazonaws.com"},
         "Action": "sts:AssumeRole"}]
    policy = iam.get_role_policy(RoleName="shopco-data-use1-replication-batch",
                                 PolicyName="s3-batch-replication")["PolicyDocument"]
    reports = "arn:aws:s3:::shopco-data-use1/s3-replication-batch-reports/*"
    assert {(tuple(s["Action"]), tuple(s["Resource"])) for s in policy["Statement"]} == {
        (("s3:InitiateReplication",), ("arn:aws:s3:::shopco-data-use1/*",)),
        (("s3:GetReplicationConfiguration", "s3:PutInventoryConfiguration"),
         ("arn:aws:s3:::shopco-data-use1",)),
        (("s3:GetObject", "s3:GetObjectVersion"), (reports,)),
        (("s3:PutObject",), (reports,)),
    }


def test_batch_without_yes_changes_nothing(batch):
    run, _ = batch
    result = run()
    assert result.status == 3
    assert "would start 2 S3 Batch Replication jobs" in result.stdout
    assert result.mutating == []


# -- which replication statuses a job selects (batch_scope) ------------------------------
# "If you want to back-fill a destination bucket with objects that have been replicated to
# another destination, include "COMPLETED"" and "If you want replicate objects previously
# replicated, include "REPLICA"" (Filters for a Batch Replication job,
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-batch-replication-batch.html). An
# object is COMPLETED once every destination of its time has it
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-status.html).

VAULT = ('SRR_RULES = SRR_RULES + [{"id": "vault", "source": "shopco-data-use1", '
         '"destination": "shopco-data-use1-backup", "prefix": ""}]')
TWO_WAY = ('CRR_RULES = CRR_RULES + [{"id": "back", "source": "shopco-data-usw2", '
           '"destination": "shopco-data-use1", "prefix": "catalog/"}]')
CHAIN = ('BUCKETS["shopco-data-euw1"] = {"region": "eu-west-1", "kms_key": None}\n'
         'CRR_RULES = CRR_RULES + [{"id": "chain", "source": "shopco-data-euw1", '
         '"destination": "shopco-data-use1", "prefix": "catalog/"}]')


def started_jobs(moto_clients, tmp_path, kind: str, extra: str = "") -> dict[str, dict]:
    """`backfill --method batch --yes` of `kind` with `extra` config: the CreateJob request
    sent for each source bucket (the s3control client stubbed: no emulator has CreateJob)."""
    config = str(shop_config(tmp_path, extra))
    sent: list[dict] = []
    with ExitStack() as stack:
        for region in ("us-east-1", "us-west-2", "eu-west-1"):
            control = moto_clients.get("s3control", region)
            control.meta.events.register("before-parameter-build.s3-control.CreateJob",
                                         lambda params, **_: sent.append(dict(params)))
            stub = stack.enter_context(Stubber(control))
            for n in range(3):
                stub.add_response("create_job", {"JobId": f"job-{region}-{n}"}, None)
        result = run_script(kind, "backfill", "--method", "batch", "--yes", "--config", config,
                            clients=lambda: moto_clients)
        assert result.status == 0, result.stderr
    return {r["ManifestGenerator"]["S3JobManifestGenerator"]["SourceBucket"].split(":::")[1]:
            r for r in sent}


def statuses(request: dict) -> list[str]:
    return request["ManifestGenerator"]["S3JobManifestGenerator"]["Filter"][
        "ObjectReplicationStatuses"]


def plan(moto_clients, tmp_path, kind: str, extra: str = "") -> str:
    result = run_script(kind, "backfill", "--method", "batch", "--config",
                        str(shop_config(tmp_path, extra)), clients=lambda: moto_clients)
    assert (result.status, result.mutating) == (3, []), result.stderr
    return result.stdout


def test_a_vault_rule_on_a_crr_source_backfills_its_completed_objects(moto_clients, tmp_path):
    """The vault (SRR, every key) is added to a source whose objects CRR already replicated:
    they are COMPLETED, and only a job with COMPLETED brings them to the vault."""
    jobs = started_jobs(moto_clients, tmp_path, "srr", VAULT)
    assert statuses(jobs[SOURCE]) == ["NONE", "FAILED", "COMPLETED"]
    assert statuses(jobs["shopco-logs-use1"]) == ["NONE", "FAILED"]  # its only destination
    text = plan(moto_clients, tmp_path, "srr", VAULT)
    assert "batch job: objects with replication status NONE, FAILED, COMPLETED" in text
    assert f"COMPLETED: {SOURCE} also replicates these keys to {DR} ('catalog/')" in text


def test_one_destination_per_key_needs_no_completed(moto_clients, tmp_path):
    """shopco-data-use1's SRR rule (customers/) shares no key with its CRR rules: COMPLETED
    objects there are in their one destination already, and are not sent again."""
    jobs = started_jobs(moto_clients, tmp_path, "crr")
    assert statuses(jobs[SOURCE]) == statuses(jobs[ASSETS]) == ["NONE", "FAILED"]
    assert "COMPLETED" not in plan(moto_clients, tmp_path, "crr")


def test_a_rule_the_tool_did_not_make_is_another_destination_too(moto_clients, tmp_path):
    """The source's configuration as S3 holds it counts, with rules of no script's."""
    s3 = moto_clients.get("s3", "us-east-1")
    for bucket in (SOURCE, "someone-elses-copy"):
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_replication(Bucket=SOURCE, ReplicationConfiguration={
        "Role": f"arn:aws:iam::{ACCOUNT}:role/theirs", "Rules": [{
            "ID": "theirs", "Priority": 9, "Status": "Enabled", "Filter": {"Prefix": "orders/"},
            "DeleteMarkerReplication": {"Status": "Disabled"},
            "Destination": {"Bucket": "arn:aws:s3:::someone-elses-copy"}}]})
    jobs = started_jobs(moto_clients, tmp_path, "crr")
    assert statuses(jobs[SOURCE]) == ["NONE", "FAILED", "COMPLETED"]
    assert statuses(jobs[ASSETS]) == ["NONE", "FAILED"]


@pytest.mark.parametrize("extra, wanted, said", [
    (CHAIN, ["NONE", "FAILED", "REPLICA"],
     f"REPLICA: {SOURCE} holds replicas from shopco-data-euw1, which live replication never "
     "forwards"),
    (TWO_WAY, ["NONE", "FAILED"],
     f"no REPLICA: the replicas in {SOURCE} came from {DR}, which {SOURCE} replicates to"),
])
def test_replicas_are_sent_on_but_never_back(moto_clients, tmp_path, extra, wanted, said):
    """A chain (euw1 -> use1 -> usw2) stops at use1 in live replication, so use1's job takes
    its replicas (REPLICA); in a two-way pair they came from the very destination."""
    assert statuses(started_jobs(moto_clients, tmp_path, "crr", extra)[SOURCE]) == wanted
    assert said in plan(moto_clients, tmp_path, "crr", extra)


def test_the_plan_sends_replicas_deleted_by_version_id_to_copy_in_place(moto_clients, tmp_path):
    """"Batch Replication does not support re-replicating objects that were deleted with the
    version ID of the object from the destination bucket" (s3-batch-replication-batch page,
    above): the plan says that group goes by copy in place."""
    text = plan(moto_clients, tmp_path, "crr")
    assert text.count("replicas deleted from the destination (by version id): not in this job, "
                      "since Batch Replication does not re-replicate them; they go by copy in "
                      "place") == 2


def enum_violations(shape, value, path: str = "") -> list[str]:
    """Values outside the model's enums (botocore's own validation skips enums)."""
    if shape.type_name == "structure":
        return [v for name, member in shape.members.items() if name in value
                for v in enum_violations(member, value[name], f"{path}.{name}")]
    if shape.type_name == "list":
        return [v for item in value for v in enum_violations(shape.member, item, path)]
    enum = getattr(shape, "enum", None)
    return [f"{path}: {value!r}"] if enum and value not in enum else []


def test_the_job_request_fits_botocore_model(moto_clients):
    control = moto_clients.get("s3control", "us-east-1")
    request = {**job_request(SOURCE, ["catalog/"]), "ClientRequestToken": "token"}
    shape = control.meta.service_model.operation_model("CreateJob").input_shape
    assert enum_violations(shape, request) == []
    assert enum_violations(shape, {"Report": {"ReportScope": "Everything"}}) == [
        ".Report.ReportScope: 'Everything'"]
    del request["Report"]["Enabled"]  # required: botocore refuses to send it
    with Stubber(control) as stub, pytest.raises(ParamValidationError):
        stub.add_response("create_job", {"JobId": "never"}, request)
        control.create_job(**request)


@pytest.mark.parametrize("job_status, failed, exit_status", [
    ("Complete", 0, 0), ("Complete", 2, 3), ("Active", 0, 3), ("Failed", 0, 3)])
def test_job_progress(batch, job_status, failed, exit_status):
    run, stub = batch
    stub.add_response("describe_job", {"Job": {
        "JobId": "job-data-0001", "Status": job_status, "Priority": 10,
        "ProgressSummary": {"TotalNumberOfTasks": 10, "NumberOfTasksSucceeded": 10 - failed,
                            "NumberOfTasksFailed": failed},
        "Report": {"Enabled": True, "Bucket": f"arn:aws:s3:::{SOURCE}",
                   "Prefix": "s3-replication-batch-reports"}}},
        {"AccountId": ACCOUNT, "JobId": "job-data-0001"})
    result = run("--job", "job-data-0001")
    assert result.status == exit_status
    assert f"Batch Replication job job-data-0001 (us-east-1): {job_status}" in result.stdout
    assert f"{10 - failed} succeeded, {failed} failed, of 10" in result.stdout
    assert "s3://shopco-data-use1/s3-replication-batch-reports/job-job-data-0001/" in result.stdout


def test_job_lookup_reaches_an_emulator(world):
    """At an emulator's address botocore's ACCOUNT.host prefix is taken off: the request
    reaches MiniStack (which has no Batch Operations) instead of an unresolvable host."""
    result = world.run("crr", "backfill", "--job", "job-12345")
    assert result.status == 1
    assert "reading Batch job job-12345 in us-east-1" in result.stderr
    assert "cannot reach the endpoint" not in result.stderr


# -- what copy in place cannot repair, and every system metadata field ------------------


def test_archived_and_sse_c_objects_are_skipped_with_their_reason(world):
    """Objects in GLACIER/DEEP_ARCHIVE cannot be copied before a restore
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/restoring-objects.html), and SSE-C
    objects not without their key
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerSideEncryptionCustomerKeys.html).
    MiniStack would copy an archived object in place (AWS answers InvalidObjectState), so the
    test checks that no copy is even tried."""
    configuration = world.s3(SOURCE).get_bucket_replication(Bucket=SOURCE)
    world.s3(SOURCE).delete_bucket_replication(Bucket=SOURCE)
    world.put(SOURCE, "catalog/cold.json", StorageClass="GLACIER")
    world.put(SOURCE, "catalog/secret.bin", SSECustomerAlgorithm="AES256",
              SSECustomerKey=bytes(range(32)))
    world.put(SOURCE, "catalog/plain.json")
    world.s3(SOURCE).put_bucket_replication(
        Bucket=SOURCE, ReplicationConfiguration=configuration["ReplicationConfiguration"])

    status, data = world.run_json("crr", "backfill", "--method", "copy", "--yes")
    assert status == 3  # copied what it could; the rest still needs someone
    catalog = next(r for r in data["rules"] if r["rule"] == "catalog-usw2")
    assert (catalog["copied"], catalog["copy_failed"], catalog["skipped"]) == (1, 0, 2)
    reasons = {o["key"]: o["reason"] for o in catalog["skipped_objects"]}
    assert reasons["catalog/cold.json"].startswith("archived in GLACIER: S3 does not replicate")
    assert reasons["catalog/secret.bin"].startswith("encrypted with a customer-provided key")
    run = world.run("crr", "backfill", "--method", "copy", "--yes")
    assert [c for c in run.calls if c[1] in ("CopyObject", "UploadPartCopy")] == []
    assert "skipped       catalog/cold.json: archived in GLACIER" in run.stdout
    assert world.keys(DR, "catalog/") == {"catalog/plain.json"}


def test_copy_keeps_every_system_metadata_field(world):
    """CopyObject with MetadataDirective=REPLACE keeps only what the request sends
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html): every field the
    object had is sent back. MiniStack drops Expires on such a copy, as AWS does."""
    fields = {"ContentType": "text/csv", "CacheControl": "max-age=60",
              "ContentDisposition": 'attachment; filename="stock.csv"',
              "ContentEncoding": "identity", "ContentLanguage": "de-DE",
              "WebsiteRedirectLocation": "/inventory/latest.csv"}
    expires = datetime(2031, 1, 2, 3, 4, 5, tzinfo=UTC)
    configuration = world.s3(SOURCE).get_bucket_replication(Bucket=SOURCE)
    world.s3(SOURCE).delete_bucket_replication(Bucket=SOURCE)
    world.put(SOURCE, "inventory/stock.csv", b"sku,count\n", Expires=expires, **fields)
    world.s3(SOURCE).put_bucket_replication(
        Bucket=SOURCE, ReplicationConfiguration=configuration["ReplicationConfiguration"])

    assert world.run("crr", "backfill", "--method", "copy", "--yes").status == 0
    for bucket in (SOURCE, DR):
        head = world.s3(bucket).head_object(Bucket=bucket, Key="inventory/stock.csv")
        assert {name: head.get(name) for name in fields} == fields, bucket
        assert head["Expires"] == expires, bucket
