"""MONITORING: the SNS topic, alert e-mail addresses, the latency threshold, the dashboard."""

from __future__ import annotations

import math
import re

from s3replication.config.messages import show, unknown_keys
from s3replication.config.model import Monitoring

MONITORING_KEYS = ("sns_topic", "alert_emails", "latency_threshold_seconds", "dashboard")

_SNS_TOPIC = re.compile(r"[A-Za-z0-9_-]{1,256}")
_DASHBOARD = re.compile(r"[A-Za-z0-9_-]{1,255}")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL = re.compile(rf"[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_LABEL}(?:\.{_LABEL})+")


def monitoring(value: object, problems: list[str]) -> Monitoring:
    if not isinstance(value, dict):
        problems.append(f"MONITORING: must be a dict, not {show(value)}")
        return Monitoring()
    unknown_keys("MONITORING", value, MONITORING_KEYS, problems)
    topic = value.get("sns_topic", Monitoring.sns_topic)
    if not (isinstance(topic, str) and _SNS_TOPIC.fullmatch(topic)):
        problems.append(f'MONITORING["sns_topic"]: {show(topic)} is not an SNS topic name '
                        "(1 to 256 letters, digits, _ and -)")
    emails = _emails(value.get("alert_emails", ()), problems)
    threshold = value.get("latency_threshold_seconds", Monitoring.latency_threshold_seconds)
    if (isinstance(threshold, bool) or not isinstance(threshold, (int, float))
            or not 0 <= threshold < math.inf):
        problems.append('MONITORING["latency_threshold_seconds"]: must be a number of '
                        f"seconds, 0 or more, not {show(threshold)}")
    dashboard = value.get("dashboard")
    if dashboard is not None and not (isinstance(dashboard, str)
                                      and _DASHBOARD.fullmatch(dashboard)):
        problems.append(f'MONITORING["dashboard"]: {show(dashboard)} is neither None nor a '
                        "dashboard name (1 to 255 letters, digits, _ and -)")
    return Monitoring(topic, emails, threshold, dashboard)


def _emails(value: object, problems: list[str]) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)):
        problems.append(f'MONITORING["alert_emails"]: must be a list of e-mail addresses, '
                        f"not {show(value)}")
        return ()
    for index, email in enumerate(value):
        if not (isinstance(email, str) and _EMAIL.fullmatch(email)):
            problems.append(f'MONITORING["alert_emails"][{index}]: {show(email)} is not '
                            "an e-mail address")
    return tuple(value)
