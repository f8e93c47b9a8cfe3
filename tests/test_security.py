"""What the tool builds is locked down, read back from MiniStack after a real apply: least-
privilege replication roles, KMS key policies open to no one, buckets private, TLS-only and
owner-enforced; and no secret reaches the console or the log, which only its owner reads."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s3replication.aws.clients import Clients
from s3replication.aws.naming import ALIAS_TAG, inline_policy_name
from s3replication.config import Config, load_config
from s3replication.resources.iam_policy import Endpoint, permissions_policy, trust_policy
from tests.converged import clients_for, document, run, subprocess_env
from tests.faultproxy import FaultProxy, error_response
from tests.shop import shop_config

ROOT = Path(__file__).resolve().parent.parent
# What a replication role may do, and on what:
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html
S3_SOURCE_BUCKET_ACTIONS = frozenset({"s3:GetReplicationConfiguration", "s3:ListBucket"})
S3_SOURCE_OBJECT_ACTIONS = frozenset({"s3:GetObjectVersionForReplication",
                                      "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"})
S3_DESTINATION_ACTIONS = frozenset({"s3:ReplicateObject", "s3:ReplicateDelete",
                                    "s3:ReplicateTags"})
PUBLIC_ACCESS_BLOCK_ALL = {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                           "BlockPublicPolicy": True, "RestrictPublicBuckets": True}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def s3_bucket_of(resource: str) -> str:
    """The bucket an S3 ARN (of the bucket or its objects) names; anything else unchanged."""
    if not resource.startswith("arn:aws:s3:::"):
        return resource
    return resource.removeprefix("arn:aws:s3:::").removesuffix("/*")


def least_privilege_problems(policy: dict, sources: dict[str, str],
                             destinations: dict[str, str], keys: dict[str, str | None]) -> list:
    """Everything wrong with a replication role's permissions policy.

    `sources`/`destinations`: bucket name -> Region, the buckets the rules name;
    `keys`: bucket name -> the ARN of its KMS key (None for SSE-S3)."""
    problems = []
    named = set(sources) | set(destinations)
    for statement in as_list(policy["Statement"]):
        actions, resources = as_list(statement["Action"]), as_list(statement["Resource"])
        if statement.get("Effect") != "Allow" or "NotAction" in statement or \
                "NotResource" in statement:
            problems.append(f"not a plain Allow: {statement}")
        problems += [f"wildcard action {a}" for a in actions if "*" in a]
        problems += [f"Resource {r!r}" for r in resources if r == "*" or r.startswith("*")]
        if any(a.startswith("s3:") for a in actions):
            for resource in resources:
                bucket = s3_bucket_of(resource)
                if "*" in bucket or bucket not in named:
                    problems.append(f"S3 permission on {resource}, a bucket no rule names")
                    continue
                allowed = set()
                if resource.endswith("/*"):
                    allowed |= S3_SOURCE_OBJECT_ACTIONS if bucket in sources else set()
                    allowed |= S3_DESTINATION_ACTIONS if bucket in destinations else set()
                elif bucket in sources:
                    allowed |= S3_SOURCE_BUCKET_ACTIONS
                problems += [f"{a} on {resource}" for a in sorted(set(actions) - allowed)]
        if any(a.startswith("kms:") for a in actions):
            condition = statement.get("Condition", {}).get("StringLike", {})
            via, context = condition.get("kms:ViaService"), condition.get(
                "kms:EncryptionContext:aws:s3:arn")
            if not via or not context:
                problems.append(f"KMS statement without ViaService and encryption context: "
                                f"{statement}")
                continue
            buckets = {s3_bucket_of(arn) for arn in as_list(context)}
            if len(buckets) != 1 or not buckets <= named:
                problems.append(f"KMS encryption context {context} is not one named bucket")
                continue
            bucket = buckets.pop()
            region = sources.get(bucket) or destinations[bucket]
            if via != f"s3.{region}.amazonaws.com":
                problems.append(f"kms:ViaService {via} for a bucket in {region}")
            # a replica's key also needs kms:Decrypt under S3 Bucket Keys
            # (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html)
            wanted = ["kms:Decrypt"] if bucket in sources else ["kms:Decrypt", "kms:Encrypt"]
            if sorted(actions) != wanted or resources != [keys[bucket]]:
                problems.append(f"{actions} on {resources} for {bucket} (key {keys[bucket]})")
    return problems


# -- the generated policy, for any buckets ---------------------------------------------------

bucket_names = st.from_regex(r"[a-z0-9][a-z0-9-]{1,20}[a-z0-9]", fullmatch=True)
regions = st.sampled_from(["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"])
key_ids = st.uuids().map(str)


@st.composite
def endpoints(draw: Any, name: str | None = None) -> Endpoint:
    region = draw(regions)
    key = draw(st.one_of(st.none(), key_ids.map(
        lambda k: f"arn:aws:kms:{region}:123456789012:key/{k}")))
    return Endpoint(name or draw(bucket_names), region, key)


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(source=endpoints(), destinations=st.lists(endpoints(), min_size=1, max_size=5,
                                                 unique_by=lambda e: e.bucket))
def test_permissions_policy_is_least_privilege_for_any_buckets(source, destinations):
    destinations = [d for d in destinations if d.bucket != source.bucket] or [
        Endpoint(source.bucket + "-copy", source.region, source.key_arn)]
    policy = permissions_policy(source, destinations)
    keys = {e.bucket: e.key_arn for e in [source, *destinations]}

    assert least_privilege_problems(policy, {source.bucket: source.region},
                                    {d.bucket: d.region for d in destinations}, keys) == []
    kms_statements = [s for s in policy["Statement"] if s["Action"][0].startswith("kms:")]
    # Decrypt for a KMS source; Decrypt and Encrypt for each KMS destination of a KMS source.
    wanted = 0 if source.key_arn is None else 1 + sum(1 for d in destinations if d.key_arn)
    assert len(kms_statements) == wanted


def test_checker_catches_what_it_should():
    """The least-privilege check itself fails on each kind of excess."""
    keys = {"src": "arn:aws:kms:us-east-1:1:key/a", "dst": "arn:aws:kms:us-west-2:1:key/b"}
    bad = [
        {"Effect": "Allow", "Action": ["s3:*"], "Resource": ["arn:aws:s3:::src"]},
        {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["s3:ReplicateObject"], "Resource": ["arn:aws:s3:::other/*"]},
        {"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": ["arn:aws:s3:::dst/*"]},
        {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": ["arn:aws:s3:::dst"]},
        {"Effect": "Allow", "Action": ["s3:GetObjectVersionForReplication"],
         "Resource": ["arn:aws:s3:::src"]},
        {"Effect": "Deny", "NotAction": ["s3:ListBucket"], "Action": [],
         "Resource": ["arn:aws:s3:::src"]},
        {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [keys["src"]]},
        {"Effect": "Allow", "Action": ["kms:Encrypt"], "Resource": [keys["dst"]], "Condition": {
            "StringLike": {"kms:ViaService": "s3.us-east-1.amazonaws.com",
                           "kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::dst"}}},
    ]
    for statement in bad:
        problems = least_privilege_problems({"Statement": [statement]}, {"src": "us-east-1"},
                                            {"dst": "us-west-2"}, keys)
        assert problems, statement


# -- what a real apply builds --------------------------------------------------------------


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return shop_config(tmp_path)


@pytest.fixture
def applied(ministack_endpoint: str, reset_ministack, config_path: Path) -> tuple[Clients,
                                                                                   Config]:
    """Both scripts applied to an emptied MiniStack."""
    for kind in ("crr", "srr"):
        result = run(ministack_endpoint, kind, "apply", "--config", str(config_path))
        assert result.status == 0, result.stdout + result.stderr
    return clients_for(ministack_endpoint)(), load_config(config_path)


def key_arns(aws: Clients, config: Config) -> dict[str, str | None]:
    found = {}
    for name, bucket in config.buckets.items():
        if bucket.kms_key is None:
            found[name] = None
        else:
            kms = aws.get("kms", bucket.region)
            found[name] = kms.describe_key(KeyId=bucket.kms_key)["KeyMetadata"]["Arn"]
    return found


def test_role_policies_are_least_privilege(applied):
    aws, config = applied
    iam = aws.get("iam", "us-east-1")
    keys = key_arns(aws, config)
    checked = 0
    for kind in ("crr", "srr"):
        roles = {config.buckets[r.source].replication_role for r in config.rules(kind)}
        for role in roles:
            rules = [r for r in config.rules(kind)
                     if config.buckets[r.source].replication_role == role]
            found = iam.get_role_policy(RoleName=role, PolicyName=inline_policy_name(kind))
            policy = document(found["PolicyDocument"])
            sources = {r.source: config.buckets[r.source].region for r in rules}
            destinations = {r.destination: config.buckets[r.destination].region for r in rules}

            assert least_privilege_problems(policy, sources, destinations, keys) == []
            covered = {s3_bucket_of(r) for s in policy["Statement"]
                       for r in as_list(s["Resource"]) if r.startswith("arn:aws:s3")}
            assert covered == set(sources) | set(destinations)
            checked += 1
    assert checked == 4  # crr: 2 roles, srr: 2 roles (one shared with crr)


def test_roles_trust_only_s3(applied):
    aws, config = applied
    iam = aws.get("iam", "us-east-1")
    for role in {config.buckets[r.source].replication_role for r in config.all_rules()}:
        trust = document(iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"])
        assert trust == trust_policy()


def test_kms_key_policies_grant_no_one_everything(applied):
    aws, config = applied
    checked = 0
    for region in sorted({b.region for b in config.buckets.values() if b.kms_key}):
        kms = aws.get("kms", region)
        for key in kms.list_keys()["Keys"]:
            tags = kms.list_resource_tags(KeyId=key["KeyId"])["Tags"]
            if not any(t["TagKey"] == ALIAS_TAG for t in tags):
                continue
            policy = json.loads(kms.get_key_policy(KeyId=key["KeyId"],
                                                   PolicyName="default")["Policy"])
            for statement in as_list(policy["Statement"]):
                principal = statement.get("Principal")
                principals = as_list(principal) if isinstance(principal, str) else [
                    p for values in (principal or {}).values() for p in as_list(values)]
                assert "*" not in principals, statement
                assert "NotPrincipal" not in statement
            assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"]
            checked += 1
    assert checked == 2


def test_buckets_are_private_tls_only_and_owner_enforced(ministack_endpoint, reset_ministack,
                                                         config_path):
    """MiniStack's new buckets already report some of these: make them weak first."""
    aws = clients_for(ministack_endpoint)()
    weak = {"shopco-data-use1": "us-east-1", "shopco-assets-euw1": "eu-west-1"}
    mine = {"Sid": "KeepMe", "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::{}/*"}
    for name, region in weak.items():
        s3 = aws.get("s3", region)
        extra = {} if region == "us-east-1" else {
            "CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=name, **extra)
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
            k: False for k in PUBLIC_ACCESS_BLOCK_ALL})
        s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls={
            "Rules": [{"ObjectOwnership": "ObjectWriter"}]})
        s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17",
            "Statement": [{**mine, "Resource": mine["Resource"].format(name)}]}))
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})

    for kind in ("crr", "srr"):
        assert run(ministack_endpoint, kind, "apply", "--config", str(config_path)).status == 0

    config = load_config(config_path)
    keys = key_arns(aws, config)
    for name, bucket in config.buckets.items():
        s3 = aws.get("s3", bucket.region)
        assert s3.get_public_access_block(Bucket=name)[
            "PublicAccessBlockConfiguration"] == PUBLIC_ACCESS_BLOCK_ALL, name
        assert s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"] == {
            "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}, name
        assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
        statements = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])["Statement"]
        tls = [s for s in statements if s.get("Effect") == "Deny"]
        assert tls == [{"Sid": "S3ReplicationDenyInsecureTransport", "Effect": "Deny",
                        "Principal": "*", "Action": "s3:*",
                        "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}], name
        if name in weak:  # the owner's own statement is kept
            assert [s["Sid"] for s in statements if s.get("Effect") == "Allow"] == ["KeepMe"]
        else:
            assert len(statements) == 1
        rule = s3.get_bucket_encryption(Bucket=name)[
            "ServerSideEncryptionConfiguration"]["Rules"][0]
        default = rule["ApplyServerSideEncryptionByDefault"]
        if keys[name] is None:
            assert default["SSEAlgorithm"] == "AES256"
        else:
            assert default == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": keys[name]}
            assert rule["BucketKeyEnabled"] is True
        # SSE-C writes refused on every bucket (https://docs.aws.amazon.com/AmazonS3/latest/
        # userguide/blocking-unblocking-s3-c-encryption-gpb.html): read back, MiniStack does
        # not enforce it
        assert rule.get("BlockedEncryptionTypes") == {"EncryptionType": ["SSE-C"]}, name


# -- secrets and the log file -------------------------------------------------------------

SENTINELS = {
    "AWS_ACCESS_KEY_ID": "AKIASENTINEL7Q3XZ0ID",
    "AWS_SECRET_ACCESS_KEY": "Sentinel/Secret+Key/0123456789abcdefghijKLMN",
    "AWS_SESSION_TOKEN": "SentinelSessionToken//0123456789+abcdefghij==",
}


def run_with_sentinels(endpoint: str, config: Path, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "cr_replication.py"), *argv, "--config",
                           str(config)], cwd=ROOT, env=subprocess_env(endpoint, **SENTINELS),
                          capture_output=True, text=True, timeout=120)


def test_secrets_never_reach_the_console_or_the_log(ministack_endpoint, reset_ministack,
                                                    config_path, tmp_path):
    def deny(request):
        if request.operation == "PutRolePolicy":
            return error_response(request, 403, "AccessDenied", "Access Denied")
        return None

    with FaultProxy(ministack_endpoint, respond=deny) as proxy:
        outputs = [
            run_with_sentinels(proxy.url, config_path, "apply", "-v"),  # fails: traceback
            run_with_sentinels(proxy.url, config_path, "plan", "-v", "--json"),
        ]
    outputs.append(run_with_sentinels(ministack_endpoint, config_path, "apply", "-v"))

    assert [p.returncode for p in outputs] == [1, 3, 0]
    log = (tmp_path / "replication_logs.txt").read_text()
    assert "Traceback" in log  # the log is complete, and still holds no secret
    for text in [log] + [p.stdout + p.stderr for p in outputs]:
        for name, secret in SENTINELS.items():
            assert secret not in text, f"{name} leaked"
            assert secret[:12] not in text, f"part of {name} leaked"


def test_log_and_lock_files_are_owner_only_even_with_a_permissive_umask(
        ministack_endpoint, reset_ministack, config_path, tmp_path):
    previous = os.umask(0)
    try:
        assert run(ministack_endpoint, "crr", "apply", "--config", str(config_path)).status == 0
    finally:
        os.umask(previous)
    for name in ("replication_logs.txt", ".s3replication.lock"):
        mode = stat.S_IMODE((tmp_path / name).stat().st_mode)
        assert mode == 0o600, f"{name}: {oct(mode)}"
