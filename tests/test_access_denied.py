"""AccessDenied names the IAM action AWS checks: the action AWS's message names when it names
one, else the one the operation *and its parameters* call for (requests are recorded by the
client factory, aws/clients.py, on the failed answer). Stubbed answers: the request goes through
the real clients and their hooks, only the answer is made up."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from s3replication.aws.calls import explain
from s3replication.aws.clients import Clients

BUCKET, KEY, VERSION = "shopco-data-use1", "catalog/item.json", "3HL4kqtJlcpXroDTDmJ"


@pytest.fixture
def clients(aws_env: None) -> Clients:
    return Clients()


def denied(client: Any, operation: str, params: dict[str, Any], code: str = "AccessDenied",
           message: str = "Access Denied", status: int = 403) -> str:
    """The one line `explain` makes of `operation(**params)` answered with `code`."""
    with Stubber(client) as stub:
        stub.add_client_error(operation, service_error_code=code, service_message=message,
                              http_status_code=status)
        with pytest.raises(ClientError) as raised:
            getattr(client, operation)(**params)
    line = str(explain(raised.value, "doing it"))
    assert "\n" not in line
    return line


@pytest.mark.parametrize(("operation", "params", "action"), [
    # a version id makes the request the version's own action
    # (https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html)
    ("head_object", {"VersionId": VERSION}, "s3:GetObjectVersion"),
    ("head_object", {}, "s3:GetObject"),
    ("get_object", {"VersionId": VERSION}, "s3:GetObjectVersion"),
    ("delete_object", {"VersionId": VERSION}, "s3:DeleteObjectVersion"),
    ("delete_object", {}, "s3:DeleteObject"),
    ("get_object_tagging", {"VersionId": VERSION}, "s3:GetObjectVersionTagging"),
    ("get_object_tagging", {}, "s3:GetObjectTagging"),
])
def test_a_version_id_names_the_version_action(clients, operation, params, action) -> None:
    # HEAD answers carry no body: botocore sees a bare 403 "Forbidden"
    code, message = ("403", "Forbidden") if operation == "head_object" else ("AccessDenied",
                                                                            "Access Denied")
    line = denied(clients.get("s3", "us-east-1"), operation,
                  {"Bucket": BUCKET, "Key": KEY, **params}, code, message)
    assert f"the caller needs {action} " in line, line


def test_a_multipart_copy_part_needs_put_object_and_the_source_version(clients) -> None:
    """UploadPartCopy is authorized as s3:PutObject, and reads its source
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPartCopy.html)."""
    line = denied(clients.get("s3", "us-east-1"), "upload_part_copy", {
        "Bucket": BUCKET, "Key": KEY, "UploadId": "u1", "PartNumber": 1,
        "CopySource": {"Bucket": BUCKET, "Key": KEY, "VersionId": VERSION}})
    assert "the caller needs s3:PutObject (and s3:GetObjectVersion on the copy source)" in line


def test_a_put_with_tags_also_needs_put_object_tagging(clients) -> None:
    """https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html: tags on a PUT need
    s3:PutObjectTagging."""
    line = denied(clients.get("s3", "us-east-1"), "put_object",
                  {"Bucket": BUCKET, "Key": KEY, "Body": b"x", "Tagging": "retain=7y"})
    assert "s3:PutObject (and s3:PutObjectTagging for its tags)" in line


def test_a_denied_replication_configuration_may_be_a_missing_pass_role(clients) -> None:
    """The caller needs s3:PutReplicationConfiguration and iam:PassRole on the role
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html)."""
    line = denied(clients.get("s3", "us-east-1"), "put_bucket_replication", {
        "Bucket": BUCKET, "ReplicationConfiguration": {
            "Role": "arn:aws:iam::123456789012:role/r", "Rules": [
                {"Status": "Enabled", "Destination": {"Bucket": "arn:aws:s3:::b"}}]}})
    assert ("the caller needs s3:PutReplicationConfiguration (and iam:PassRole on the "
            "replication role)") in line
    assert "s3:PutBucketReplication" not in line


def test_a_denied_batch_job_may_be_a_missing_pass_role(clients) -> None:
    """CreateJob passes the job's role (https://docs.aws.amazon.com/AmazonS3/latest/userguide/
    batch-ops-iam-role-policies.html)."""
    line = denied(clients.get("s3control", "us-east-1"), "create_job", {
        "AccountId": "123456789012", "Operation": {"S3ReplicateObject": {}},
        "Report": {"Enabled": False}, "ClientRequestToken": "t", "Priority": 1,
        "RoleArn": "arn:aws:iam::123456789012:role/r-batch"})
    assert "the caller needs s3:CreateJob (and iam:PassRole on the job's role)" in line


def test_tags_on_creation_name_the_tagging_action(clients) -> None:
    """https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html:
    PutMetricAlarm with Tags also needs cloudwatch:TagResource."""
    line = denied(clients.get("cloudwatch", "us-east-1"), "put_metric_alarm", {
        "AlarmName": "a", "EvaluationPeriods": 1, "ComparisonOperator": "GreaterThanThreshold",
        "Tags": [{"Key": "project", "Value": "shopco"}]}, "AccessDenied")
    assert "cloudwatch:PutMetricAlarm (and cloudwatch:TagResource for its tags)" in line


def test_the_action_aws_names_wins(clients) -> None:
    """AWS's AccessDenied message names the action it checked, e.g. KMS on a PUT into an
    SSE-KMS bucket (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html)."""
    message = ("User: arn:aws:iam::123456789012:user/u is not authorized to perform: "
               "kms:GenerateDataKey on resource: arn:aws:kms:us-east-1:123456789012:key/k "
               "because no identity-based policy allows the kms:GenerateDataKey action")
    line = denied(clients.get("s3", "us-east-1"), "put_object",
                  {"Bucket": BUCKET, "Key": KEY, "Body": b"x"}, "AccessDenied", message)
    assert "the caller needs kms:GenerateDataKey (" in line
    message = message.replace("kms:GenerateDataKey", "iam:PassRole")
    line = denied(clients.get("s3", "us-east-1"), "put_bucket_replication", {
        "Bucket": BUCKET, "ReplicationConfiguration": {
            "Role": "arn:aws:iam::123456789012:role/r", "Rules": [
                {"Status": "Enabled", "Destination": {"Bucket": "arn:aws:s3:::b"}}]}},
        "AccessDenied", message)
    assert "the caller needs iam:PassRole (" in line


def test_a_request_recorded_once_does_not_leak_into_the_next(clients) -> None:
    s3 = clients.get("s3", "us-east-1")
    denied(s3, "head_object", {"Bucket": BUCKET, "Key": KEY, "VersionId": VERSION}, "403",
           "Forbidden")
    line = denied(s3, "head_object", {"Bucket": BUCKET, "Key": KEY}, "403", "Forbidden")
    assert "the caller needs s3:GetObject " in line
