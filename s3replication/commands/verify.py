"""`verify`: does replication work right now? Per rule, in parallel, a canary object.

The canary goes under the rule's prefix with the rule's tags, so the rule selects it. We poll
HEAD on both sides until the replica reads `REPLICA` and the source version `COMPLETED`
(botocore also knows `COMPLETE`), measure the latency, and check it against the RTC target for
RTC rules. Then every version and delete marker of the canary is deleted by version id, in
the source and in every destination of the source's replication configuration (S3 copies an
object to each destination whose rule selects it, and reports `COMPLETED` only once all have
it), so that no object, version or delete marker is left behind. Version-id deletes are never
replicated, so the clean-up itself sends nothing anywhere.

The canary is judged by its own replica. With several destinations the source version reads
`FAILED` if any destination failed
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-status.html), so a source
that has other destinations keeps being watched until the rule's own replica arrives or the
time is up; a source with no other destination gives up at `FAILED`.

A canary that did not replicate on a rule whose source or destination had versioning enabled
by this tool less than 15 minutes ago (the bucket tag buckets.VERSIONING_TAG) is reported as
"versioning still taking effect", not as a failure: versioning may take that long to take
effect (https://docs.aws.amazon.com/AmazonS3/latest/userguide/manage-versioning-examples.html).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
import urllib.parse
import uuid
from collections.abc import Callable
from typing import Any

from ..aws.calls import explain, read_or_none
from ..aws.naming import script_name
from ..config.model import RuleSpec
from ..engine import interrupt
from ..engine.context import Context
from ..engine.items import parallel_map
from ..errors import ExitStatus
from ..output.progress import waiting
from ..output.results import Canary, VerifyResult
from ..output.texts import canary_words
from ..resources import buckets
from ..resources.canary_expiry import CANARY_FOLDER, locked_canary_key
from . import canary_sweep, locked_canary
from .locked_canary import RUN

log = logging.getLogger(__name__)

# S3 RTC replicates 99.99 % of objects within 15 minutes
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html)
RTC_TARGET_SECONDS = 900
SOURCE_DONE = ("COMPLETED", "COMPLETE")
SOURCE_FINAL = (*SOURCE_DONE, "FAILED")  # no destination is left in flight
FIRST_POLL_SECONDS, MAX_POLL_SECONDS = 0.05, 5.0


def verify(ctx: Context, args: argparse.Namespace) -> VerifyResult:
    script = script_name(ctx.kind)
    if not ctx.rules:
        return VerifyResult(script=script, status=ExitStatus.OK, timeout_seconds=None, rules=[])
    threshold = ctx.config.monitoring.latency_threshold_seconds
    timeout = args.timeout if args.timeout is not None else threshold
    rtc_target = min(RTC_TARGET_SECONDS, threshold)
    results = parallel_map(lambda rule: run_canary(ctx, rule, timeout, rtc_target), ctx.rules)
    if any(r.error for r in results):
        status = ExitStatus.FAILURE
    elif all(r.ok for r in results):
        status = ExitStatus.OK
    else:
        status = ExitStatus.ATTENTION
    return VerifyResult(script=script, status=status, timeout_seconds=timeout, rules=results)


def canary_key(ctx: Context, rule: RuleSpec) -> str:
    """A new key each run; into a bucket with Object Lock, the rule's one fixed key, whose
    replicas cannot be deleted (locked_canary)."""
    if locked_canary.locked(ctx, rule.destination):
        return locked_canary_key(rule)
    return f"{rule.prefix}{CANARY_FOLDER}{uuid.uuid4()}"


def run_canary(ctx: Context, rule: RuleSpec, timeout: float, rtc_target: float) -> Canary:
    """Write, watch and remove one rule's canary. Removed whatever happens, Ctrl-C included
    (KeyboardInterrupt where the canary runs in the main thread, Interrupted in a worker), and
    an interrupted run waits for the removal (engine/interrupt.py)."""
    interrupt.check()  # once interrupted, nothing more is written
    key = canary_key(ctx, rule)
    result = Canary(rule=rule.id, source=rule.source, destination=rule.destination, key=key,
                    rtc=rule.rtc, rtc_target_seconds=RTC_TARGET_SECONDS if rule.rtc else None,
                    latency_target_seconds=rtc_target if rule.rtc else None)
    with interrupt.must_finish():
        try:
            _remove_leftovers(ctx, rule, timeout)
            _write_and_watch(ctx, rule, timeout, rtc_target, result)
        finally:
            _remove(ctx, rule, result)
    result.ok = bool(result.replicated and result.rtc_met is not False and not result.error)
    log.info("rule %s: %s", rule.id, canary_words(result))
    return result


def _write_and_watch(ctx: Context, rule: RuleSpec, timeout: float, rtc_target: float,
                     result: Canary) -> None:
    src, dst = ctx.s3_of(ctx.bucket(rule.source)), ctx.s3_of(ctx.bucket(rule.destination))
    key, run = result.key, uuid.uuid4().hex
    doing = "writing the canary"
    try:
        body = json.dumps({"rule": rule.id, "written": time.time()}).encode()
        tagging = {"Tagging": urllib.parse.urlencode(rule.tags)} if rule.tags else {}
        version = src.put_object(Bucket=rule.source, Key=key, Body=body,
                                 ContentType="application/json", Metadata={RUN: run},
                                 **tagging)["VersionId"]
        doing = "watching the canary"
        with waiting(f"canary {rule.source} -> {rule.destination}: its replica", timeout):
            latency, result.source_status, result.replica_status = watch(
                src, dst, rule, key, version, time.monotonic() + timeout,
                lambda: len(_canary_buckets(ctx, rule)) > 2, run)
        if latency is not None and locked_canary.locked(ctx, rule.destination):
            doing = "reading the retention of the canary's replica"
            result.kept = locked_canary.kept(ctx, rule, key, run)
        result.replicated = latency is not None
        result.latency_seconds = None if latency is None else round(latency, 3)
        if rule.rtc and latency is not None:
            result.rtc_met = latency <= rtc_target
        if latency is None:
            doing = "reading when versioning was enabled"
            result.versioning_settling = versioning_settling(ctx, rule)
    except Exception as exc:  # reported per rule (traceback in the log); removed below
        result.error = str(explain(exc, f"rule {rule.id}: {doing} {key}"))
        log.debug("rule %s: %s", rule.id, doing, exc_info=exc)


def _remove_leftovers(ctx: Context, rule: RuleSpec, timeout: float) -> None:
    """Earlier runs' canaries of the rule, removed before this one is written
    (canary_sweep); a failure is logged, and the canary still runs."""
    older_than = canary_sweep.stale_after(ctx.config.monitoring.latency_threshold_seconds,
                                          timeout)
    try:
        canary_sweep.remove_leftovers(rule, _canary_buckets(ctx, rule),
                                      lambda bucket: locked_canary.locked(ctx, bucket), older_than)
    except Exception as exc:  # a leftover does not stop this run's canary
        log.warning("%s", explain(exc, f"rule {rule.id}: removing canaries of earlier runs"))
        log.debug("details", exc_info=exc)


def _remove(ctx: Context, rule: RuleSpec, result: Canary) -> None:
    try:
        result.removed_versions = remove_canary(ctx, rule, result.key)
    except Exception as exc:
        result.error = str(explain(exc, f"rule {rule.id}: removing the canary {result.key}"))
        log.debug("rule %s: removing the canary", rule.id, exc_info=exc)
    if interrupt.STOP.is_set():
        log.info("rule %s: interrupted; canary %s removed (%d versions)", rule.id, result.key,
                 result.removed_versions)


def watch(src: Any, dst: Any, rule: RuleSpec, key: str, version: str, deadline: float,
          other_destinations: Callable[[], bool] = lambda: False, run: str | None = None,
          ) -> tuple[float | None, str | None, str | None]:
    """(latency or None when not replicated by `deadline`, source status, replica status).

    Done when the rule's replica reads REPLICA and the source status is final (COMPLETED, or
    FAILED because of another destination), so that the clean-up finds every replica. With
    `run`, only a replica carrying it in its metadata counts (the fixed key of a locked
    destination holds earlier runs' replicas)."""
    started = time.monotonic()
    delay = FIRST_POLL_SECONDS
    source_status = replica_status = None
    latency: float | None = None
    others: list[bool] = []  # asked once, only when the source reads FAILED
    while True:
        if replica_status != "REPLICA":
            replica_status = _status(dst, rule.destination, key, run=run)
            if replica_status == "REPLICA":
                latency = time.monotonic() - started
        if source_status not in SOURCE_FINAL:
            source_status = _status(src, rule.source, key, version)
        now = time.monotonic()
        if latency is not None and source_status in SOURCE_FINAL:
            return latency, source_status, replica_status
        if latency is None and source_status == "FAILED" and not others:
            others.append(other_destinations())
        if now >= deadline or (latency is None and source_status == "FAILED" and not others[0]):
            return latency, source_status, replica_status
        interrupt.pause(min(delay, deadline - now))  # ends at once on Ctrl-C
        delay = min(delay * 2, MAX_POLL_SECONDS)


def versioning_settling(ctx: Context, rule: RuleSpec) -> dict[str, str] | None:
    """The rule's bucket whose versioning this tool enabled less than 15 minutes ago, if any:
    {"bucket", "enabled_at", "settled_by"} (UTC)."""
    now = buckets.utc_now()
    for name in (rule.source, rule.destination):
        enabled_at = buckets.versioning_enabled_at(buckets.read_tags(ctx, ctx.bucket(name)))
        settled_by = enabled_at + buckets.VERSIONING_SETTLE if enabled_at else None
        if enabled_at is not None and settled_by is not None and now < settled_by:
            return {"bucket": name, "enabled_at": enabled_at.strftime("%H:%M:%S UTC"),
                    "settled_by": settled_by.strftime("%H:%M:%S UTC")}
    return None


def _status(s3: Any, bucket: str, key: str, version: str | None = None,
            run: str | None = None) -> str | None:
    """The object's ReplicationStatus; None when it has none, is not there (yet), or (with
    `run`) is not this run's canary."""
    extra = {"VersionId": version} if version else {}
    found = read_or_none(lambda: s3.head_object(Bucket=bucket, Key=key, **extra), "NoSuchKey")
    if found is None or (run is not None and found.get("Metadata", {}).get(RUN) != run):
        return None
    return found.get("ReplicationStatus")


def remove_canary(ctx: Context, rule: RuleSpec, key: str) -> int:
    """Delete every version and delete marker of `key` in the source and in each destination
    of the source's replication configuration; return how many were deleted. A bucket with
    Object Lock is left alone: its replica cannot be deleted, and the delete would be a write
    in a vault production must not write to (locked_canary)."""
    removed = 0
    for bucket, s3 in _canary_buckets(ctx, rule).items():
        if locked_canary.locked(ctx, bucket):
            continue
        listing = s3.list_object_versions(Bucket=bucket, Prefix=key)
        for version in listing.get("Versions", []) + listing.get("DeleteMarkers", []):
            if version["Key"] == key:
                s3.delete_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])
                removed += 1
    return removed


def _canary_buckets(ctx: Context, rule: RuleSpec) -> dict[str, Any]:
    """The source, the rule's destination, and every other destination of the source's
    replication configuration: bucket name -> S3 client of its account and Region."""
    source = ctx.bucket(rule.source)
    src = ctx.s3_of(source)
    buckets = {rule.source: src, rule.destination: ctx.s3_of(ctx.bucket(rule.destination))}
    answer = read_or_none(lambda: src.get_bucket_replication(Bucket=rule.source),
                          "ReplicationConfigurationNotFoundError")
    if answer is None:
        return buckets
    rules = answer["ReplicationConfiguration"]["Rules"]
    for found in rules:
        name = found["Destination"]["Bucket"].split(":::")[-1]
        if name not in buckets:
            buckets[name] = _client_of(ctx, name, src)
    return buckets


def _client_of(ctx: Context, name: str, s3: Any) -> Any:
    if name in ctx.config.buckets:
        return ctx.s3_of(ctx.bucket(name))
    return ctx.s3(s3.get_bucket_location(Bucket=name).get("LocationConstraint") or "us-east-1")
