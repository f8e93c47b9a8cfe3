"""Replication access simulation: for each rule, every request S3 makes with the replication
role to replicate an object (as AWS documents it, see tests/replication_access.py) is allowed by
the role's policies as read back from MiniStack after a real `apply`, and requests outside the
rule are not. The verdicts come from MiniStack's IAM policy evaluator, not from string matching.

MiniStack itself enforces neither IAM nor KMS on same-account replication, so objects arriving
in the sandbox prove nothing about these permissions: only this evaluation does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ministack.core.iam_evaluator import parse_policy_document

from s3replication.config import BucketSpec, Config, RuleSpec, load_config
from s3replication.resources.iam_policy import Endpoint, permissions_policy
from tests.converged import KINDS, clients_for, run
from tests.replication_access import (
    BUCKET_KEYS_REPLICATION,
    Access,
    Side,
    decision,
    outside_accesses,
    replication_accesses,
    role_policies,
)
from tests.shop import shop_config

# SSE-KMS and SSE-S3 sources, Bucket Keys (on every SSE-KMS bucket), a key shared by an SRR
# source and its destination, tag filters, two-way rules, an SSE-S3 source into an SSE-KMS
# destination, and a role shared by the CRR and SRR rules of one bucket.
TEST_CONFIG = '''
BUCKETS = {
    "sim-east": {"region": "us-east-1", "kms_key": "alias/sim-east"},
    "sim-west": {"region": "us-west-2", "kms_key": "alias/sim-west"},
    "sim-east-copy": {"region": "us-east-1", "kms_key": "alias/sim-east"},
    "sim-plain-east": {"region": "us-east-1", "kms_key": None,
                       "replication_role": "sim-plain-replicator"},
    "sim-plain-eu": {"region": "eu-west-1", "kms_key": None},
}
CRR_RULES = [
    {"id": "east-to-west", "source": "sim-east", "destination": "sim-west",
     "prefix": "orders/", "replica_modifications": True},
    {"id": "west-to-east", "source": "sim-west", "destination": "sim-east",
     "prefix": "orders/", "replica_modifications": True},
    {"id": "tagged-media", "source": "sim-plain-east", "destination": "sim-plain-eu",
     "prefix": "media/", "tags": {"class": "public", "tier": "web"}},
    {"id": "media-back", "source": "sim-plain-eu", "destination": "sim-plain-east",
     "prefix": "media/", "replica_modifications": True},
    {"id": "plain-into-kms", "source": "sim-plain-east", "destination": "sim-west",
     "prefix": "docs/"},
]
SRR_RULES = [
    {"id": "ledger-copy", "source": "sim-east", "destination": "sim-east-copy",
     "prefix": "ledger/", "tags": {"keep": "yes"}},
]
'''

CONFIGS = {"shipped": None, "test-config": TEST_CONFIG}


def key_arn(aws: Any, bucket: BucketSpec) -> str | None:
    """The ARN of the bucket's KMS key, found on the server (an alias resolved there)."""
    if bucket.kms_key is None or bucket.kms_key.startswith("arn:"):
        return bucket.kms_key
    kms = aws.get("kms", bucket.region)
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
    return kms.describe_key(KeyId=aliases[bucket.kms_key])["KeyMetadata"]["Arn"]


def sides(aws: Any, config: Config, rule: RuleSpec) -> tuple[Side, Side]:
    source, destination = config.buckets[rule.source], config.buckets[rule.destination]
    source_key = key_arn(aws, source)
    return (Side(source.name, source.region, source_key),
            Side(destination.name, destination.region,
                 key_arn(aws, destination) if source_key else None))


def replica_key_on_server(aws: Any, config: Config, rule: RuleSpec) -> str | None:
    source = config.buckets[rule.source]
    rules = aws.get("s3", source.region).get_bucket_replication(Bucket=source.name)[
        "ReplicationConfiguration"]["Rules"]
    found = next(r for r in rules if r["ID"] == rule.id)
    return found["Destination"].get("EncryptionConfiguration", {}).get("ReplicaKmsKeyID")


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_every_documented_access_is_allowed_and_nothing_outside_the_rule(
        name, ministack_endpoint, reset_ministack, tmp_path: Path):
    config_path = shop_config(tmp_path, base=CONFIGS[name])
    for kind in KINDS:
        applied = run(ministack_endpoint, kind, "apply", "--config", str(config_path))
        assert applied.status == 0, applied.stdout + applied.stderr
    config = load_config(config_path)
    aws = clients_for(ministack_endpoint)()
    iam = aws.get("iam", "us-east-1")
    denied, granted, checked = [], [], []
    for rule in config.all_rules():
        source, destination = sides(aws, config, rule)
        # the replica's key S3 uses is the rule's ReplicaKmsKeyID
        assert replica_key_on_server(aws, config, rule) == destination.key, rule.id
        role_name = config.buckets[rule.source].replication_role
        role_arn = iam.get_role(RoleName=role_name)["Role"]["Arn"]
        policies = role_policies(iam, role_name)  # read back from the server
        object_key = f"{rule.prefix}sample-object.bin"
        for access in replication_accesses(source, destination, object_key):
            verdict = decision(role_arn, policies, access)
            checked.append(access)
            if verdict != "Allow":
                denied.append(f"{rule.id}: {access}: {verdict}")
        for access in outside_accesses(source, destination, object_key):
            if decision(role_arn, policies, access) == "Allow":
                granted.append(f"{rule.id}: {access}")
    assert denied == [], "documented accesses denied:\n" + "\n".join(denied)
    assert granted == [], "accesses outside the rules allowed:\n" + "\n".join(granted)
    kms_checked = {a.action for a in checked if a.action.startswith("kms:")}
    assert kms_checked == {"kms:Decrypt", "kms:Encrypt"}, "SSE-KMS rules were simulated"
    assert any(a.doc == BUCKET_KEYS_REPLICATION for a in checked)


def test_the_evaluator_denies_without_a_grant_and_allows_with_one():
    """The verdicts are the evaluator's, and the check can fail: no policy denies every
    documented access; the tool's policy for the rule allows them, and only with the
    destination's encryption context and the Bucket Keys decrypt on the replica's key."""
    src = Side("src-bucket", "us-east-1", "arn:aws:kms:us-east-1:111122223333:key/aaaa")
    dst = Side("dst-bucket", "us-west-2", "arn:aws:kms:us-west-2:111122223333:key/bbbb")
    role = "arn:aws:iam::111122223333:role/src-bucket-replication"
    accesses = replication_accesses(src, dst, "a/b.txt")
    assert {decision(role, [], a) for a in accesses} == {"ImplicitDeny"}
    policy = permissions_policy(Endpoint(src.bucket, src.region, src.key),
                                [Endpoint(dst.bucket, dst.region, dst.key)])
    parsed = [parse_policy_document(policy)]
    assert [str(a) for a in accesses if decision(role, parsed, a) != "Allow"] == []
    assert [str(a) for a in outside_accesses(src, dst, "a/b.txt")
            if decision(role, parsed, a) == "Allow"] == []
    without_decrypt = {**policy, "Statement": [
        {**s, "Action": [a for a in s["Action"] if a != "kms:Decrypt"]}
        if s["Resource"] == [dst.key] else s for s in policy["Statement"]]}
    bucket_key_check = Access("kms:Decrypt", dst.key, dst.region, BUCKET_KEYS_REPLICATION,
                              {"kms:viaservice": dst.via,
                               "kms:encryptioncontext:aws:s3:arn": dst.arn})
    assert decision(role, [parse_policy_document(without_decrypt)],
                    bucket_key_check) == "ImplicitDeny"
