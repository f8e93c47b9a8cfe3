"""S3's replication metrics in CloudWatch, and reading their latest figures.

The metrics exist only per rule, with the dimensions SourceBucket, DestinationBucket and RuleId
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/metrics-dimensions.html, "Amazon S3
replication metrics"); an alarm or widget on BucketName never sees them. They appear about 15
minutes after metrics (or RTC) are turned on for the rule.

Where each one is published (https://docs.aws.amazon.com/AmazonS3/latest/userguide/repl-metrics.html,
the table's "Which Region is this metric published in?" and "Is this metric still published if
replication doesn't occur?"): the latency and the pending bytes and operations in the
destination bucket's Region, and still published when nothing replicates; the failed operations
in the source bucket's Region, and only when something replicates. So a pending figure that is
missing is not an empty backlog, whereas missing failures are none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from ..config.model import RuleSpec

NAMESPACE = "AWS/S3"
LATENCY = "ReplicationLatency"  # seconds the destination is behind, per rule
PENDING_OPERATIONS = "OperationsPendingReplication"
PENDING_BYTES = "BytesPendingReplication"
FAILED_OPERATIONS = "OperationsFailedReplication"
# The statistic AWS documents for each (metrics-dimensions.html, above): failures add up, the
# others are levels.
STATISTIC = {LATENCY: "Maximum", PENDING_OPERATIONS: "Maximum", PENDING_BYTES: "Maximum",
             FAILED_OPERATIONS: "Sum"}
IN_DESTINATION_REGION = frozenset({LATENCY, PENDING_BYTES, PENDING_OPERATIONS})
MAX_QUERIES = 500  # GetMetricData's limit per call
WINDOW_MINUTES = 15


def dimensions(rule: RuleSpec) -> list[dict[str, str]]:
    return [
        {"Name": "SourceBucket", "Value": rule.source},
        {"Name": "DestinationBucket", "Value": rule.destination},
        {"Name": "RuleId", "Value": rule.id},
    ]


def watched_rule(found_dimensions: Iterable[dict[str, str]]) -> tuple[str, str] | None:
    """(source bucket, rule id) of a metric's dimensions, None when they are not a rule's."""
    values = {d.get("Name"): d.get("Value") for d in found_dimensions}
    source, rule_id = values.get("SourceBucket"), values.get("RuleId")
    return (source, rule_id) if source and rule_id else None


def published_in(metric: str, source_region: str, destination_region: str) -> str:
    """The Region whose CloudWatch holds `metric` for a rule between these Regions."""
    return destination_region if metric in IN_DESTINATION_REGION else source_region


def latest_figures(cloudwatch: Any, rules: list[RuleSpec], now: datetime | None = None,
                   names: Iterable[str] = tuple(STATISTIC),
                   metrics_of: Callable[[RuleSpec], Iterable[str]] | None = None,
                   ) -> dict[str, dict[str, float | None]]:
    """Per rule id, each metric of `names` (default: all four; `metrics_of(rule)`, when given,
    chooses per rule, e.g. those published in the client's Region) over the last 15 minutes:
    the latest value of the levels and the sum of the failures; None where CloudWatch has no
    data point. GetMetricData, batched."""
    end = now or datetime.now(UTC)
    start = end - timedelta(minutes=WINDOW_MINUTES)
    every = tuple(names)
    chosen = {rule.id: tuple(metrics_of(rule)) if metrics_of else every for rule in rules}
    queries: list[dict[str, Any]] = []
    wanted: dict[str, tuple[str, str]] = {}  # query id -> (rule id, metric)
    for rule in rules:
        for metric in chosen[rule.id]:
            query_id = f"q{len(queries)}"
            wanted[query_id] = (rule.id, metric)
            queries.append({"Id": query_id, "ReturnData": True, "MetricStat": {
                "Metric": {"Namespace": NAMESPACE, "MetricName": metric,
                           "Dimensions": dimensions(rule)},
                "Period": 60, "Stat": STATISTIC[metric]}})
    figures: dict[str, dict[str, float | None]] = {
        rule.id: dict.fromkeys(chosen[rule.id]) for rule in rules}
    points: dict[str, list[tuple[datetime, float]]] = {query_id: [] for query_id in wanted}
    for first in range(0, len(queries), MAX_QUERIES):
        batch = queries[first:first + MAX_QUERIES]
        for result in _results(cloudwatch, batch, start, end):  # one Id may span pages
            points[result["Id"]] += zip(result.get("Timestamps", []), result.get("Values", []),
                                        strict=True)
    for query_id, (rule_id, metric) in wanted.items():
        figures[rule_id][metric] = _figure(metric, points[query_id])
    return figures


def _results(cloudwatch: Any, queries: list[dict], start: datetime,
             end: datetime) -> Iterable[dict[str, Any]]:
    token: dict[str, str] = {}
    while True:
        page = cloudwatch.get_metric_data(MetricDataQueries=queries, StartTime=start,
                                          EndTime=end, ScanBy="TimestampDescending", **token)
        yield from page.get("MetricDataResults", [])
        if not page.get("NextToken"):
            return
        token = {"NextToken": page["NextToken"]}


def _figure(metric: str, points: list[tuple[datetime, float]]) -> float | None:
    if not points:
        return None
    if STATISTIC[metric] == "Sum":
        return float(sum(value for _, value in points))
    return float(max(points)[1])  # the latest data point
