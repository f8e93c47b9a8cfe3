"""The pure parts: rule shapes, priorities, merging, ownership records, policy normalizing."""

from __future__ import annotations

import pytest

from s3replication.config import CRR, RuleSpec
from s3replication.resources import ownership
from s3replication.resources.iam_policy import normalize_document
from s3replication.resources.replication_rules import (
    assign_priorities,
    merge_rules,
    normalize_rule,
    rule_filter,
    s3_rule,
)


def rule(**kw) -> RuleSpec:
    base = dict(id="r1", kind=CRR, source="src", destination="dst")
    base.update(kw)
    return RuleSpec(**base)


@pytest.mark.parametrize("spec, expected", [
    (dict(), {"Prefix": ""}),
    (dict(prefix="a/"), {"Prefix": "a/"}),
    (dict(tags=(("k", "v"),), delete_markers=False), {"Tag": {"Key": "k", "Value": "v"}}),
    (dict(prefix="a/", tags=(("k", "v"),), delete_markers=False),
     {"And": {"Prefix": "a/", "Tags": [{"Key": "k", "Value": "v"}]}}),
    (dict(tags=(("a", "1"), ("b", "2")), delete_markers=False),
     {"And": {"Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}}),
], ids=["all", "prefix", "one-tag", "prefix-and-tag", "two-tags"])
def test_filter_shapes(spec, expected):
    assert rule_filter(rule(**spec)) == expected


def test_rtc_rule_has_replication_time_and_metrics_inside_destination():
    s3 = s3_rule(rule(prefix="c/"), 3, "us-west-2", True, "arn:aws:kms:us-west-2:1:key/k")
    assert s3 == {
        "ID": "r1", "Priority": 3, "Status": "Enabled", "Filter": {"Prefix": "c/"},
        "DeleteMarkerReplication": {"Status": "Enabled"},
        "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
        "Destination": {
            "Bucket": "arn:aws:s3:::dst", "StorageClass": "STANDARD",
            "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
            "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}},
            "EncryptionConfiguration": {"ReplicaKmsKeyID": "arn:aws:kms:us-west-2:1:key/k"},
        },
    }
    assert "ReplicationTime" not in s3 and "ExistingObjectReplication" not in s3


def test_without_rtc_metrics_have_no_event_threshold():
    s3 = s3_rule(rule(rtc=False), 0, "us-east-1", False, None)
    assert s3["Destination"]["Metrics"] == {"Status": "Enabled"}
    assert "ReplicationTime" not in s3["Destination"]
    assert "SourceSelectionCriteria" not in s3


def test_replica_modifications_on_sse_s3_source_stand_alone():
    # SseKmsEncryptedObjects, even Disabled, would need a ReplicaKmsKeyID (InvalidRequest)
    s3 = s3_rule(rule(replica_modifications=True), 0, "us-east-1", False, None)
    assert s3["SourceSelectionCriteria"] == {"ReplicaModifications": {"Status": "Enabled"}}
    assert "EncryptionConfiguration" not in s3["Destination"]


def test_priorities_kept_configured_or_lowest_free():
    existing = [{"ID": "theirs", "Priority": 0}, {"ID": "b", "Priority": 7}]
    chosen = assign_priorities([rule(id="a"), rule(id="b"), rule(id="c", priority=1)],
                               existing, reserved=[2])
    assert chosen == {"c": 1, "b": 7, "a": 3}


def test_merge_keeps_foreign_rules_in_place_and_drops_only_named():
    existing = [{"ID": "x", "Priority": 1}, {"ID": "mine", "Priority": 2}, {"ID": "old"}]
    merged = merge_rules(existing, [{"ID": "mine", "Priority": 5}, {"ID": "new"}], ["old"])
    assert merged == [{"ID": "x", "Priority": 1}, {"ID": "mine", "Priority": 5}, {"ID": "new"}]


def test_normalize_treats_empty_filter_as_empty_prefix_and_sorts_tags():
    a = {"ID": "r", "Filter": {}}
    b = {"ID": "r", "Filter": {"Prefix": ""}}
    assert normalize_rule(a) == normalize_rule(b)
    tags = [{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "1"}]
    c = normalize_rule({"Filter": {"And": {"Prefix": "", "Tags": tags}}})
    assert c["Filter"] == {"And": {"Tags": sorted(tags, key=lambda t: t["Key"])}}


def test_ownership_records_round_trip_and_split_over_tags():
    ids = [f"rule-{n}-" + "x" * 200 for n in range(60)]
    tags = ownership.ownership_tags("crr", {ownership.rule_hash(i) for i in ids})
    assert len(tags) > 1 and all(len(v) <= 256 for v in tags.values())
    merged = {"project": "shop", **tags}
    assert all(ownership.owns("crr", merged, i) for i in ids)
    assert not ownership.owns("srr", merged, ids[0])
    assert ownership.with_owned("crr", merged, []) == {"project": "shop"}


def test_policy_documents_equal_to_iam_compare_equal():
    a = {"Statement": [{"Action": "s3:GetObject", "Resource": ["b", "a"]}]}
    b = {"Statement": {"Action": ["s3:GetObject"], "Resource": ["a", "b"]}}
    assert normalize_document(a) == normalize_document(b)
