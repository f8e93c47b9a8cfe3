"""Each rule of tests/aws_rules.py (AWS's, which moto and MiniStack do not enforce; the table
cites the AWS page of each) refuses a deliberately broken call on moto, and lets through the
call the code sends. Without the enforcement every broken call here succeeds on moto."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from s3replication.commands import object_copy
from s3replication.commands.restore import copy as restore_copy
from s3replication.commands.restore.plan import Copy
from tests import aws_rules

BUCKET, OTHER = "rules-src-use1", "rules-dst-usw2"
KMS_KEY = "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = "arn:aws:iam::123456789012:role/rules-replication"


def refused(call: Any, code: str = "InvalidRequest") -> str:
    with pytest.raises(ClientError) as caught:
        call()
    assert caught.value.response["Error"]["Code"] == code
    return str(caught.value.response["Error"]["Message"])


@pytest.fixture
def s3(moto_clients: Any) -> Any:
    """A versioned bucket with default encryption, as apply makes it, holding `a.json` twice."""
    client = moto_clients.get("s3", "us-east-1")
    client.create_bucket(Bucket=BUCKET)
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    client.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    for body in (b"old", b"new"):
        client.put_object(Bucket=BUCKET, Key="a.json", Body=body, ContentType="application/json",
                          Metadata={"origin": "erp"})
    return client


def versions(s3: Any) -> list[str]:
    """The version ids of a.json, the current one first."""
    return [v["VersionId"] for v in s3.list_object_versions(Bucket=BUCKET)["Versions"]]


# -- copy onto itself --------------------------------------------------------------------


@pytest.mark.parametrize("by_version", [True, False])
def test_a_copy_onto_itself_that_changes_nothing_is_refused(s3: Any, by_version: bool) -> None:
    current = versions(s3)[0]
    source = {"Bucket": BUCKET, "Key": "a.json", **({"VersionId": current} if by_version else {})}
    message = refused(lambda: s3.copy_object(CopySource=source, Bucket=BUCKET, Key="a.json",
                                             MetadataDirective="COPY"))
    assert message == aws_rules.SELF_COPY
    refused(lambda: s3.copy_object(CopySource=source, Bucket=BUCKET, Key="a.json"))
    assert s3.copy_object(CopySource=source, Bucket=BUCKET, Key="a.json",
                          MetadataDirective="REPLACE", ContentType="application/json")


def test_a_noncurrent_version_may_be_copied_over_its_key_as_it_is(s3: Any) -> None:
    older = versions(s3)[1]
    copied = s3.copy_object(CopySource={"Bucket": BUCKET, "Key": "a.json", "VersionId": older},
                            Bucket=BUCKET, Key="a.json", MetadataDirective="COPY")
    assert s3.get_object(Bucket=BUCKET, Key="a.json",
                         VersionId=copied["VersionId"])["Body"].read() == b"old"


def test_copy_in_place_passes_the_rules(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """backfill's copy in place (object_copy) sends REPLACE with the object's metadata (and
    its encryption); a plain copy in place (MetadataDirective COPY and nothing else), which
    MiniStack and moto accept, is refused."""
    current = versions(s3)[0]
    made = object_copy.copy_in_place(s3, BUCKET, "a.json", current)
    head = s3.head_object(Bucket=BUCKET, Key="a.json")
    assert (head["VersionId"], head["ContentType"], head["Metadata"]) == (
        made, "application/json", {"origin": "erp"})

    sent = s3.copy_object

    def with_copy_directive(**params: Any) -> Any:
        return sent(CopySource=params["CopySource"], Bucket=params["Bucket"], Key=params["Key"],
                    MetadataDirective="COPY", TaggingDirective="COPY")

    monkeypatch.setattr(s3, "copy_object", with_copy_directive)
    refused(lambda: object_copy.copy_in_place(s3, BUCKET, "a.json", made))


def test_restore_copy_back_passes_the_rules(s3: Any) -> None:
    """restore's copy of an older version over its key (MetadataDirective COPY: allowed, since
    the version copied is not the current one)."""
    made = restore_copy.copy_back(s3, BUCKET, Copy("a.json", versions(s3)[1], 3, "STANDARD"))
    found = s3.get_object(Bucket=BUCKET, Key="a.json")
    assert (found["VersionId"], found["Body"].read(), found["Metadata"]) == (
        made, b"old", {"origin": "erp"})


# -- the 5 GB copy limit -----------------------------------------------------------------


def test_a_copy_over_5_gb_goes_in_parts(s3: Any) -> None:
    """moto holds a.json as if it were 6 GiB: one CopyObject of it is refused, as is a part
    range over 5 GiB; ranges of 512 MiB (object_copy's) pass."""
    stored = aws_rules._stored(aws_rules._bucket(BUCKET), "a.json", None)
    stored.contentsize = 6 * 1024**3
    refused(lambda: s3.copy_object(CopySource={"Bucket": BUCKET, "Key": "a.json"},
                                   Bucket=BUCKET, Key="b.json"))
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="b.json")["UploadId"]
    part = {"Bucket": BUCKET, "Key": "b.json", "UploadId": upload, "PartNumber": 1,
            "CopySource": {"Bucket": BUCKET, "Key": "a.json", "VersionId": versions(s3)[1]}}
    refused(lambda: s3.upload_part_copy(**part, CopySourceRange=f"bytes=0-{6 * 1024**3 - 1}"))
    assert s3.upload_part_copy(**part, CopySourceRange=f"bytes=0-{object_copy.PART_BYTES - 1}")


# -- replication configurations ----------------------------------------------------------


def rule(**changes: Any) -> dict[str, Any]:
    """A V2 rule as apply sends it (CRR, RTC, SSE-KMS), with `changes`."""
    made = {"ID": "orders", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": "orders/"},
            "DeleteMarkerReplication": {"Status": "Enabled"},
            "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
            "Destination": {"Bucket": f"arn:aws:s3:::{OTHER}",
                            "EncryptionConfiguration": {"ReplicaKmsKeyID": KMS_KEY},
                            "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
                            "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}}}
    for path, value in changes.items():
        *parents, name = path.split("__")
        place = made
        for parent in parents:
            place = place[parent]
        if value is None:
            del place[name]
        else:
            place[name] = value
    return made


@pytest.fixture
def pair(s3: Any, moto_clients: Any) -> Any:
    """Sends a replication configuration of one rule from BUCKET to OTHER (versioned)."""
    west = moto_clients.get("s3", "us-west-2")
    west.create_bucket(Bucket=OTHER, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    west.put_bucket_versioning(Bucket=OTHER, VersioningConfiguration={"Status": "Enabled"})
    return lambda made: s3.put_bucket_replication(
        Bucket=BUCKET, ReplicationConfiguration={"Role": ROLE, "Rules": [made]})


@pytest.mark.parametrize("changes, complaint", [
    ({"Priority": None}, "Priority and DeleteMarkerReplication must be specified"),
    ({"DeleteMarkerReplication": None}, "Priority and DeleteMarkerReplication must be specified"),
    ({"Filter": {"Tag": {"Key": "retain", "Value": "7y"}}}, "cannot be Enabled for a rule with"),
    ({"Filter": {"And": {"Prefix": "orders/", "Tags": [{"Key": "retain", "Value": "7y"}]}}},
     "cannot be Enabled for a rule with a Tag filter"),
    ({"Destination__Metrics": None}, "together with a Metrics block"),
    ({"Destination__Metrics__Status": "Disabled"}, "together with a Metrics block"),
    ({"Destination__ReplicationTime__Time": {"Minutes": 30}}, "Minutes must be 15"),
    ({"Destination__EncryptionConfiguration": None}, "ReplicaKmsKeyID must be specified"),
    ({"SourceSelectionCriteria": {}}, "SourceSelectionCriteria must not be empty"),
])
def test_a_replication_rule_aws_refuses_is_refused(pair: Any, changes: dict[str, Any],
                                                   complaint: str) -> None:
    assert complaint in refused(lambda: pair(rule(**changes)))


def test_the_rule_apply_sends_passes(pair: Any) -> None:
    pair(rule())
    pair(rule(Filter={"Tag": {"Key": "retain", "Value": "7y"}},
              DeleteMarkerReplication={"Status": "Disabled"}))


def test_an_unversioned_destination_is_refused(pair: Any, moto_clients: Any) -> None:
    moto_clients.get("s3", "us-west-2").put_bucket_versioning(
        Bucket=OTHER, VersioningConfiguration={"Status": "Suspended"})
    assert "Destination bucket must have versioning enabled." in refused(lambda: pair(rule()))


# -- versioning stays on -----------------------------------------------------------------


def test_versioning_of_a_replication_source_cannot_be_suspended(pair: Any, s3: Any) -> None:
    pair(rule())
    refused(lambda: s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={
        "Status": "Suspended"}), "InvalidBucketState")
    s3.delete_bucket_replication(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})


def test_versioning_of_an_object_lock_bucket_cannot_be_suspended(moto_clients: Any) -> None:
    s3 = moto_clients.get("s3", "us-east-1")
    s3.create_bucket(Bucket="rules-vault", ObjectLockEnabledForBucket=True)
    refused(lambda: s3.put_bucket_versioning(Bucket="rules-vault", VersioningConfiguration={
        "Status": "Suspended"}), "InvalidBucketState")


def test_moto_itself_refuses_object_lock_without_versioning(moto_clients: Any) -> None:
    s3 = moto_clients.get("s3", "us-east-1")
    s3.create_bucket(Bucket="rules-unlocked")
    refused(lambda: s3.put_object_lock_configuration(
        Bucket="rules-unlocked", ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"}),
        "InvalidBucketState")


# -- Batch Replication jobs --------------------------------------------------------------


def job(source: str, manifest_fields: list[str] | None = None) -> dict[str, Any]:
    made: dict[str, Any] = {
        "AccountId": "123456789012", "ConfirmationRequired": False, "Priority": 10,
        "RoleArn": ROLE + "-batch", "ClientRequestToken": "token",
        "Operation": {"S3ReplicateObject": {}},
        "Report": {"Bucket": f"arn:aws:s3:::{source}", "Enabled": True,
                   "Format": "Report_CSV_20180820", "ReportScope": "AllTasks"}}
    if manifest_fields is None:
        made["ManifestGenerator"] = {"S3JobManifestGenerator": {
            "SourceBucket": f"arn:aws:s3:::{source}", "EnableManifestOutput": True,
            "ManifestOutputLocation": {"Bucket": f"arn:aws:s3:::{source}",
                                       "ManifestFormat": "S3InventoryReport_CSV_20211130"},
            "Filter": {"EligibleForReplication": True}}}
    else:
        made["Manifest"] = {"Spec": {"Format": "S3BatchOperations_CSV_20180820",
                                     "Fields": manifest_fields},
                            "Location": {"ObjectArn": f"arn:aws:s3:::{source}/m.csv",
                                         "ETag": "etag"}}
    return made


def test_a_batch_job_aws_refuses_is_refused_before_the_stub_answers(pair: Any,
                                                                     moto_clients: Any) -> None:
    control = moto_clients.get("s3control", "us-east-1")
    with Stubber(control) as stub:
        stub.add_response("create_job", {"JobId": "job-1"}, None)
        assert "not in the job's Region us-east-1" in refused(
            lambda: control.create_job(**job(OTHER)))
        refused(lambda: control.create_job(**job(BUCKET, ["Bucket", "Key"])))
        assert control.create_job(**job(BUCKET))["JobId"] == "job-1"
        stub.add_response("create_job", {"JobId": "job-2"}, None)
        assert control.create_job(**job(BUCKET, ["Bucket", "Key", "VersionId"]))["JobId"]


# -- the table itself --------------------------------------------------------------------


@pytest.mark.parametrize("rule_", aws_rules.RULES, ids=lambda r: r.name[:40])
def test_every_rule_names_an_aws_page_and_tests_that_exist(rule_: aws_rules.Rule) -> None:
    assert "https://docs.aws.amazon.com/" in rule_.aws
    for named in rule_.tests:
        path, _, test = named.partition("::")
        text = (Path(__file__).parent / path).read_text()
        assert not test or f"def {test}(" in text, named
