"""Copy an object version onto itself, so that S3 replicates the new version (copy in place).

AWS refuses a copy onto itself that changes nothing, so the metadata is sent back
(`MetadataDirective=REPLACE` with the object's user metadata, content headers, encryption and
storage class, which REPLACE would otherwise reset); tags are kept (`TaggingDirective=COPY`),
so a tag-filtered rule still selects the copy. CopyObject stops at 5 GB: larger objects are
copied part by part with UploadPartCopy, their tags sent with the upload.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

MAX_COPY_OBJECT_BYTES = 5 * 1024**3  # CopyObject's limit
PART_BYTES = 512 * 1024**2
MAX_PARTS = 10_000
KEPT_HEADERS = ("ContentType", "CacheControl", "ContentDisposition", "ContentEncoding",
                "ContentLanguage", "WebsiteRedirectLocation", "StorageClass")


def copy_in_place(s3: Any, bucket: str, key: str, version_id: str) -> str:
    """Copy version `version_id` of `key` onto `key`; return the new version id."""
    head = s3.head_object(Bucket=bucket, Key=key, VersionId=version_id)
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
