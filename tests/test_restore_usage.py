"""`restore`'s usage errors: exit 2, one line, and not a single AWS call (the endpoint is a
closed port: any call would be recorded, and would fail with exit 1, not 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.converged import run
from tests.shop import shop_config

CLOSED = "http://127.0.0.1:9"  # discard port: nothing listens there


@pytest.fixture
def config(tmp_path: Path) -> str:
    return str(shop_config(tmp_path))


@pytest.mark.parametrize(("argv", "said"), [
    (["--to", "2026-12-06T10:00:00", "--bucket", "shopco-data-use1"], "no time zone"),
    (["--to", "yesterday", "--bucket", "shopco-data-use1"], "not an ISO 8601 time"),
    (["--to", "2999-01-01T00:00:00Z", "--bucket", "shopco-data-use1"], "in the future"),
    (["--to", "2026-01-01T00:00:00Z", "--rule", "nope"], "not a rule of this script"),
    (["--to", "2026-01-01T00:00:00Z", "--rule", "customers-backup"], "not a rule of this"),
    (["--to", "2026-01-01T00:00:00Z", "--bucket", "nope"], "not a bucket of the config"),
    (["--to", "2026-01-01T00:00:00Z", "--prefix", "orders/"], "--prefix needs --bucket"),
    (["--to", "2026-01-01T00:00:00Z"], "needs --rule ID or --bucket NAME"),
    (["--to", "2026-01-01T00:00:00Z", "--bucket", "shopco-data-use1", "--from", "replica"],
     "--from replica needs --rule"),
    (["--to", "2026-01-01T00:00:00Z", "--rule", "catalog-usw2", "--bucket",
      "shopco-data-use1"], "exclusive"),
])
def test_usage_errors_exit_2_before_any_call(config, argv, said) -> None:
    result = run(CLOSED, "crr", "restore", *argv, "--config", config)

    assert result.status == 2, result.stderr
    assert said in result.stderr and result.stderr.count("\n") == 1
    assert result.calls == []


def test_a_time_with_an_offset_is_taken_in_utc() -> None:
    from s3replication.commands.restore.scope_args import parse_time

    assert parse_time("2026-12-06T11:00:00+01:00").isoformat() == "2026-12-06T10:00:00+00:00"
