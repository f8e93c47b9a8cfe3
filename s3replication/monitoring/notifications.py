"""Each source bucket's S3 event notification for replication events, to the Region's topic.

One entry per bucket, with our own Id, shared by both scripts: AWS rejects two configurations
with overlapping event types. PutBucketNotificationConfiguration replaces the whole
configuration, so every other entry (topics, queues, functions, EventBridge) is written back
exactly as it was read.
"""

from __future__ import annotations

from typing import Any

from ..aws.calls import read_or_none
from ..config.model import BucketSpec, RuleSpec
from ..engine.context import Context
from ..engine.items import Item
from .topics import topic_arn

ENTRY_ID = "s3-replication-events"
FAILED = "s3:Replication:OperationFailedReplication"  # needs metrics on the rule, not RTC
RTC_EVENTS = ("s3:Replication:OperationMissedThreshold",
              "s3:Replication:OperationReplicatedAfterThreshold")
CONFIGURATION_KEYS = ("TopicConfigurations", "QueueConfigurations",
                      "LambdaFunctionConfigurations", "EventBridgeConfiguration")


def wanted_entry(ctx: Context, bucket: BucketSpec, rules: list[RuleSpec]) -> Any:
    if not rules:
        return None
    events = [FAILED, *(RTC_EVENTS if any(r.rtc for r in rules) else ())]
    return {"TopicArn": topic_arn(ctx, bucket.region), "Events": sorted(events)}


def project_entry(configuration: Any) -> Any:
    for entry in (configuration or {}).get("TopicConfigurations", []):
        if entry.get("Id") == ENTRY_ID:
            seen = {k: entry[k] for k in ("TopicArn", "Events", "Filter") if k in entry}
            return {**seen, "Events": sorted(seen.get("Events", []))}
    return None


def merged(configuration: Any, entry: Any) -> dict[str, Any]:
    """`configuration` with our entry replaced by `entry` (or removed when None)."""
    kept = {k: v for k, v in (configuration or {}).items() if k in CONFIGURATION_KEYS}
    topics = [e for e in kept.get("TopicConfigurations", []) if e.get("Id") != ENTRY_ID]
    if entry is not None:
        topics.append({"Id": ENTRY_ID, **entry})
    kept["TopicConfigurations"] = topics
    return {k: v for k, v in kept.items() if v or k == "EventBridgeConfiguration"}


def item(ctx: Context, bucket: BucketSpec, rules: list[RuleSpec]) -> Item:
    s3 = ctx.s3(bucket.region)

    def read() -> Any:  # NoSuchBucket: only in a plan that creates the bucket
        return read_or_none(lambda: s3.get_bucket_notification_configuration(
            Bucket=bucket.name), "NoSuchBucket")

    def write(current: Any) -> None:
        s3.put_bucket_notification_configuration(
            Bucket=bucket.name,
            NotificationConfiguration=merged(current, wanted_entry(ctx, bucket, rules)))

    return Item(f"bucket {bucket.name} ({bucket.region})", "replication event notification",
                wanted_entry(ctx, bucket, rules), read, write, project=project_entry,
                touches=f"notification of {bucket.name}")  # buckets' entries: written at once
