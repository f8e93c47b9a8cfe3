"""Monitoring: SNS topics, CloudWatch alarms, bucket notifications, dashboard, metrics."""
