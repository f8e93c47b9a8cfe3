"""Object Lock end to end on a real MiniStack: `apply` makes the vault bucket with Object Lock
and its default retention, then enables it on a bucket that existed unlocked; a version
written into the vault gets the default retention and, under COMPLIANCE, cannot be deleted;
`destroy` leaves Object Lock and versioning on.

AWS: a bucket is created with Object Lock or gets it later once versioned, and it cannot be
turned off (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-configure.html);
default retention applies to new versions placed in the bucket, and a COMPLIANCE-retained
version cannot be deleted by anyone before its date
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html).

MiniStack gives an object written directly the bucket's default retention and refuses
deleting a COMPLIANCE-retained version, as AWS does; it does NOT give replicas the
destination's default retention (AWS does), so the lock is checked on objects written
directly into the vault, not on replicas.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from s3replication import sandbox
from s3replication.aws.clients import Clients
from tests.shop import Run, run_script, shop_config

VAULT = "shopco-data-use1-backup"
LOCK = "BUCKETS['shopco-data-use1-backup']['object_lock'] = {'mode': 'COMPLIANCE', 'days': 1}"


@pytest.fixture
def aws(ministack_endpoint: str, reset_ministack: Callable[[], None]) -> Clients:
    return Clients(endpoint_url=ministack_endpoint, session=sandbox.sandbox_session())


@pytest.fixture
def script(ministack_endpoint: str, reset_ministack: Callable[[], None]) -> Callable[..., Run]:
    def run(*argv: str) -> Run:
        return run_script("srr", *argv, clients=lambda: Clients(
            endpoint_url=ministack_endpoint, session=sandbox.sandbox_session()))
    return run


def assert_locked_version_stays(s3, key: str) -> None:
    version = s3.put_object(Bucket=VAULT, Key=key, Body=b"order 1")["VersionId"]
    retention = s3.get_object_retention(Bucket=VAULT, Key=key, VersionId=version)["Retention"]
    assert retention["Mode"] == "COMPLIANCE"
    with pytest.raises(ClientError):
        s3.delete_object(Bucket=VAULT, Key=key, VersionId=version)
    assert s3.head_object(Bucket=VAULT, Key=key, VersionId=version)["VersionId"] == version


def test_apply_makes_a_vault_whose_versions_cannot_be_deleted(script, aws, tmp_path: Path):
    config = str(shop_config(tmp_path, LOCK))
    result = script("apply", "--config", config)
    assert result.status == 0, result.stderr
    s3 = aws.get("s3", "us-east-1")
    lock = s3.get_object_lock_configuration(Bucket=VAULT)["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled"
    assert lock["Rule"]["DefaultRetention"]["Mode"] == "COMPLIANCE"
    assert_locked_version_stays(s3, "customers/1.json")
    again = script("apply", "--config", config)
    assert again.status == 0 and not [c for c in again.mutating if "ObjectLock" in c[1]]
    assert script("destroy", "--yes", "--config", config).status == 0
    assert s3.get_object_lock_configuration(Bucket=VAULT)["ObjectLockConfiguration"][
        "ObjectLockEnabled"] == "Enabled"
    assert s3.get_bucket_versioning(Bucket=VAULT)["Status"] == "Enabled"


def test_apply_locks_a_vault_that_existed_unlocked(script, aws, tmp_path: Path):
    assert script("apply", "--config", str(shop_config(tmp_path))).status == 0
    s3 = aws.get("s3", "us-east-1")
    with pytest.raises(ClientError):
        s3.get_object_lock_configuration(Bucket=VAULT)
    result = script("apply", "--config", str(shop_config(tmp_path, LOCK)))
    assert result.status == 0, result.stderr
    assert [c[1] for c in result.mutating if "ObjectLock" in c[1]] == [
        "PutObjectLockConfiguration"]
    assert_locked_version_stays(s3, "customers/2.json")
