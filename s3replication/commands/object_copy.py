"""Copy an object version onto itself, so that S3 replicates the new version (copy in place).

AWS refuses a copy onto itself that changes nothing, so the metadata is sent back
(`MetadataDirective=REPLACE` with the object's user metadata, every system metadata field
CopyObject accepts (Content-Type, Cache-Control, Content-Disposition, Content-Encoding,
Content-Language, Expires, the website redirect), its encryption and storage class, which
REPLACE would otherwise reset or drop:
https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html); tags are kept
(`TaggingDirective=COPY`), so a tag-filtered rule still selects the copy. CopyObject stops at
5 GB: larger objects are copied part by part with UploadPartCopy, their tags sent with the
upload.

Two kinds of object are never copied, each with its reason (`NotCopyable`):
- objects in GLACIER or DEEP_ARCHIVE: S3 does not replicate them
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html,
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/sc-howtoset.html) and they must be
  restored before they can be read or copied
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/restoring-objects.html);
- objects encrypted with a customer-provided key (SSE-C): reading or copying them needs that
  key (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerSideEncryptionCustomerKeys.html).
  S3 Batch Replication could replicate them without it, but not into a bucket that blocks SSE-C:
  BlockedEncryptionTypes refuses replication requests that specify SSE-C too
  (https://docs.aws.amazon.com/AmazonS3/latest/API/API_BlockedEncryptionTypes.html), and apply
  blocks SSE-C on every bucket it manages (resources/bucket_settings.py). Only the key's holder
  can make them replicable: a copy in place re-encrypted with SSE-KMS or SSE-S3.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from botocore.exceptions import ClientError

from ..aws.calls import error_code

MAX_COPY_OBJECT_BYTES = 5 * 1024**3  # CopyObject's limit
PART_BYTES = 512 * 1024**2
MAX_PARTS = 10_000
KEPT_HEADERS = ("ContentType", "CacheControl", "ContentDisposition", "ContentEncoding",
                "ContentLanguage", "Expires", "WebsiteRedirectLocation", "StorageClass")
ARCHIVED_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})
ARCHIVED, CUSTOMER_KEY = "archived", "customer key"
SSE_C_REASON = ("encrypted with a customer-provided key (SSE-C): it cannot be read or copied "
                "without that key, and neither replication nor Batch Replication can write it "
                "into the destination, which refuses SSE-C (apply blocks it on every bucket); "
                "whoever holds the key must copy it in place re-encrypted with SSE-KMS or SSE-S3 "
                "(CopyObject with the key's CopySourceSSECustomer* headers): that new version "
                "replicates")


def archived_reason(storage_class: str) -> str:
    return (f"archived in {storage_class}: S3 does not replicate it and cannot copy it until it "
            "is restored; restore it first (RestoreObject), then copy it into a storage class "
            "that replicates")


class NotCopyable(Exception):
    """An object copy in place cannot handle; `kind` is ARCHIVED or CUSTOMER_KEY."""

    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind, self.reason = kind, reason


def head_version(s3: Any, bucket: str, key: str, version_id: str) -> dict[str, Any]:
    """HEAD of one version; NotCopyable(CUSTOMER_KEY) when it is encrypted with SSE-C.

    A HEAD without the customer key's headers answers a bare 400 (a HEAD has no body), so a
    one-byte GET tells why: S3 answers InvalidRequest naming server-side encryption."""
    try:
        return dict(s3.head_object(Bucket=bucket, Key=key, VersionId=version_id))
    except ClientError as exc:
        if error_code(exc) not in ("400", "BadRequest") or not _needs_customer_key(
                s3, bucket, key, version_id):
            raise
        raise NotCopyable(CUSTOMER_KEY, SSE_C_REASON) from exc


def _needs_customer_key(s3: Any, bucket: str, key: str, version_id: str) -> bool:
    try:
        found = s3.get_object(Bucket=bucket, Key=key, VersionId=version_id, Range="bytes=0-0")
        found["Body"].close()
    except ClientError as exc:
        message = exc.response.get("Error", {}).get("Message", "")
        return error_code(exc) == "InvalidRequest" and "Server Side Encryption" in message
    return False


def copy_in_place(s3: Any, bucket: str, key: str, version_id: str) -> str:
    """Copy version `version_id` of `key` onto `key`; return the new version id. Raises
    NotCopyable for archived and SSE-C objects, changing nothing."""
    head = head_version(s3, bucket, key, version_id)
    if head.get("StorageClass") in ARCHIVED_CLASSES:
        raise NotCopyable(ARCHIVED, archived_reason(head["StorageClass"]))
    source = {"Bucket": bucket, "Key": key, "VersionId": version_id}
    settings = {"Bucket": bucket, "Key": key, "Metadata": head.get("Metadata", {}),
                **{name: head[name] for name in KEPT_HEADERS if head.get(name)},
                **_encryption(head)}
    if head["ContentLength"] <= MAX_COPY_OBJECT_BYTES:
        return s3.copy_object(CopySource=source, MetadataDirective="REPLACE",
                              TaggingDirective="COPY", **settings)["VersionId"]
    return _copy_in_parts(s3, source, head["ContentLength"], settings)


def _encryption(head: dict[str, Any]) -> dict[str, Any]:
    """The object's own server-side encryption, so that the copy keeps it."""
    kind = head.get("ServerSideEncryption")
    if kind is None:
        return {}
    settings: dict[str, Any] = {"ServerSideEncryption": kind}
    if head.get("SSEKMSKeyId"):
        settings["SSEKMSKeyId"] = head["SSEKMSKeyId"]
    if head.get("BucketKeyEnabled") is not None:
        settings["BucketKeyEnabled"] = head["BucketKeyEnabled"]
    return settings


def _copy_in_parts(s3: Any, source: dict[str, str], size: int, settings: dict[str, Any]) -> str:
    tags = s3.get_object_tagging(**source).get("TagSet", [])
    if tags:
        settings = {**settings, "Tagging": urllib.parse.urlencode(
            [(t["Key"], t["Value"]) for t in tags])}
    upload = s3.create_multipart_upload(**settings)["UploadId"]
    where = {"Bucket": source["Bucket"], "Key": source["Key"], "UploadId": upload}
    part_bytes = max(PART_BYTES, -(-size // MAX_PARTS))
    try:
        parts = []
        for number, start in enumerate(range(0, size, part_bytes), start=1):
            end = min(start + part_bytes, size) - 1
            copied = s3.upload_part_copy(**where, PartNumber=number, CopySource=source,
                                         CopySourceRange=f"bytes={start}-{end}")
            parts.append({"PartNumber": number, "ETag": copied["CopyPartResult"]["ETag"]})
        done = s3.complete_multipart_upload(**where, MultipartUpload={"Parts": parts})
    except BaseException:
        s3.abort_multipart_upload(**where)
        raise
    return done["VersionId"]
