"""The SNS topic for replication alerts in one Region: the topic, its policy statement letting S3
publish for the account's source buckets, and the e-mail subscriptions of `alert_emails`.

The topic serves both scripts, every source bucket of its Region (their event notifications)
and every alarm of its Region: an alarm's action must be a topic of the alarm's own Region, so
a Region that holds only alarms (a CRR destination's: alarms.py) has a topic too, with the
subscriptions and without the statement (no source bucket there publishes). The statement (our own
Sid; AWS's pattern for letting S3 publish, aws:SourceAccount and aws:SourceArn,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/grant-destinations-permissions-to-s3.html)
is merged with any others.
Subscriptions this tool made are recorded in topic tags (a hash of each address), so that an
address dropped from the config is unsubscribed while subscriptions made by anyone else are
never touched. The topic is deleted only when no rule of either script uses it, the tool made
it (tag), and nothing of anyone else's is left on it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..aws.calls import policy_document, read_or_none
from ..aws.naming import MANAGED_TAG, TOOL_TAG_PREFIX, bucket_arn, partition, short_hash
from ..engine.context import Context
from ..engine.items import Item
from ..resources.iam_policy import S3_SERVICE, VERSION, normalize_document

STATEMENT_SID = "S3ReplicationEventsPublish"
EMAIL_TAG_PREFIX = TOOL_TAG_PREFIX + "alert-email:"
PENDING = "PendingConfirmation"  # a subscription's ARN until the recipient confirms it
EXISTS = "exists"


def topic_arn(ctx: Context, region: str) -> str:
    return f"arn:{partition(region)}:sns:{region}:{ctx.account}:{ctx.config.monitoring.sns_topic}"


def publish_statement(ctx: Context, region: str, buckets: list[str]) -> dict[str, Any]:
    return {
        "Sid": STATEMENT_SID,
        "Effect": "Allow",
        "Principal": {"Service": S3_SERVICE},
        "Action": "sns:Publish",
        "Resource": topic_arn(ctx, region),
        "Condition": {
            "StringEquals": {"aws:SourceAccount": ctx.account},
            "ArnLike": {"aws:SourceArn": sorted(bucket_arn(b, region) for b in buckets)},
        },
    }


def email_tag(address: str) -> str:
    return EMAIL_TAG_PREFIX + short_hash(address, 16)


class TopicReader:
    """One topic's attributes, tags and subscriptions, each read once until a write."""

    def __init__(self, sns: Any, arn: str):
        self.sns, self.arn = sns, arn
        self._found: dict[str, Any] = {}

    def _once(self, key: str, read: Callable[[], Any], absent: Any) -> Any:
        if key not in self._found:
            found = read_or_none(read, "NotFound", "ResourceNotFound")
            self._found[key] = absent if found is None else found
        return self._found[key]

    def attributes(self) -> dict[str, str] | None:
        return self._once("attributes", lambda: self.sns.get_topic_attributes(
            TopicArn=self.arn)["Attributes"], None)

    def tags(self) -> dict[str, str]:
        def read() -> dict[str, str]:
            found = self.sns.list_tags_for_resource(ResourceArn=self.arn)["Tags"]
            return {t["Key"]: t["Value"] for t in found}
        return self._once("tags", read, {})

    def subscriptions(self) -> list[dict[str, Any]]:
        def read() -> list[dict[str, Any]]:
            pages = self.sns.get_paginator("list_subscriptions_by_topic").paginate(
                TopicArn=self.arn)
            return [s for page in pages for s in page.get("Subscriptions", [])]
        return self._once("subscriptions", read, [])

    def statements(self) -> list[dict[str, Any]]:
        policy = (self.attributes() or {}).get("Policy")
        statements = (policy_document(policy) or {}).get("Statement", [])
        return statements if isinstance(statements, list) else [statements]

    def forget(self) -> None:
        self._found.clear()


def _note_if_unheard(ctx: Context, resource: str, emails: list[str],
                     subscriptions: list[dict[str, Any]]) -> None:
    """Alarms and events that reach nobody are no alarms: say so (plan and apply)."""
    if any(s.get("SubscriptionArn") != PENDING for s in subscriptions):
        return
    if not emails:
        ctx.note(f"{resource}: alarms and replication events go to this topic, which has no "
                 'subscriber, so nobody is told when replication fails; add addresses to '
                 'MONITORING["alert_emails"] (or subscribe your pager to the topic)')
    else:
        ctx.note(f"{resource}: no subscription is confirmed yet; each address in "
                 'MONITORING["alert_emails"] must click the link in the mail AWS sent it')


class TopicSettings:
    """The topic of one Region and what we manage on it, for the source `buckets` of the
    Region that have rules (the publish statement); `wanted`: whether the topic is (a source
    or an alarm of the Region uses it; when not, it is going away)."""

    def __init__(self, ctx: Context, region: str, buckets: list[str], wanted: bool):
        self.ctx, self.buckets, self.wanted = ctx, buckets, wanted
        self.sns = ctx.clients.get("sns", region)
        self.topic = TopicReader(self.sns, topic_arn(ctx, region))
        self.resource = f"SNS topic {ctx.config.monitoring.sns_topic} ({region})"
        self.emails = sorted(ctx.config.monitoring.alert_emails) if wanted else []
        self.statement = publish_statement(ctx, region, buckets) if buckets else None

    def ours(self, subscription: dict[str, Any]) -> bool:
        return subscription.get("Protocol") == "email" and (
            subscription.get("Endpoint") in self.emails
            or email_tag(subscription.get("Endpoint", "")) in self.topic.tags())

    def read_topic(self) -> Any:
        topic = self.topic
        if topic.attributes() is None:
            return None
        if self.wanted:  # that it exists is enough
            return EXISTS
        foreign_statements = [s for s in topic.statements() if s.get("Sid") != STATEMENT_SID
                              and not str(s.get("Sid", "")).startswith("__default")]
        foreign_subscriptions = [s for s in topic.subscriptions()  # pending ones go with it
                                 if not self.ours(s) and s.get("SubscriptionArn") != PENDING]
        return {"managed": topic.tags().get(MANAGED_TAG) == "true",
                "foreign": bool(foreign_statements or foreign_subscriptions)}

    def keep_topic(self, current: Any) -> Any:
        if self.wanted:
            return EXISTS
        if current is None:
            return None
        return EXISTS if not current["managed"] or current["foreign"] else None

    def write_topic(self, current: Any) -> None:
        if current is None:
            tags = {**self.ctx.config.tags, MANAGED_TAG: "true"}
            self.sns.create_topic(Name=self.ctx.config.monitoring.sns_topic,
                                  Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
        else:
            self.sns.delete_topic(TopicArn=self.topic.arn)
        self.topic.forget()

    def project_statement(self, _: Any) -> Any:
        found = [s for s in self.topic.statements() if s.get("Sid") == STATEMENT_SID]
        return normalize_document(found[0]) if found else None

    def write_statement(self, _: Any) -> None:
        others = [s for s in self.topic.statements() if s.get("Sid") != STATEMENT_SID]
        policy = policy_document((self.topic.attributes() or {}).get("Policy")) or {}
        policy = {"Version": VERSION, **policy,
                  "Statement": others + ([self.statement] if self.statement else [])}
        self.sns.set_topic_attributes(TopicArn=self.topic.arn, AttributeName="Policy",
                                      AttributeValue=json.dumps(policy))
        self.topic.forget()

    def project_emails(self, _: Any) -> Any:
        if self.wanted:
            _note_if_unheard(self.ctx, self.resource, self.emails, self.topic.subscriptions())
        found = sorted({s["Endpoint"] for s in self.topic.subscriptions() if self.ours(s)})
        return found or None

    def write_emails(self, _: Any) -> None:
        sns, arn = self.sns, self.topic.arn
        present = [s for s in self.topic.subscriptions() if self.ours(s)]
        for address in sorted(set(self.emails) - {s["Endpoint"] for s in present}):
            sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=address)
            sns.tag_resource(ResourceArn=arn,
                             Tags=[{"Key": email_tag(address), "Value": "subscribed"}])
        dropped = [s for s in present if s["Endpoint"] not in self.emails]
        for subscription in dropped:
            if subscription["SubscriptionArn"] != PENDING:  # AWS cannot remove those
                sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])
        if dropped:
            sns.untag_resource(ResourceArn=arn,
                               TagKeys=sorted({email_tag(s["Endpoint"]) for s in dropped}))
        self.topic.forget()


def items(ctx: Context, region: str, buckets: list[str], wanted: bool | None = None) -> list[Item]:
    """The topic's items, in the order that works: topic first when it is wanted (source
    `buckets` of the Region have rules, or `wanted` says an alarm of the Region acts on it),
    last when it is going away."""
    wanted = bool(buckets) if wanted is None else wanted
    on = TopicSettings(ctx, region, buckets, wanted)
    topic_item = Item(on.resource, "topic", EXISTS, on.read_topic, on.write_topic,
                      project=lambda c: EXISTS if c else None, desire=on.keep_topic)
    rest = [
        Item(on.resource, f"policy statement {STATEMENT_SID}",
             normalize_document(on.statement) if on.statement else None,
             on.topic.attributes, on.write_statement, project=on.project_statement),
        Item(on.resource, "e-mail subscriptions", on.emails or None, on.topic.subscriptions,
             on.write_emails, project=on.project_emails),
    ]
    return [topic_item, *rest] if wanted else [*rest[::-1], topic_item]
