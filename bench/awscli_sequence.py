"""The AWS CLI side as data: one CRR pair, 29 ``aws`` invocations, in order.

Each row is one CLI call, or two for rows made by ``each_side``: first for the source side,
then for the replica side.  An argument is a string or a JSON document (a dict or list,
passed as compact JSON); ``{name}`` in any string is filled from the run's values
(``awscli_peer.sequence_values``) and from what earlier calls saved.  On an ``each_side``
row, ``{bucket}``, ``{region}``, ``{key}``, ... are that side's ``src_*`` / ``dst_*`` value.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.common import REPLICATION_EVENTS

Arg = str | dict | list


@dataclass(frozen=True)
class Call:
    region: str
    argv: tuple[Arg, ...]
    each_side: bool = False
    save: tuple[str, ...] = ()  # (name, key, key, ...): a value of the reply to keep


def each_side(*argv: Arg, save: tuple[str, ...] = ()) -> Call:
    return Call("{region}", argv, True, save)


def once(region: str, *argv: Arg, save: tuple[str, ...] = ()) -> Call:
    return Call(region, argv, False, save)


SRC, DST = "{src_region}", "{dst_region}"
SRC_ARN, DST_ARN = "arn:aws:s3:::{src_bucket}", "arn:aws:s3:::{dst_bucket}"
TAGS = [{"Key": "Project", "Value": "{prefix}"}, {"Key": "ManagedBy", "Value": "aws-cli"}]
KMS_TAGS = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in TAGS]
ENCRYPTION = {"Rules": [{
    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "{key}"},
    "BucketKeyEnabled": True,
}]}
PUBLIC_ACCESS_BLOCK = {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                       "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
TLS_ONLY_POLICY = {"Version": "2012-10-17", "Statement": [{
    "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
    "Resource": ["arn:aws:s3:::{bucket}", "arn:aws:s3:::{bucket}/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}]}
TRUST_S3 = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole",
}]}


def _kms_statement(sid: str, action: str, key: str, side: str, arn: str) -> dict:
    return {"Sid": sid, "Effect": "Allow", "Action": action, "Resource": key,
            "Condition": {"StringLike": {
                "kms:ViaService": f"s3.{{{side}_region}}.amazonaws.com",
                "kms:EncryptionContext:aws:s3:arn": arn + "/*"}}}


REPLICATION_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "SourceBucket", "Effect": "Allow",
     "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"], "Resource": SRC_ARN},
    {"Sid": "SourceObjects", "Effect": "Allow",
     "Action": ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl",
                "s3:GetObjectVersionTagging"], "Resource": SRC_ARN + "/*"},
    {"Sid": "DestinationObjects", "Effect": "Allow",
     "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags",
                "s3:ObjectOwnerOverrideToBucketOwner"], "Resource": DST_ARN + "/*"},
    _kms_statement("DecryptSource", "kms:Decrypt", "{src_key}", "src", SRC_ARN),
    _kms_statement("EncryptReplica", "kms:Encrypt", "{dst_key}", "dst", DST_ARN),
]}
REPLICATION = {"Role": "{role_arn}", "Rules": [{
    "ID": "{rule_id}", "Status": "Enabled", "Priority": 1, "Filter": {"Prefix": "{rule_prefix}"},
    "DeleteMarkerReplication": {"Status": "Enabled"},
    "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
    "Destination": {
        "Bucket": DST_ARN, "StorageClass": "STANDARD",
        "EncryptionConfiguration": {"ReplicaKmsKeyID": "{dst_key}"},
        "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
        "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}},
    },
}]}
TOPIC_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "AllowS3Publish", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
     "Action": "sns:Publish", "Resource": "{topic}",
     "Condition": {"StringEquals": {"aws:SourceAccount": "{account}"}}},
    {"Sid": "AllowCloudWatchPublish", "Effect": "Allow",
     "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sns:Publish",
     "Resource": "{topic}"},
]}
DIMENSIONS = [{"Name": "SourceBucket", "Value": "{src_bucket}"},
              {"Name": "DestinationBucket", "Value": "{dst_bucket}"},
              {"Name": "RuleId", "Value": "{rule_id}"}]
NOTIFICATION = {"TopicConfigurations": [
    {"Id": "replication-events", "TopicArn": "{topic}", "Events": list(REPLICATION_EVENTS)}]}


def _widget(title: str, stat: str, metric: str) -> dict:
    return {"type": "metric", "width": 12, "height": 6, "properties": {
        "region": SRC, "period": 300, "title": "{src_bucket} -> {dst_bucket} " + title,
        "stat": stat, "metrics": [["AWS/S3", metric, "SourceBucket", "{src_bucket}",
                                   "DestinationBucket", "{dst_bucket}", "RuleId", "{rule_id}"]]}}


DASHBOARD = {"widgets": [_widget("latency", "Maximum", "ReplicationLatency"),
                         _widget("failed operations", "Sum", "OperationsFailedReplication")]}


def _alarm(name: str, metric: str, stat: str, operator: str, threshold: str) -> Call:
    return once(SRC, "cloudwatch", "put-metric-alarm", "--alarm-name",
                "{prefix}-{rule_id}-" + name, "--namespace", "AWS/S3", "--metric-name", metric,
                "--statistic", stat, "--comparison-operator", operator, "--threshold", threshold,
                "--period", "300", "--evaluation-periods", "1",
                "--treat-missing-data", "notBreaching", "--alarm-actions", "{topic}",
                "--dimensions", DIMENSIONS)


SEQUENCE: tuple[Call, ...] = (
    each_side("kms", "create-key", "--description", "{prefix} replication {key_role} key",
              "--tags", KMS_TAGS, save=("key", "KeyMetadata", "Arn")),
    each_side("kms", "create-alias", "--alias-name", "alias/{prefix}-crr",
              "--target-key-id", "{key}"),
    each_side("kms", "enable-key-rotation", "--key-id", "{key}"),
    once(SRC, "s3api", "create-bucket", "--bucket", "{src_bucket}"),
    once(DST, "s3api", "create-bucket", "--bucket", "{dst_bucket}",
         "--create-bucket-configuration", {"LocationConstraint": DST}),
    each_side("s3api", "put-bucket-versioning", "--bucket", "{bucket}",
              "--versioning-configuration", {"Status": "Enabled"}),
    each_side("s3api", "put-bucket-encryption", "--bucket", "{bucket}",
              "--server-side-encryption-configuration", ENCRYPTION),
    each_side("s3api", "put-public-access-block", "--bucket", "{bucket}",
              "--public-access-block-configuration", PUBLIC_ACCESS_BLOCK),
    each_side("s3api", "put-bucket-ownership-controls", "--bucket", "{bucket}",
              "--ownership-controls", {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}),
    each_side("s3api", "put-bucket-policy", "--bucket", "{bucket}", "--policy", TLS_ONLY_POLICY),
    each_side("s3api", "put-bucket-tagging", "--bucket", "{bucket}",
              "--tagging", {"TagSet": [*TAGS, {"Key": "Role", "Value": "{tag_role}"}]}),
    once(SRC, "iam", "create-role", "--role-name", "{role_name}",
         "--assume-role-policy-document", TRUST_S3, "--tags", TAGS,
         save=("role_arn", "Role", "Arn")),
    once(SRC, "iam", "put-role-policy", "--role-name", "{role_name}",
         "--policy-name", "replication", "--policy-document", REPLICATION_POLICY),
    once(SRC, "s3api", "put-bucket-replication", "--bucket", "{src_bucket}",
         "--replication-configuration", REPLICATION),
    once(SRC, "sns", "create-topic", "--name", "{prefix}-replication-events", "--tags", TAGS,
         save=("topic", "TopicArn")),
    once(SRC, "sns", "set-topic-attributes", "--topic-arn", "{topic}",
         "--attribute-name", "Policy", "--attribute-value", TOPIC_POLICY),
    _alarm("failed", "OperationsFailedReplication", "Sum", "GreaterThanThreshold", "0"),
    _alarm("latency", "ReplicationLatency", "Maximum", "GreaterThanOrEqualToThreshold", "900"),
    once(SRC, "s3api", "put-bucket-notification-configuration", "--bucket", "{src_bucket}",
         "--notification-configuration", NOTIFICATION),
    once(SRC, "cloudwatch", "put-dashboard", "--dashboard-name", "{prefix}-replication",
         "--dashboard-body", DASHBOARD),
)
