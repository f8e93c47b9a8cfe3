"""The versions of a scope as `Version` records, read with ListObjectVersions page by page
(a page ahead, on a thread), in S3's listing order: keys ascending, each key's versions newest
first (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html). A page
holds object versions and delete markers in two lists; they are merged back by key, newest
first, so the judge sees each key's whole history together.

`--from replica` judges the replica's history against the source's present: `merged` gives,
for each key, the replica's versions (none of them current) and the source's current version
(current, and never "at TIME"), so the judge reads the state at TIME from the replica and
what is there now from the source.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from ..streams import prefetched
from .plan import Version, by_key

NEVER = datetime.max.replace(tzinfo=UTC)  # a LastModified no TIME reaches


def versions(s3: Any, bucket: str, prefix: str) -> Iterator[Version]:
    """Every version and delete marker under `prefix`, keys ascending, newest first."""
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix)
    for page in prefetched(pages):
        found = [Version(v["Key"], v["VersionId"], v["LastModified"], v["IsLatest"], False,
                         v.get("Size", 0), v.get("StorageClass", "STANDARD"),
                         v.get("ETag", "")) for v in page.get("Versions", ())]
        found += [Version(m["Key"], m["VersionId"], m["LastModified"], m["IsLatest"], True)
                  for m in page.get("DeleteMarkers", ())]
        found.sort(key=lambda v: v.last_modified, reverse=True)  # stable: listing order on ties
        found.sort(key=lambda v: v.key)
        yield from found


def merged(replica: Iterator[Version], source: Iterator[Version]) -> Iterator[Version]:
    """The replica's history with the source's present, key by key (see the module)."""
    def tagged(stream: Iterator[Version], side: int) -> Iterator[tuple[str, int, list[Version]]]:
        for group in by_key(stream):
            yield group[0].key, side, group

    for _, side, group in heapq.merge(tagged(replica, 0), tagged(source, 1)):
        if side == 0:
            yield from (v._replace(is_latest=False) for v in group)
        else:
            yield from (v._replace(last_modified=NEVER) for v in group if v.is_latest)
