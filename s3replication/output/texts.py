"""The sentences the renderer repeats: hints, table headings, and a canary's outcome in words
(also written to the log by verify)."""

from __future__ import annotations

from .results import Canary

KEPT_ON_DESTROY = (
    "kept: every bucket and its data, versioning, default encryption, public access blocks, "
    "the TLS-only policy and tags, and every KMS key. Delete them by hand if you mean to "
    "(aws s3 rb s3://BUCKET --force; aws kms schedule-key-deletion --key-id ARN)."
)

STATUS_STATES = {"OK": "OK", "ALARM": "ALARM", "INSUFFICIENT_DATA": "NODATA", None: "MISSING"}
STATUS_COLUMNS = ("RULE", "SOURCE -> DESTINATION", "RTC", "ALARMS f/l/b", "LATENCY s",
                  "PENDING ops", "PENDING bytes", "FAILED", "VERDICT")

BACKFILL_HINT = ("S3 does not replicate objects written before their rule existed (or while it "
                 "was off), nor retry failed ones: run `backfill` to replicate them.")
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/restoring-objects.html
ARCHIVE_HINT = ("S3 does not replicate objects in GLACIER or DEEP_ARCHIVE, and backfill cannot "
                "copy them: restore them first (RestoreObject), then copy them into a storage "
                "class that replicates.")
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html
SSE_C_HINT = ("Objects encrypted with a customer-provided key (SSE-C) need that key to be read "
              "or copied, and the destination refuses SSE-C writes, replication's included "
              "(apply blocks SSE-C on every bucket): whoever holds the key must copy each in "
              "place re-encrypted with SSE-KMS or SSE-S3; that new version replicates.")
BACKFILL_COUNTS = ("missing", "failed", "mismatched")  # audit counts backfill repairs


def _latency_target(r: Canary, met: str) -> str:
    """The target a canary's latency was judged against: RTC's 15 minutes, or the config's
    latency threshold when it is lower (said as such, next to RTC's own)."""
    rtc = r.rtc_target_seconds or 0
    target = r.latency_target_seconds if r.latency_target_seconds is not None else rtc
    if target < rtc:
        return f"latency threshold {target:g} s {met}; RTC's own target {rtc / 60:g} min"
    return f"RTC target {rtc / 60:g} min {met}"


def canary_words(r: Canary) -> str:
    """What became of one rule's canary, in a few words."""
    if r.error:
        return f"error: {r.error}"
    settling = r.versioning_settling
    if not r.replicated and settling:
        return (f"not replicated yet: versioning still taking effect on {settling['bucket']} "
                f"(enabled at {settling['enabled_at']}; AWS allows up to 15 minutes); run verify "
                f"again after {settling['settled_by']}")
    if not r.replicated:
        return (f"not replicated (source {r.source_status or 'without status'}, replica "
                f"{r.replica_status or 'absent'})")
    words = f"replicated in {r.latency_seconds:.2f} s"
    if r.source_status == "FAILED":
        words += (" (the source version reads FAILED: another destination of "
                  f"{r.source} failed; see `audit`)")
    if r.rtc_met is not None:
        words += f" ({_latency_target(r, 'met' if r.rtc_met else 'MISSED')})"
    if r.kept:
        words += (f"; the canary's replica in {r.kept['bucket']} stays until "
                  f"{r.kept['until']} ({r.kept['mode']}, {r.kept['period']}"
                  f"{'' if r.kept['as_read'] else ': the default, its own retention unread'}), "
                  "then the vault's lifecycle rule removes it")
    return words


def retention_counts(counts: dict[str, int]) -> str:
    """audit: a locked destination's replicas whose retention is missing or short, if any."""
    return "".join(f", {counts[kind]} {words}" for kind, words in (
        ("retention_missing", "without retention"),
        ("retention_short", "with retention short of the vault's default")) if counts.get(kind))
