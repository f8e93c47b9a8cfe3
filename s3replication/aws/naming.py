"""ARNs and the names the tool gives to what it creates: one place for every string format."""

from __future__ import annotations

import hashlib

TOOL_TAG_PREFIX = "s3replication:"
MANAGED_TAG = TOOL_TAG_PREFIX + "managed"  # on roles and KMS keys the tool created
ALIAS_TAG = TOOL_TAG_PREFIX + "alias"  # on a created KMS key: the alias it was made for
TLS_STATEMENT_SID = "S3ReplicationDenyInsecureTransport"


# Per partition: the Region that serves its global endpoints (IAM, STS, ListBuckets) and the
# DNS suffix of its service endpoints, as in botocore's endpoints data and
# https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/partitions.html
GLOBAL_REGION = {"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}
DNS_SUFFIX = {"aws": "amazonaws.com", "aws-cn": "amazonaws.com.cn",
              "aws-us-gov": "amazonaws.com"}


def partition(region: str) -> str:
    """The AWS partition of a Region: "aws", "aws-cn" or "aws-us-gov"."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def global_region(region: str) -> str:
    """The Region to call IAM, STS and S3 ListBuckets in, for buckets of `region`'s partition."""
    return GLOBAL_REGION[partition(region)]


def s3_service_host(region: str) -> str:
    """S3's endpoint host in `region`, the value of the kms:ViaService condition key for
    requests S3 makes to KMS there (https://docs.aws.amazon.com/kms/latest/developerguide/
    conditions-kms.html#conditions-kms-via-service)."""
    return f"s3.{region}.{DNS_SUFFIX[partition(region)]}"


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


def short_hash(text: str, chars: int) -> str:
    """The first `chars` hex digits of the SHA-256 of `text`: a short, stable stand-in for a
    name too long to use whole."""
    return hashlib.sha256(text.encode()).hexdigest()[:chars]
