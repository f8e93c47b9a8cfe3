"""Canaries never outlive a run: what is a canary, and the removal of earlier runs' leftovers.

A run that writes canaries (verify, readiness, failover's and failback's checks) removes them
when it ends, even on Ctrl-C (commands/verify.py). A run killed outright, or interrupted while
a removal was still under way, leaves one: `.s3-replication-canary/UUID` under its rule's
prefix in the source, and its replica in each destination. So before writing its own, each
canary removes those of earlier runs under the same prefix, in the same buckets: every version
and delete marker older than the longest canary wait (`stale_after`), so that a canary another
run is still waiting for is left alone. A bucket with Object Lock is skipped, as when a canary
is removed: its one fixed canary key expires by lifecycle (resources/canary_expiry.py).

`audit` and `backfill` ignore every key in a canary folder (`is_canary`): a leftover canary is
the tool's own, not data that failed to replicate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from ..config.model import RuleSpec
from ..resources.canary_expiry import CANARY_FOLDER, locked_canary_key

log = logging.getLogger(__name__)
STALE_MARGIN_SECONDS = 60.0  # clock skew, and the few seconds a canary's removal takes


def is_canary(key: str) -> bool:
    """A canary's key (or its replica's), under any rule's prefix."""
    return key.startswith(CANARY_FOLDER) or f"/{CANARY_FOLDER}" in key


def stale_after(threshold: float, timeout: float) -> float:
    """Seconds after which a canary is an earlier run's leftover: the longest wait any run of
    this config takes by default (verify: the latency threshold, readiness: 120 s) or this one
    takes, and a margin. A run given a longer --timeout than both is the one case left out."""
    from .readiness import CANARY_TIMEOUT

    return max(threshold, timeout, CANARY_TIMEOUT) + STALE_MARGIN_SECONDS


def utc_now() -> datetime:
    return datetime.now(UTC)


def remove_leftovers(rule: RuleSpec, buckets: dict[str, Any], locked: Callable[[str], bool],
                     older_than: float) -> int:
    """Delete, by version id, every version and delete marker in the rule's canary folder of
    `buckets` (name -> S3 client) last modified more than `older_than` seconds ago; return how
    many. Deletes by version id are not replicated, so nothing is sent anywhere else."""
    cutoff = utc_now() - timedelta(seconds=older_than)
    folder, fixed = f"{rule.prefix}{CANARY_FOLDER}", locked_canary_key(rule)
    removed = 0
    for bucket, s3 in buckets.items():
        if locked(bucket):
            continue
        pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=folder)
        for page in pages:
            for version in page.get("Versions", []) + page.get("DeleteMarkers", []):
                if version["Key"] != fixed and version["LastModified"] < cutoff:
                    s3.delete_object(Bucket=bucket, Key=version["Key"],
                                     VersionId=version["VersionId"])
                    removed += 1
    if removed:
        log.info("rule %s: removed %d canary versions left by earlier runs under %s",
                 rule.id, removed, folder)
    return removed
