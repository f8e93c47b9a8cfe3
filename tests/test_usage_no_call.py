"""Exit 2 means no AWS call, always (issue 23): each mistake in the command line or the config
is found before the first request, by the command's `check` (cli_parser.COMMANDS), so it is
said as a usage error even when AWS cannot be reached. Each case runs the real script in a
process of its own against a listener that counts connections (tests/counting_endpoint.py):
exit 2, one line naming the flag or setting, and not one connection. The last case shows the
listener does count: a valid command that reaches it.

Batch Operations job ids are 5 to 36 letters, digits, hyphens and underscores (DescribeJob's
`id`: https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_DescribeJob.html).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.counting_endpoint import CountingListener, listening, run_process
from tests.shop import shop_config

EXAMPLES = Path(__file__).resolve().parent.parent / "config" / "examples"
listener = pytest.fixture(listening)


@pytest.fixture
def configs(tmp_path: Path) -> dict[str, str]:
    """The shop config (no ACCESS_POINTS, no INVENTORY) and the failover example."""
    for folder in ("shop", "ap"):
        (tmp_path / folder).mkdir()
    shop = shop_config(tmp_path / "shop")
    points = shop_config(tmp_path / "ap", base=(EXAMPLES / "failover.py").read_text())
    return {"shop": str(shop), "ap": str(points)}


CASES = [
    ("ap", ["failover", "storefront", "--to", "shopco-data-use1"], "--to shopco-data-use1"),
    ("ap", ["failover", "nope", "--to", "shopco-web-usw2"], "no access point 'nope'"),
    ("ap", ["failover", "storefront", "--to", "shopco-web-usw2", "--timeout", "-5"],
     "--timeout -5"),
    ("ap", ["failback", "storefront", "--timeout", "0"], "--timeout 0"),
    ("ap", ["readiness", "--timeout", "nan"], "--timeout nan"),
    ("ap", ["readiness", "nope"], "no access point 'nope'"),
    ("shop", ["readiness"], "no ACCESS_POINTS"),
    ("shop", ["audit", "--inventory"], "needs INVENTORY"),
    ("shop", ["audit", "--max-report", "-1"], "--max-report -1"),
    ("shop", ["verify", "--timeout", "-1"], "--timeout -1"),
    ("shop", ["verify", "--timeout", "0"], "--timeout 0"),
    ("shop", ["backfill", "--job", "1234"], "--job '1234'"),
    ("shop", ["backfill", "--job", "../etc/passwd"], "--job '../etc/passwd'"),
    ("shop", ["backfill", "--job", "a" * 37], "is not an S3 Batch Operations job id"),
    ("shop", ["backfill", "--job", "abcdef12-3456", "--yes"], "it takes no --yes"),
    ("shop", ["backfill", "--manifest", "/tmp/missing.csv"], "give the manifest as s3://BUCKET/KEY"),
    ("shop", ["backfill", "--max-report", "-3"], "--max-report -3"),
]


@pytest.mark.parametrize(("config", "argv", "said"), CASES,
                         ids=[" ".join(c[1]) for c in CASES])
def test_usage_errors_exit_2_without_a_connection(configs, listener: CountingListener,
                                                  config, argv, said) -> None:
    done = run_process("crr", *argv, "--config", configs[config], endpoint=listener.url)

    assert (done.status, listener.count) == (2, 0), done.stderr
    assert said in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr


def test_an_unreadable_failover_record_is_said_before_any_call(
        configs, listener: CountingListener) -> None:
    record = Path(configs["ap"]).parent / ".failover-storefront.json"
    record.write_text("{not json")

    done = run_process("crr", "failback", "storefront", "--config", configs["ap"],
                       endpoint=listener.url)

    assert (done.status, listener.count) == (2, 0), done.stderr
    assert "unreadable" in done.stderr


def test_the_listener_counts_a_run_that_calls(configs, listener: CountingListener) -> None:
    """The control: the same setup with valid arguments reaches the endpoint (and fails)."""
    done = run_process("crr", "verify", "--timeout", "5", "--config", configs["shop"],
                       endpoint=listener.url)

    assert done.status == 1 and listener.count > 0, done.stderr
