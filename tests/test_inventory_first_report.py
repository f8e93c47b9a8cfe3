"""`audit --inventory` before S3 delivered the first report: the expected state for up to 48
hours after apply (S3 delivers the first report within 48 hours:
https://docs.aws.amazon.com/AmazonS3/latest/userguide/configure-inventory.html). Exit 3, not
1; the message once, on stderr (stdout's rule line only says "no inventory report yet"); with
`--json` the rule's `no_report` says it on stdout too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.inventory_reports import REPORTS, SOURCE, config_text
from tests.shop import Run, run_script


@pytest.fixture
def audit(moto_clients: Any, tmp_path: Path) -> Any:
    """The crr script on moto, with INVENTORY and its (empty) report buckets."""
    for region, bucket in REPORTS.items():
        where = {} if region == "us-east-1" else {
            "CreateBucketConfiguration": {"LocationConstraint": region}}
        moto_clients.get("s3", region).create_bucket(Bucket=bucket, **where)
    config = tmp_path / "s3_config.py"
    config.write_text(config_text(tmp_path / "log.txt"))

    def run(*argv: str) -> Run:
        return run_script("crr", "audit", "--inventory", *argv, "--config", str(config),
                          clients=lambda: moto_clients)
    return run


def test_no_report_yet_is_exit_3_said_once_on_stderr(audit: Any) -> None:
    result = audit()

    assert result.status == 3, result.stderr
    assert result.stderr.count("48 hours") == 1, result.stderr
    assert result.stderr.startswith("no inventory report of ") and "error" not in result.stderr
    assert "48 hours" not in result.stdout
    assert "no inventory report yet" in result.stdout


def test_json_says_it_on_stdout_too(audit: Any) -> None:
    result = audit("--json")

    assert result.status == 3, result.stderr
    data = json.loads(result.stdout)
    assert data["status"] == 3
    (rule,) = data["rules"]
    assert "48 hours" in rule["no_report"] and rule["error"] is None
    assert result.stderr.count("48 hours") == 1


def test_restore_from_inventory_before_the_first_report_is_exit_3_too(
        audit: Any, moto_clients: Any, tmp_path: Path) -> None:
    """`restore --inventory` finds its report the same way (commands/inventory_report.py)."""
    config = tmp_path / "s3_config.py"
    result = run_script("crr", "restore", "--to", "2026-12-01T00:00:00Z", "--bucket", SOURCE,
                        "--inventory", "--config", str(config), clients=lambda: moto_clients)

    assert result.status == 3, result.stderr
    assert result.stderr.count("48 hours") == 1 and "restore --inventory again" in result.stderr
