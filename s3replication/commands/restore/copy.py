"""Write back one version as the key's new current version, and hide a key.

A version is copied with CopyObject naming its version id in CopySource
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html): its content, its
Content-Type and the other system metadata CopyObject takes, its user metadata (sent back with
`MetadataDirective=REPLACE`), its tags (`TaggingDirective=COPY`, the tags of that version) and,
within one bucket, its encryption; above 5 GB part by part (object_copy). Versions archived in
GLACIER or DEEP_ARCHIVE cannot be copied before they are restored (object_copy.NotCopyable).

Copied from the replica (`--from replica`), the encryption is left to the source bucket's
default: the replica's KMS key belongs to the destination's Region or account.

A key created after TIME is hidden with a delete marker: DeleteObject without a version id
deletes no version (https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeletingObjectVersions.html),
and delete markers replicate, so the replica hides it too
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html).
"""

from __future__ import annotations

from typing import Any

from ...engine import interrupt
from ..object_copy import (
    ARCHIVED,
    ARCHIVED_CLASSES,
    KEPT_HEADERS,
    MAX_COPY_OBJECT_BYTES,
    NotCopyable,
    _copy_in_parts,
    _encryption,
    archived_reason,
    head_version,
)


def copy_back(s3: Any, bucket: str, key: str, version_id: str, reader: Any = None,
              from_bucket: str = "") -> str:
    """Copy version `version_id` of `key` (from `from_bucket`, read through `reader`; default:
    the same bucket) onto `bucket`/`key`; return the new version id."""
    reader, from_bucket = reader or s3, from_bucket or bucket
    head = head_version(reader, from_bucket, key, version_id)
    if head.get("StorageClass") in ARCHIVED_CLASSES:
        raise NotCopyable(ARCHIVED, archived_reason(head["StorageClass"]))
    source = {"Bucket": from_bucket, "Key": key, "VersionId": version_id}
    kept = {name: head[name] for name in KEPT_HEADERS if head.get(name)}
    if from_bucket != bucket:
        kept.pop("StorageClass", None)  # the replica's class is the rule's, not the source's
    settings = {"Bucket": bucket, "Key": key, "Metadata": head.get("Metadata", {}), **kept,
                **(_encryption(head) if from_bucket == bucket else {})}
    interrupt.check()  # Ctrl-C since the read: no write starts (engine/interrupt.py)
    if head["ContentLength"] <= MAX_COPY_OBJECT_BYTES:
        return str(s3.copy_object(CopySource=source, MetadataDirective="REPLACE",
                                  TaggingDirective="COPY", **settings)["VersionId"])
    return _copy_in_parts(s3, source, head["ContentLength"], settings)


def hide(s3: Any, bucket: str, key: str) -> str:
    """A delete marker on `key` (no version is deleted); return the marker's version id."""
    return str(s3.delete_object(Bucket=bucket, Key=key).get("VersionId", ""))
