"""The replication role's trust policy and each script's permissions, as AWS documents them.

- Trust: S3 assumes the role; read on the source, replicate into each destination
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html).
- SSE-KMS: kms:Decrypt on the source key and kms:Encrypt on each destination key, each limited
  by kms:ViaService and kms:EncryptionContext:aws:s3:arn of the bucket
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html).
- A destination in another account: s3:ObjectOwnerOverrideToBucketOwner, so that the rule's
  owner override makes that account own the replicas
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-change-owner.html); the
  key ARN of such a destination is in that account (its key policy grants the role too).
- S3 Bucket Keys, on every SSE-KMS bucket the tool sets up: the encryption context is the bucket
  ARN (objects written before Bucket Keys were turned on carry the object ARN, so both are
  allowed), and the role also needs kms:Decrypt on the replica's key, with the destination's
  context ("S3 Bucket Keys and replication" on the page above, and
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html#bucket-key-replication).
- A destination under Object Lock: s3:GetObjectRetention and s3:GetObjectLegalHold on the
  source's objects, so that replicas carry the source's retention and legal hold ("Using
  Object Lock with S3 Replication",
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html).

No wildcard actions, no "Resource": "*".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..aws.naming import bucket_arn, s3_service_host

VERSION = "2012-10-17"
S3_SERVICE = "s3.amazonaws.com"
REPLICA_KEY_ACTIONS = ["kms:Decrypt", "kms:Encrypt"]


def trust_policy() -> dict[str, Any]:
    return {
        "Version": VERSION,
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": S3_SERVICE}, "Action": "sts:AssumeRole"}
        ],
    }


@dataclass(frozen=True)
class Endpoint:
    """One bucket as the policy sees it: its name, Region and KMS key ARN (None for SSE-S3)."""

    bucket: str
    region: str
    key_arn: str | None
    other_account: bool = False  # in another account: the role makes it own the replicas
    locked: bool = False  # under Object Lock: the role reads the source's lock metadata


def _kms_statement(sid: str, actions: list[str], end: Endpoint) -> dict[str, Any]:
    arn = bucket_arn(end.bucket, end.region)
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": actions,
        "Resource": [end.key_arn],
        "Condition": {
            "StringLike": {
                "kms:ViaService": s3_service_host(end.region),
                "kms:EncryptionContext:aws:s3:arn": [arn, f"{arn}/*"],
            }
        },
    }


def _object_lock_statements(source_arn: str, destinations: list[Endpoint]) -> list[Any]:
    """Into a destination under Object Lock: the source objects' retention and legal hold."""
    if not any(d.locked for d in destinations):
        return []
    return [{"Sid": "ReadSourceObjectLock", "Effect": "Allow",
             "Action": ["s3:GetObjectLegalHold", "s3:GetObjectRetention"],
             "Resource": [f"{source_arn}/*"]}]


def _other_account_statements(elsewhere: list[Endpoint]) -> list[Any]:
    """Into destinations in other accounts: the replicas given to the destination's owner
    (owner override, replication-change-owner.html), and the destination's versioning read,
    which the destination's bucket policy grants too (replication-walkthrough-2.html): across
    accounts both policies must allow."""
    if not elsewhere:
        return []
    return [
        {"Sid": "GiveReplicasToDestinationOwner", "Effect": "Allow",
         "Action": ["s3:ObjectOwnerOverrideToBucketOwner"],
         "Resource": [f"{bucket_arn(d.bucket, d.region)}/*" for d in elsewhere]},
        {"Sid": "ReadDestinationVersioning", "Effect": "Allow",
         "Action": ["s3:GetBucketVersioning"],
         "Resource": [bucket_arn(d.bucket, d.region) for d in elsewhere]},
    ]


def permissions_policy(source: Endpoint, destinations: list[Endpoint]) -> dict[str, Any]:
    source_arn = bucket_arn(source.bucket, source.region)
    destinations = sorted(set(destinations), key=lambda d: d.bucket)
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadSourceBucket",
            "Effect": "Allow",
            "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
            "Resource": [source_arn],
        },
        {
            "Sid": "ReadSourceObjects",
            "Effect": "Allow",
            "Action": [
                "s3:GetObjectVersionAcl",
                "s3:GetObjectVersionForReplication",
                "s3:GetObjectVersionTagging",
            ],
            "Resource": [f"{source_arn}/*"],
        },
        {
            "Sid": "ReplicateIntoDestinations",
            "Effect": "Allow",
            "Action": ["s3:ReplicateDelete", "s3:ReplicateObject", "s3:ReplicateTags"],
            "Resource": [f"{bucket_arn(d.bucket, d.region)}/*" for d in destinations],
        },
    ]
    statements += _object_lock_statements(source_arn, destinations)
    statements += _other_account_statements([d for d in destinations if d.other_account])
    if source.key_arn:
        statements.append(_kms_statement("DecryptSourceObjects", ["kms:Decrypt"], source))
        for n, dest in enumerate(d for d in destinations if d.key_arn):
            # kms:Decrypt too: S3 checks the destination's Bucket Key with it
            statements.append(_kms_statement(f"EncryptReplicas{n}", list(REPLICA_KEY_ACTIONS),
                                             dest))
    return {"Version": VERSION, "Statement": statements}


def normalize_document(document: Any) -> Any:
    """A policy document in canonical form, so that documents IAM treats as equal compare
    equal here: a one-element list is its element, lists of strings are sorted."""
    if isinstance(document, dict):
        return {key: normalize_document(value) for key, value in document.items()}
    if isinstance(document, list):
        items = [normalize_document(v) for v in document]
        if len(items) == 1:
            return items[0]
        if all(isinstance(v, str) for v in items):
            return sorted(items)
        return items
    return document
