"""Unit tests of each script's AWS calls against moto (which replicates nothing and returns a
lossy replication configuration, so only Role, ID, Priority, Status and Destination are
compared here)."""

from __future__ import annotations

import json

import pytest

from s3replication.aws.clients import Clients
from tests.shop import run_script, shop_config


@pytest.fixture
def moto(moto_clients):
    return moto_clients


def run(kind, *argv):
    return run_script(kind, *argv, clients=Clients)


def test_cr_apply_creates_everything(moto, tmp_path):
    config = str(shop_config(tmp_path))
    result = run("crr", "apply", "--config", config)
    assert result.status == 0, result.stderr
    s3 = moto.get("s3", "us-east-1")
    assert s3.get_bucket_versioning(Bucket="shopco-data-use1")["Status"] == "Enabled"
    sse = s3.get_bucket_encryption(Bucket="shopco-data-use1")["ServerSideEncryptionConfiguration"]
    default = sse["Rules"][0]["ApplyServerSideEncryptionByDefault"]
    assert default["SSEAlgorithm"] == "aws:kms"
    assert default["KMSMasterKeyID"].startswith("arn:aws:kms:us-east-1:123456789012:key/")
    blocks = s3.get_public_access_block(Bucket="shopco-data-use1")
    assert blocks["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "IgnorePublicAcls": True,
        "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    policy = json.loads(s3.get_bucket_policy(Bucket="shopco-data-use1")["Policy"])
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    configuration = s3.get_bucket_replication(Bucket="shopco-data-use1")["ReplicationConfiguration"]
    assert configuration["Role"] == "arn:aws:iam::123456789012:role/shopco-data-use1-replication"
    rules = {r["ID"]: r for r in configuration["Rules"]}
    assert set(rules) == {"catalog-usw2", "orders-usw2", "inventory-usw2"}
    assert rules["orders-usw2"]["Priority"] == 50
    assert {r["Status"] for r in rules.values()} == {"Enabled"}
    assert rules["catalog-usw2"]["Destination"]["Bucket"] == "arn:aws:s3:::shopco-data-usw2"
    iam = moto.get("iam", "us-east-1")
    role = iam.get_role(RoleName="shopco-data-use1-replication")["Role"]
    trust = role["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "s3.amazonaws.com"}
    assert iam.list_role_policies(RoleName="shopco-assets-replicator")["PolicyNames"] == [
        "s3-replication-crr"]
    kms = moto.get("kms", "us-west-2")
    assert "alias/shopco-usw2" in {a["AliasName"] for a in kms.list_aliases()["Aliases"]}


def test_sr_apply_touches_only_its_buckets(moto, tmp_path):
    config = str(shop_config(tmp_path))
    assert run("srr", "apply", "--config", config).status == 0
    s3 = moto.get("s3", "us-east-1")
    names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert names == {"shopco-data-use1", "shopco-data-use1-backup", "shopco-logs-use1",
                     "shopco-logs-use1-archive"}
    configuration = s3.get_bucket_replication(Bucket="shopco-logs-use1")
    rules = configuration["ReplicationConfiguration"]["Rules"]
    assert [r["ID"] for r in rules] == ["transactions-archive"]
    assert rules[0]["Destination"]["Bucket"] == "arn:aws:s3:::shopco-logs-use1-archive"
    assert "ReplicationTime" not in rules[0]["Destination"]


def test_broken_config_exits_2_before_any_call(moto, tmp_path):
    config = str(shop_config(tmp_path, extra='CRR_RULES[0]["prefx"] = "x/"'))
    result = run("crr", "apply", "--config", config)
    assert result.status == 2
    assert 'CRR_RULES[0] "catalog-usw2"' in result.stderr and "prefx" in result.stderr
    assert result.calls == []
    assert "Traceback" not in result.stderr


def test_no_credentials_is_one_line(tmp_path, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    import io

    from s3replication.cli import main

    err = io.StringIO()
    status = main("crr", ["plan", "--config", str(shop_config(tmp_path))], stdout=io.StringIO(),
                  stderr=err)
    assert status == 1
    assert "--sandbox" in err.getvalue() and len(err.getvalue().strip().splitlines()) == 1


def _count(calls, operation):
    return sum(1 for _, name, _ in calls if name == operation)


def test_a_second_apply_reads_each_sources_rules_and_each_roles_permissions_once(moto,
                                                                                 tmp_path):
    """Read before the rules change (to widen the permissions) and again after (to narrow
    them): a document this run did not write in between is read once (Context.reread)."""
    config = str(shop_config(tmp_path))
    assert run("crr", "apply", "--config", config).status == 0
    again = run("crr", "apply", "--config", config)
    assert again.status == 0, again.stderr
    assert _count(again.calls, "PutRolePolicy") == 0
    sources = {r["source"] for r in __import__("runpy").run_path(config)["CRR_RULES"]}
    roles = {"shopco-data-use1-replication", "shopco-assets-replicator"}
    assert _count(again.calls, "GetBucketReplication") == len(sources)
    assert _count(again.calls, "GetRolePolicy") == len(roles)


MOVED_TO_DR = """
BUCKETS["shopco-data-usw2-dr"] = dict(BUCKETS["shopco-data-usw2"])
for rule in CRR_RULES:
    if rule["destination"] == "shopco-data-usw2":
        rule["destination"] = "shopco-data-usw2-dr"
"""


def test_a_permissions_write_is_what_the_narrowing_sees(moto, tmp_path):
    """The widening wrote the permissions: the narrowing takes what was written, not a read
    that IAM's eventual consistency may answer with the old document, and a changed rule
    still ends with exactly the permissions its rules need."""
    config = str(shop_config(tmp_path))
    first = run("crr", "apply", "--config", config)
    assert first.status == 0, first.stderr
    # roles made by this run: no permissions read at all (a new role has none, and the
    # narrowing takes what the widening wrote)
    assert _count(first.calls, "PutRolePolicy") == 2
    assert _count(first.calls, "GetRolePolicy") == 0
    changed = str(shop_config(tmp_path, extra=MOVED_TO_DR))
    second = run("crr", "apply", "--config", changed)
    assert second.status == 0, second.stderr
    # widened (old and new destinations), then narrowed (the new one only): two writes
    assert _count(second.calls, "PutRolePolicy") == 2
    iam = moto.get("iam", "us-east-1")
    role = "shopco-data-use1-replication"
    policy = iam.get_role_policy(RoleName=role, PolicyName="s3-replication-crr")
    text = json.dumps(policy["PolicyDocument"])
    assert "shopco-data-usw2-dr" in text and "shopco-data-usw2/" not in text


def bucket_sections(text):
    """Each bucket's changes (action and setting) in plan or apply output."""
    sections, name = {}, None
    for line in text.splitlines():
        if line.startswith("  ") and not line.startswith("   "):
            name = line.strip() if line.strip().startswith("bucket ") else None
        elif name:
            sections.setdefault(name, []).append(line.split(":", 1)[0])
    return sections


def test_apply_writes_the_settings_of_a_bucket_it_made_without_reading_them(moto, tmp_path):
    """A bucket apply made has nothing set (https://docs.aws.amazon.com/AmazonS3/latest/API/
    API_CreateBucket.html): each setting is written from nothing, as the plan showed it, and
    the next apply finds them all as wanted."""
    config = str(shop_config(tmp_path))
    planned = run("crr", "plan", "--config", config)
    made = run("crr", "apply", "--config", config)
    assert made.status == 0, made.stderr
    unread = ("GetBucketEncryption", "GetPublicAccessBlock", "GetBucketOwnershipControls",
              "GetBucketAcl", "GetBucketPolicy")
    assert [c for c in made.calls if c[1] in unread] == []
    # on each bucket, the changes the plan showed (all of them new)
    assert bucket_sections(made.stdout) == bucket_sections(planned.stdout)
    # the tags row keeps what the versioning row wrote (when versioning was enabled)
    tags = moto.get("s3", "us-east-1").get_bucket_tagging(Bucket="shopco-data-use1")["TagSet"]
    assert "s3replication:versioning-enabled" in {t["Key"] for t in tags}
    again = run("crr", "apply", "--config", config)
    settings = {"encryption", "public access block", "object ownership", "TLS-only policy",
                "tags", "versioning"}
    assert not [line for line in again.stdout.splitlines()
                if line.strip().lstrip("~+- ").split(":")[0] in settings], again.stdout
