"""Counts read as words (issue 23): "1 change", "1 object", "The rule replicated", never "1
changes", "1 objects", "All 1 rules"; and verify names the target a canary was judged
against: RTC's own is 15 minutes
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html), the
config's latency threshold when it is lower is said as a threshold, not as RTC's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from s3replication.engine.items import Change
from s3replication.errors import ExitStatus
from s3replication.output import render
from s3replication.output.results import (
    AuditResult,
    Canary,
    ChangesResult,
    CopyBackfillResult,
    RuleAuditReport,
    RuleCopy,
    VerifyResult,
)

OUTPUT = Path(__file__).resolve().parent.parent / "s3replication" / "output"
# a number put straight before a plural noun in an f-string: "{count} changes"
NUMBER_THEN_PLURAL = re.compile(
    r"\{[^{}]+\} (changes|objects|rules|keys|versions|jobs|files|copies|buckets|accounts|"
    r"errors|failures|problems|checks|markers|tasks|source objects)\b")

ONE = Change("bucket b (us-east-1)", "versioning", None, "Enabled")
CHANGES = [("plan", False, "1 change would be made"), ("apply", False, "Applied 1 change:"),
           ("destroy", True, "destroy would make 1 change "), ("destroy", False,
                                                                "Destroyed (1 change):")]


@pytest.mark.parametrize(("command", "dry_run", "said"), CHANGES)
def test_one_change(command: str, dry_run: bool, said: str) -> None:
    result = ChangesResult("cr_replication", command, ExitStatus.OK, [ONE], [], dry_run=dry_run)
    assert said in render.outcome(result).text


def canary(**fields: object) -> Canary:
    return Canary(**{"rule": "r", "source": "a", "destination": "b", "key": "k", "rtc": True,
                     "rtc_target_seconds": 900, "replicated": True, "latency_seconds": 2.0,
                     "rtc_met": True, "ok": True, **fields})  # type: ignore[arg-type]


def test_one_rule_verified_and_rtc_target_in_minutes() -> None:
    text = render.outcome(VerifyResult("cr_replication", ExitStatus.OK, 60, [canary()])).text
    assert "The rule replicated in time." in text and "All 1 rules" not in text
    assert "(RTC target 15 min met)" in text


def test_a_lower_threshold_is_not_called_rtc_target() -> None:
    late = canary(latency_target_seconds=60, latency_seconds=70.0, rtc_met=False, ok=False)
    text = render.outcome(VerifyResult("cr_replication", ExitStatus.ATTENTION, 120,
                                       [late])).text
    assert "(latency threshold 60 s MISSED; RTC's own target 15 min)" in text
    assert "1 of 1 rule did not replicate in time." in text


def test_one_rule_audited_one_needs_attention() -> None:
    counts = {"checked": 3, "missing": 1, "mismatched": 0, "failed": 0, "pending": 0,
              "archived": 0, "needs_key": 1, "too_new": 0}
    report = RuleAuditReport("r", "a", "b", "", {}, None, counts, [], 1, True)
    text = render.outcome(AuditResult("cr_replication", ExitStatus.ATTENTION, [report])).text
    assert "Audit of 1 rule (cr_replication): 1 needs attention." in text
    assert "1 needs the customer key" in text


def test_one_object_to_copy() -> None:
    rule = RuleCopy("r", "a", "b", to_copy=1, skipped=1)
    text = render.outcome(CopyBackfillResult("cr_replication", ExitStatus.ATTENTION, True,
                                             [rule])).text
    assert "backfill would copy 1 object in place" in text
    assert "Skipped 1 object that" in text and "r: a -> b: 1 object" in text


def test_no_output_module_puts_a_number_before_a_plural_noun() -> None:
    found = [f"{path.name}: {match.group(0)}" for path in sorted(OUTPUT.glob("*.py"))
             for match in NUMBER_THEN_PLURAL.finditer(path.read_text())]
    assert found == []
