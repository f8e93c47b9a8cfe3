"""restore's copy of a version back over its key (commands/restore/copy.py): one CopyObject per
key and no HEAD, the version's metadata, tags and storage class kept, refusals said.

Relied on (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html): CopyObject's
default `MetadataDirective` and `TaggingDirective` are COPY, the source version's metadata and
tags; without `x-amz-storage-class` the copy is STANDARD; without encryption headers it gets
the bucket's default encryption. Copying a previous version into the same key makes it the
current version (https://docs.aws.amazon.com/AmazonS3/latest/userguide/RestoringPreviousVersions.html).
A version in an archive tier of Intelligent-Tiering answers a copy with InvalidObjectState
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/intelligent-tiering-managing.html).
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from s3replication.commands.object_copy import ARCHIVED, CUSTOMER_KEY, NotCopyable
from s3replication.commands.restore.copy import copy_back
from s3replication.commands.restore.plan import Copy

BUCKET = "shop-catalog-restore"


def sent(s3: Any) -> list[str]:
    """The names of the operations `s3` sends, as they are sent."""
    calls: list[str] = []
    s3.meta.events.register("before-call.s3.*",
                            lambda model, **_: calls.append(model.name))
    return calls


def test_one_copy_per_key_keeping_metadata_tags_and_class(moto_clients: Any) -> None:
    s3 = moto_clients.get("s3", "us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    good = s3.put_object(Bucket=BUCKET, Key="catalog/a.json", Body=b"good",
                         ContentType="application/json", Metadata={"origin": "erp"},
                         Tagging="team=web", StorageClass="STANDARD_IA")["VersionId"]
    s3.put_object(Bucket=BUCKET, Key="catalog/a.json", Body=b"bad", ContentType="text/plain")
    calls = sent(s3)

    new = copy_back(s3, BUCKET, Copy("catalog/a.json", good, 4, "STANDARD_IA"))

    assert calls == ["CopyObject"], "one call per key, no HEAD first"
    got = s3.get_object(Bucket=BUCKET, Key="catalog/a.json")
    assert got["VersionId"] == new and got["Body"].read() == b"good"
    assert (got["ContentType"], got["Metadata"]) == ("application/json", {"origin": "erp"})
    assert got.get("StorageClass") == "STANDARD_IA"
    tags = s3.get_object_tagging(Bucket=BUCKET, Key="catalog/a.json")["TagSet"]
    assert tags == [{"Key": "team", "Value": "web"}]
    versions = s3.list_object_versions(Bucket=BUCKET)["Versions"]
    assert len(versions) == 3, "no version deleted"


def test_the_replicas_class_is_not_copied_into_the_source(moto_clients: Any) -> None:
    s3 = moto_clients.get("s3", "us-east-1")
    stub = Stubber(s3)
    stub.add_response("copy_object", {"VersionId": "new"},
                      {"CopySource": {"Bucket": "replica", "Key": "k", "VersionId": "r1"},
                       "Bucket": BUCKET, "Key": "k"})
    with stub:
        assert copy_back(s3, BUCKET, Copy("k", "r1", 4, "GLACIER_IR"),
                         from_bucket="replica") == "new"
    stub.assert_no_pending_responses()


@pytest.mark.parametrize(("code", "message", "kind"), [
    ("InvalidObjectState", "The operation is not valid for the object's access tier", ARCHIVED),
    ("InvalidRequest", "The object was stored using a form of Server Side Encryption. The "
     "correct parameters must be provided to retrieve the object.", CUSTOMER_KEY),
])
def test_a_version_the_copy_cannot_read_is_named_not_failed(moto_clients: Any, code: str,
                                                             message: str, kind: str) -> None:
    s3 = moto_clients.get("s3", "us-east-1")
    stub = Stubber(s3)
    stub.add_client_error("copy_object", code, message, 403 if kind == ARCHIVED else 400,
                          expected_params={"CopySource": ANY, "Bucket": BUCKET, "Key": "k",
                                           "StorageClass": "INTELLIGENT_TIERING"})
    with stub, pytest.raises(NotCopyable) as refused:
        copy_back(s3, BUCKET, Copy("k", "v1", 4, "INTELLIGENT_TIERING"))
    assert refused.value.kind == kind


def test_other_refusals_are_raised_as_they_are(moto_clients: Any) -> None:
    s3 = moto_clients.get("s3", "us-east-1")
    stub = Stubber(s3)
    stub.add_client_error("copy_object", "AccessDenied", "Access Denied", 403)
    with stub, pytest.raises(Exception, match="AccessDenied"):
        copy_back(s3, BUCKET, Copy("k", "v1", 4), from_bucket="replica")
