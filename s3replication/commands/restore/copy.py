"""Write back one version as the key's new current version, and hide a key.

A version is copied with CopyObject naming its version id in CopySource, into the same key
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/RestoringPreviousVersions.html: "Copy a
previous version of the object into the same bucket. The copied object becomes the current
version"), one call per key and no HEAD first: what the copy needs comes with the listing.

- Content, Content-Type and the other system metadata, and the user metadata: the version's
  own, CopyObject's default `MetadataDirective=COPY`; its tags: `TaggingDirective=COPY`, the
  default too (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html).
- Storage class: the version's, as listed (within one bucket; copied from the replica, the
  bucket's default class, since the replica's class is the rule's). CopyObject would
  otherwise write STANDARD (the page above).
- Encryption: the bucket's default encryption, as a copy request without encryption headers
  gets (the page above: "the encryption setting of the target object is set to the default
  encryption configuration of the destination bucket"); the same as the Batch Operations
  path (batch_copy.py). That default is the key apply configures and the replication role
  may decrypt: a copy under a key the shop has since retired would not replicate.
- Above 5 GB, CopyObject's limit: a HEAD for the metadata, then part by part (object_copy).
- GLACIER and DEEP_ARCHIVE versions are left out by the plan (they need a restore first);
  one in an archive tier of Intelligent-Tiering is refused by the copy with InvalidObjectState
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/intelligent-tiering-managing.html),
  and one encrypted with SSE-C with InvalidRequest: both become `NotCopyable`, the key listed
  with its reason, not failed silently.

A key created after TIME is hidden with a delete marker: DeleteObject without a version id
deletes no version (https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeletingObjectVersions.html),
and delete markers replicate, so the replica hides it too
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ...aws.calls import error_code
from ...engine import interrupt
from ..object_copy import (
    ARCHIVED,
    CUSTOMER_KEY,
    KEPT_HEADERS,
    MAX_COPY_OBJECT_BYTES,
    SSE_C_REASON,
    NotCopyable,
    _copy_in_parts,
    head_version,
)
from .plan import Copy

DEFAULT_CLASS = ("", "STANDARD")


def copy_back(s3: Any, bucket: str, copy: Copy, reader: Any = None, from_bucket: str = "",
              ) -> str:
    """Copy version `copy.version_id` of `copy.key` (from `from_bucket`, default: the same
    bucket, whose client `reader` is) onto `bucket`/`copy.key`; return the new version id."""
    reader, from_bucket = reader or s3, from_bucket or bucket
    source = {"Bucket": from_bucket, "Key": copy.key, "VersionId": copy.version_id}
    if copy.size > MAX_COPY_OBJECT_BYTES:
        return _copy_large(s3, reader, bucket, source)
    kept_class = from_bucket == bucket and copy.storage_class not in DEFAULT_CLASS
    interrupt.check()  # Ctrl-C: no copy starts (engine/interrupt.py)
    try:
        return str(s3.copy_object(
            CopySource=source, Bucket=bucket, Key=copy.key,
            **({"StorageClass": copy.storage_class} if kept_class else {}))["VersionId"])
    except ClientError as exc:
        raise _not_copyable(exc) from exc


def _not_copyable(exc: ClientError) -> Exception:
    """What a refused copy says: the version is archived or needs its customer key, or the
    failure itself."""
    message = exc.response.get("Error", {}).get("Message", "")
    if error_code(exc) == "InvalidObjectState":
        return NotCopyable(ARCHIVED, "archived in an archive tier of S3 Intelligent-Tiering: "
                           "restore it first (RestoreObject), then run the restore again")
    if error_code(exc) == "InvalidRequest" and "Server Side Encryption" in message:
        return NotCopyable(CUSTOMER_KEY, SSE_C_REASON)
    return exc


def _copy_large(s3: Any, reader: Any, bucket: str, source: dict[str, str]) -> str:
    """Above 5 GB: part by part, with the version's metadata read by a HEAD (a multipart
    upload does not copy it)."""
    head = head_version(reader, source["Bucket"], source["Key"], source["VersionId"])
    kept = {name: head[name] for name in KEPT_HEADERS if head.get(name)}
    if source["Bucket"] != bucket:
        kept.pop("StorageClass", None)  # the replica's class is the rule's, not the source's
    settings = {"Bucket": bucket, "Key": source["Key"], "Metadata": head.get("Metadata", {}),
                **kept}
    interrupt.check()  # Ctrl-C since the read: no write starts (engine/interrupt.py)
    return _copy_in_parts(s3, source, head["ContentLength"], settings)


def hide(s3: Any, bucket: str, key: str) -> str:
    """A delete marker on `key` (no version is deleted); return the marker's version id."""
    return str(s3.delete_object(Bucket=bucket, Key=key).get("VersionId", ""))
