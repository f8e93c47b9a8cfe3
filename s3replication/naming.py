"""ARNs and the names the tool gives to what it creates: one place for every string format."""

from __future__ import annotations

TOOL_TAG_PREFIX = "s3replication:"
MANAGED_TAG = TOOL_TAG_PREFIX + "managed"  # on roles and KMS keys the tool created
ALIAS_TAG = TOOL_TAG_PREFIX + "alias"  # on a created KMS key: the alias it was made for
TLS_STATEMENT_SID = "S3ReplicationDenyInsecureTransport"


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def bucket_arn(bucket: str, region: str = "us-east-1") -> str:
    return f"arn:{partition(region)}:s3:::{bucket}"


def role_arn(account: str, role_name: str, region: str = "us-east-1") -> str:
    return f"arn:{partition(region)}:iam::{account}:role/{role_name}"


def key_arn(account: str, region: str, key_id: str) -> str:
    return f"arn:{partition(region)}:kms:{region}:{account}:key/{key_id}"


def inline_policy_name(kind: str) -> str:
    """Each script keeps its permissions in its own inline policy on the shared role."""
    return f"s3-replication-{kind}"


def script_name(kind: str) -> str:
    return {"crr": "cr_replication", "srr": "sr_replication"}[kind]
