"""A source bucket whose replication configuration was made by hand, with a role of its own.

S3 keeps one `Role` for all the rules of a configuration
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_ReplicationConfiguration.html), and a rule
whose role lacks the permissions fails with DstPutObjectNotPermitted
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-failure-codes.html). So the
tool never switches the role of a configuration that holds rules it did not make: `apply`
stops for that bucket (exit 1) and `plan` says why (exit 3), until `replication_role` names
the present role; the tool then only adds its own inline policy to it, and `destroy` leaves
the role and the hand-made rule.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.converged import clients_for, run
from tests.shop import shop_config

CONFIG = '''
BUCKETS = {
    "fr-src": {"region": "us-east-1", "kms_key": None},
    "fr-dst": {"region": "us-west-2", "kms_key": None},
    "fr-other": {"region": "us-east-1", "kms_key": None},
    "fr-dst-2": {"region": "us-west-2", "kms_key": None},
    "fr-src-2": {"region": "us-east-1", "kms_key": None},
}
CRR_RULES = [
    {"id": "ours", "source": "fr-src", "destination": "fr-dst", "prefix": "ours/"},
    {"id": "elsewhere", "source": "fr-src-2", "destination": "fr-dst-2"},
]
SRR_RULES = [
    {"id": "ours-same-region", "source": "fr-src", "destination": "fr-other",
     "prefix": "copy/"},
]
'''
HAND_ROLE = "hand-made-replicator"
HAND_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole"},
    {"Effect": "Allow", "Principal": {"Service": "batchoperations.s3.amazonaws.com"},
     "Action": "sts:AssumeRole"}]}
HAND_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:ReplicateObject"],
     "Resource": ["arn:aws:s3:::fr-hand-target/*"]}]}
HAND_RULE = {"ID": "hand-made", "Priority": 7, "Status": "Enabled", "Filter": {"Prefix": "hand/"},
             "DeleteMarkerReplication": {"Status": "Disabled"},
             "Destination": {"Bucket": "arn:aws:s3:::fr-hand-target"}}


def make_by_hand(aws: Any) -> str:
    """Buckets, a role and a replication configuration made outside the tool; the role ARN."""
    east = aws.get("s3", "us-east-1")
    for bucket in ("fr-src", "fr-hand-target"):
        east.create_bucket(Bucket=bucket)
        east.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    iam = aws.get("iam", "us-east-1")
    role = iam.create_role(RoleName=HAND_ROLE, AssumeRolePolicyDocument=json.dumps(HAND_TRUST),
                           Tags=[{"Key": "team", "Value": "data"}])["Role"]
    iam.put_role_policy(RoleName=HAND_ROLE, PolicyName="hand-policy",
                        PolicyDocument=json.dumps(HAND_POLICY))
    east.put_bucket_replication(Bucket="fr-src", ReplicationConfiguration={
        "Role": role["Arn"], "Rules": [HAND_RULE]})
    return str(role["Arn"])


def configuration(aws: Any) -> dict:
    found = aws.get("s3", "us-east-1").get_bucket_replication(Bucket="fr-src")
    return found["ReplicationConfiguration"]


def role_state(aws: Any) -> dict:
    """Everything of the hand-made role but our own inline policies."""
    iam = aws.get("iam", "us-east-1")
    role = iam.get_role(RoleName=HAND_ROLE)["Role"]
    trust = role["AssumeRolePolicyDocument"]
    names = iam.list_role_policies(RoleName=HAND_ROLE)["PolicyNames"]
    return {
        "trust": json.loads(trust) if isinstance(trust, str) else trust,
        "tags": sorted((t["Key"], t["Value"]) for t in
                       iam.list_role_tags(RoleName=HAND_ROLE)["Tags"]),
        "policies": {n: iam.get_role_policy(RoleName=HAND_ROLE, PolicyName=n)["PolicyDocument"]
                     for n in names if not n.startswith("s3-replication-")},
        "attached": iam.list_attached_role_policies(RoleName=HAND_ROLE)["AttachedPolicies"],
    }


def test_role_of_a_configuration_with_foreign_rules_is_never_switched(
        ministack_endpoint, reset_ministack, tmp_path: Path):
    aws = clients_for(ministack_endpoint)()
    hand_arn = make_by_hand(aws)
    before_configuration, before_role = configuration(aws), role_state(aws)
    config = str(shop_config(tmp_path, base=CONFIG))
    ours_arn = hand_arn.replace(HAND_ROLE, "fr-src-replication")

    planned = run(ministack_endpoint, "crr", "plan", "--config", config)
    assert planned.status == 3
    for name in ("fr-src", hand_arn, ours_arn, "hand-made"):
        assert name in planned.stdout, planned.stdout

    for kind in ("crr", "srr"):
        applied = run(ministack_endpoint, kind, "apply", "--config", config)
        assert applied.status == 1, applied.stdout + applied.stderr
        errors = applied.stderr.strip().splitlines()
        assert len(errors) == 1, errors  # one line, for the one bucket
        for name in ("fr-src", hand_arn, ours_arn, "hand-made", f'"{HAND_ROLE}"'):
            assert name in errors[0], errors[0]
        assert configuration(aws) == before_configuration
        assert role_state(aws) == before_role
        assert [r["RoleName"] for r in aws.get("iam", "us-east-1").list_roles()["Roles"]
                if r["RoleName"] == "fr-src-replication"] == []
    # the other bucket went ahead
    other = aws.get("s3", "us-east-1").get_bucket_replication(Bucket="fr-src-2")
    assert [r["ID"] for r in other["ReplicationConfiguration"]["Rules"]] == ["elsewhere"]

    shared = str(shop_config(tmp_path, base=CONFIG + (
        f'\nBUCKETS["fr-src"]["replication_role"] = "{HAND_ROLE}"\n')))
    for kind in ("crr", "srr"):
        applied = run(ministack_endpoint, kind, "apply", "--config", shared)
        assert applied.status == 0, applied.stdout + applied.stderr
    for kind in ("crr", "srr"):
        assert run(ministack_endpoint, kind, "plan", "--config", shared).status == 0
    after = configuration(aws)
    assert after["Role"] == hand_arn
    rules = {r["ID"]: r for r in after["Rules"]}
    assert set(rules) == {"hand-made", "ours", "ours-same-region"}
    assert rules["hand-made"] == HAND_RULE
    assert role_state(aws) == before_role
    iam = aws.get("iam", "us-east-1")
    assert sorted(iam.list_role_policies(RoleName=HAND_ROLE)["PolicyNames"]) == [
        "hand-policy", "s3-replication-crr", "s3-replication-srr"]

    for kind in ("crr", "srr"):
        destroyed = run(ministack_endpoint, kind, "destroy", "--yes", "--config", shared)
        assert destroyed.status == 0, destroyed.stdout + destroyed.stderr
    assert configuration(aws) == before_configuration
    assert role_state(aws) == before_role
    assert iam.list_role_policies(RoleName=HAND_ROLE)["PolicyNames"] == ["hand-policy"]


def test_role_change_waits_for_the_other_scripts_permissions(
        ministack_endpoint, reset_ministack, tmp_path: Path):
    """The other script's rules are not foreign, but they need its permissions on the new
    role before the configuration moves to it: the first script stops for the bucket, naming
    the other, whose apply then moves the configuration once both policies are there."""
    aws = clients_for(ministack_endpoint)()
    (tmp_path / "before").mkdir()
    config = shop_config(tmp_path / "before", base=CONFIG)
    for kind in ("crr", "srr"):
        assert run(ministack_endpoint, kind, "apply", "--config", str(config)).status == 0
    old_arn = configuration(aws)["Role"]
    (tmp_path / "after").mkdir()
    moved = str(shop_config(tmp_path / "after", base=CONFIG + (
        '\nBUCKETS["fr-src"]["replication_role"] = "fr-src-new-role"\n')))
    new_arn = old_arn.replace("fr-src-replication", "fr-src-new-role")
    before = configuration(aws)

    first = run(ministack_endpoint, "crr", "apply", "--config", moved)
    assert first.status == 1, first.stdout + first.stderr
    assert "sr_replication.py" in first.stderr and "ours-same-region" in first.stderr
    assert old_arn in first.stderr and new_arn in first.stderr
    assert configuration(aws) == before

    second = run(ministack_endpoint, "srr", "apply", "--config", moved)
    assert second.status == 0, second.stdout + second.stderr
    after = configuration(aws)
    assert after["Role"] == new_arn
    assert sorted(r["ID"] for r in after["Rules"]) == ["ours", "ours-same-region"]
    iam = aws.get("iam", "us-east-1")
    assert sorted(iam.list_role_policies(RoleName="fr-src-new-role")["PolicyNames"]) == [
        "s3-replication-crr", "s3-replication-srr"]
    assert run(ministack_endpoint, "crr", "apply", "--config", moved).status == 0
    for kind in ("crr", "srr"):
        assert run(ministack_endpoint, kind, "plan", "--config", moved).status == 0
