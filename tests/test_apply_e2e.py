"""End to end on a real MiniStack: apply, re-apply, plan, drift, ownership and destroy,
through the scripts' own entry point."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from s3replication import sandbox
from s3replication.aws.clients import Clients
from tests.shop import Run, run_script, shop_config

SOURCE = "shopco-data-use1"


@pytest.fixture
def aws(ministack_endpoint: str, reset_ministack: Callable[[], None]) -> Clients:
    """Clients on an emptied MiniStack."""
    return Clients(endpoint_url=ministack_endpoint, session=sandbox.sandbox_session())


@pytest.fixture
def script(ministack_endpoint: str, reset_ministack: Callable[[], None]) -> Callable[..., Run]:
    def run(kind: str, *argv: str) -> Run:
        return run_script(kind, *argv, clients=lambda: Clients(
            endpoint_url=ministack_endpoint, session=sandbox.sandbox_session()))
    return run


@pytest.fixture
def config(tmp_path: Path) -> str:
    return str(shop_config(tmp_path))


def rules_on(aws: Clients, bucket: str, region: str = "us-east-1") -> dict[str, dict]:
    configuration = aws.get("s3", region).get_bucket_replication(Bucket=bucket)
    return {r["ID"]: r for r in configuration["ReplicationConfiguration"]["Rules"]}


def test_apply_twice_second_run_reads_only(script, config):
    first = script("crr", "apply", "--config", config)
    assert first.status == 0, first.stderr
    assert first.mutating
    second = script("crr", "apply", "--config", config)
    assert second.status == 0, second.stderr
    assert "No changes" in second.stdout
    assert second.mutating == []
    assert script("crr", "plan", "--config", config).status == 0


def test_plan_changes_nothing_and_exits_3(script, config, aws):
    planned = script("crr", "plan", "--config", config, "--json")
    assert planned.status == 3
    assert planned.mutating == []
    settings = {(c["resource"], c["setting"]) for c in json.loads(planned.stdout)["changes"]}
    assert (f"bucket {SOURCE} (us-east-1)", "replication rules") in settings
    assert aws.get("s3", "us-east-1").list_buckets()["Buckets"] == []


def test_rules_match_what_aws_documents(script, config, aws):
    assert script("crr", "apply", "--config", config).status == 0
    rules = rules_on(aws, SOURCE)
    assert set(rules) == {"catalog-usw2", "orders-usw2", "inventory-usw2"}
    orders = rules["orders-usw2"]
    assert orders["Priority"] == 50
    assert orders["Filter"] == {"And": {"Prefix": "orders/",
                                        "Tags": [{"Key": "retain", "Value": "7y"}]}}
    assert orders["DeleteMarkerReplication"] == {"Status": "Disabled"}
    destination = rules["catalog-usw2"]["Destination"]
    assert destination["Bucket"] == "arn:aws:s3:::shopco-data-usw2"
    assert destination["ReplicationTime"] == {"Status": "Enabled", "Time": {"Minutes": 15}}
    assert destination["Metrics"] == {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}
    key = destination["EncryptionConfiguration"]["ReplicaKmsKeyID"]
    assert key.startswith("arn:aws:kms:us-west-2:")
    assert rules["catalog-usw2"]["SourceSelectionCriteria"] == {
        "SseKmsEncryptedObjects": {"Status": "Enabled"}}
    assert "ExistingObjectReplication" not in rules["catalog-usw2"]
    images = rules_on(aws, "shopco-assets-use1")["images-euw1"]
    assert images["Destination"]["StorageClass"] == "STANDARD_IA"
    assert "SourceSelectionCriteria" not in images  # SSE-S3 source
    encryption = aws.get("s3", "us-west-2").get_bucket_encryption(Bucket="shopco-data-usw2")
    default = encryption["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert default["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == key
    assert default["BucketKeyEnabled"] is True


def test_objects_replicate_by_rule(script, config, aws):
    assert script("crr", "apply", "--config", config).status == 0
    assert script("srr", "apply", "--config", config).status == 0
    east, west = aws.get("s3", "us-east-1"), aws.get("s3", "us-west-2")
    east.put_object(Bucket=SOURCE, Key="catalog/p1.json", Body=b"{}")
    east.put_object(Bucket=SOURCE, Key="customers/c1.json", Body=b"{}")
    east.put_object(Bucket=SOURCE, Key="orders/o1.json", Body=b"{}", Tagging="retain=7y")
    east.put_object(Bucket=SOURCE, Key="orders/o2.json", Body=b"{}")  # untagged: not selected
    east.put_object(Bucket=SOURCE, Key="scratch/x.json", Body=b"{}")  # no rule
    assert east.head_object(Bucket=SOURCE, Key="catalog/p1.json")[
        "ReplicationStatus"] == "COMPLETED"
    assert west.head_object(Bucket="shopco-data-usw2", Key="catalog/p1.json")[
        "ReplicationStatus"] == "REPLICA"
    assert west.head_object(Bucket="shopco-data-usw2", Key="orders/o1.json")[
        "ReplicationStatus"] == "REPLICA"
    assert east.head_object(Bucket="shopco-data-use1-backup", Key="customers/c1.json")[
        "ReplicationStatus"] == "REPLICA"
    for bucket, key in [("shopco-data-usw2", "orders/o2.json"),
                        ("shopco-data-usw2", "scratch/x.json"),
                        ("shopco-data-use1-backup", "scratch/x.json")]:
        listing = aws.get("s3", "us-west-2").list_objects_v2(Bucket=bucket, Prefix=key)
        assert listing.get("KeyCount", 0) == 0, (bucket, key)


def test_cr_then_sr_share_role_and_keep_hand_made_rule(script, config, aws):
    assert script("crr", "apply", "--config", config).status == 0
    add_hand_made_rule(aws)
    assert script("srr", "apply", "--config", config).status == 0
    assert script("crr", "apply", "--config", config).status == 0
    rules = rules_on(aws, SOURCE)
    assert set(rules) == {"catalog-usw2", "orders-usw2", "inventory-usw2", "customers-backup",
                          "hand-made"}
    assert rules["hand-made"] == HAND_MADE
    iam = aws.get("iam", "us-east-1")
    role = "shopco-data-use1-replication"
    assert sorted(iam.list_role_policies(RoleName=role)["PolicyNames"]) == [
        "s3-replication-crr", "s3-replication-srr"]
    resources = set()
    for name in ("s3-replication-crr", "s3-replication-srr"):
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        document = json.loads(document) if isinstance(document, str) else document
        for statement in document["Statement"]:
            if "s3:ReplicateObject" in statement["Action"]:
                resources.update(statement["Resource"] if isinstance(statement["Resource"], list)
                                 else [statement["Resource"]])
    assert resources == {"arn:aws:s3:::shopco-data-usw2/*",
                         "arn:aws:s3:::shopco-data-use1-backup/*"}
    assert script("crr", "plan", "--config", config).status == 0
    assert script("srr", "plan", "--config", config).status == 0


def _drift_versioning(aws):
    aws.get("s3", "us-east-1").put_bucket_versioning(
        Bucket=SOURCE, VersioningConfiguration={"Status": "Suspended"})


def _drift_encryption(aws):
    aws.get("s3", "us-east-1").put_bucket_encryption(
        Bucket=SOURCE, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})


def _drift_public_access(aws):
    aws.get("s3", "us-east-1").delete_public_access_block(Bucket=SOURCE)


def _drift_ownership(aws):
    aws.get("s3", "us-east-1").put_bucket_ownership_controls(
        Bucket=SOURCE, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})


def _drift_policy(aws):
    aws.get("s3", "us-east-1").delete_bucket_policy(Bucket=SOURCE)


def _drift_tags(aws):
    aws.get("s3", "us-east-1").put_bucket_tagging(
        Bucket=SOURCE, Tagging={"TagSet": [{"Key": "project", "Value": "other"}]})


def _drift_rule_deleted(aws):
    s3 = aws.get("s3", "us-east-1")
    configuration = s3.get_bucket_replication(Bucket=SOURCE)["ReplicationConfiguration"]
    configuration["Rules"] = [r for r in configuration["Rules"] if r["ID"] != "catalog-usw2"]
    s3.put_bucket_replication(Bucket=SOURCE, ReplicationConfiguration=configuration)


def _drift_rule_edited(aws):
    s3 = aws.get("s3", "us-east-1")
    configuration = s3.get_bucket_replication(Bucket=SOURCE)["ReplicationConfiguration"]
    for rule in configuration["Rules"]:
        if rule["ID"] == "catalog-usw2":
            rule["Filter"] = {"Prefix": "everything-else/"}
            rule["Status"] = "Disabled"
    s3.put_bucket_replication(Bucket=SOURCE, ReplicationConfiguration=configuration)


def _drift_role_policy(aws):
    aws.get("iam", "us-east-1").delete_role_policy(
        RoleName="shopco-data-use1-replication", PolicyName="s3-replication-crr")


def _drift_key_rotation(aws):
    kms = aws.get("kms", "us-east-1")
    alias = [a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == "alias/shopco-use1"][0]
    kms.disable_key_rotation(KeyId=alias["TargetKeyId"])


DRIFTS = {
    "versioning": (_drift_versioning, "versioning"),
    "encryption": (_drift_encryption, "encryption"),
    "public-access-block": (_drift_public_access, "public access block"),
    "ownership": (_drift_ownership, "object ownership"),
    "tls-policy": (_drift_policy, "TLS-only policy"),
    "tags": (_drift_tags, "tags"),
    "rule-deleted": (_drift_rule_deleted, "replication rules"),
    "rule-edited": (_drift_rule_edited, "replication rules"),
    "role-policy": (_drift_role_policy, "permissions (s3-replication-crr)"),
    "key-rotation": (_drift_key_rotation, "rotation"),
}


@pytest.mark.parametrize("drift", sorted(DRIFTS), ids=sorted(DRIFTS))
def test_drift_is_planned_and_repaired(script, config, aws, drift):
    assert script("crr", "apply", "--config", config).status == 0
    make_drift, setting = DRIFTS[drift]
    make_drift(aws)
    planned = script("crr", "plan", "--config", config, "--json")
    assert planned.status == 3
    assert setting in {c["setting"] for c in json.loads(planned.stdout)["changes"]}
    repaired = script("crr", "apply", "--config", config)
    assert repaired.status == 0, repaired.stderr
    assert script("crr", "plan", "--config", config).status == 0


def test_rule_dropped_from_config_is_removed_foreign_rules_stay(script, tmp_path, aws):
    config = str(shop_config(tmp_path))
    assert script("crr", "apply", "--config", config).status == 0
    assert script("srr", "apply", "--config", config).status == 0
    shipped = Path(config).read_text()
    trimmed = shop_config(tmp_path, extra=(
        "CRR_RULES = [r for r in CRR_RULES if r['id'] != 'inventory-usw2']"), base=shipped)
    planned = script("crr", "plan", "--config", str(trimmed))
    assert planned.status == 3 and "inventory-usw2" in planned.stdout
    assert script("crr", "apply", "--config", str(trimmed)).status == 0
    assert set(rules_on(aws, SOURCE)) == {"catalog-usw2", "orders-usw2", "customers-backup"}
    assert script("crr", "plan", "--config", str(trimmed)).status == 0
    assert script("srr", "plan", "--config", str(trimmed)).status == 0


HAND_MADE = {"ID": "hand-made", "Priority": 900, "Status": "Enabled",
             "Filter": {"Prefix": "manual/"}, "DeleteMarkerReplication": {"Status": "Disabled"},
             "Destination": {"Bucket": "arn:aws:s3:::shopco-data-usw2"}}


def add_hand_made_rule(aws: Clients) -> None:
    east = aws.get("s3", "us-east-1")
    configuration = east.get_bucket_replication(Bucket=SOURCE)["ReplicationConfiguration"]
    configuration["Rules"].append(HAND_MADE)
    east.put_bucket_replication(Bucket=SOURCE, ReplicationConfiguration=configuration)


def test_destroy_keeps_buckets_keys_the_other_script_and_foreign_rules(script, config, aws):
    assert script("crr", "apply", "--config", config).status == 0
    assert script("srr", "apply", "--config", config).status == 0
    add_hand_made_rule(aws)
    dry = script("crr", "destroy", "--config", config)
    assert dry.status == 3 and dry.mutating == []
    done = script("crr", "destroy", "--yes", "--config", config)
    assert done.status == 0, done.stderr
    assert "kept" in done.stdout
    assert rules_on(aws, SOURCE) == {
        "customers-backup": rules_on(aws, SOURCE)["customers-backup"], "hand-made": HAND_MADE}
    assert script("srr", "plan", "--config", config).status == 0
    east = aws.get("s3", "us-east-1")
    names = {b["Name"] for b in east.list_buckets()["Buckets"]}
    assert {"shopco-data-use1", "shopco-data-usw2", "shopco-assets-use1",
            "shopco-assets-euw1"} <= names
    with pytest.raises(ClientError, match="ReplicationConfigurationNotFound"):
        east.get_bucket_replication(Bucket="shopco-assets-use1")
    iam = aws.get("iam", "us-east-1")
    assert iam.list_role_policies(RoleName="shopco-data-use1-replication")["PolicyNames"] == [
        "s3-replication-srr"]
    roles = {r["RoleName"] for r in iam.list_roles()["Roles"]}
    assert "shopco-assets-replicator" not in roles
    assert len(aws.get("kms", "us-east-1").list_aliases()["Aliases"]) >= 1
    assert east.get_bucket_versioning(Bucket=SOURCE)["Status"] == "Enabled"
    again = script("crr", "destroy", "--config", config)
    assert again.status == 0 and "Nothing to destroy" in again.stdout


def test_interrupted_key_creation_is_adopted_not_duplicated(script, config, aws):
    kms = aws.get("kms", "us-east-1")
    orphan = kms.create_key(
        Tags=[{"TagKey": "s3replication:alias", "TagValue": "alias/shopco-use1"}])
    assert script("crr", "apply", "--config", config).status == 0
    aliases = {a["AliasName"]: a["TargetKeyId"] for a in kms.list_aliases()["Aliases"]}
    assert aliases["alias/shopco-use1"] == orphan["KeyMetadata"]["KeyId"]
    assert len(kms.list_keys()["Keys"]) == 1
