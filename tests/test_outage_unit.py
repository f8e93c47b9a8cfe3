"""Fail-fast mode (aws/clients.py) against the outage stand-in, with nothing behind it, the
optional `"alias"` of ACCESS_POINTS, and the progress of long waits; no server needed.

AWS behaviour relied on:
- a Regional endpoint that is down accepts no connection or gives no answer; the client's
  connect and read timeouts end the wait, and the SDK retries such errors
  (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html);
- STS clients call the Regional endpoint of their Region by default ("regional")
  (https://docs.aws.amazon.com/sdkref/latest/guide/feature-sts-regionalized-endpoints.html);
- an access point's alias looks like `mfzwi23gnjvgw.mrap`
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointRequests.html).
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from s3replication.aws import region_watch
from s3replication.aws.clients import Clients
from s3replication.config import load_config
from s3replication.errors import ConfigError, RegionUnreachable
from s3replication.output.progress import Waits, waiting
from tests.faultproxy import FaultProxy
from tests.test_access_points_unit import write


def fast_clients(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> Clients:
    monkeypatch.setattr(region_watch, "FAIL_FAST", Config(
        retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=1,
        read_timeout=1))
    monkeypatch.setattr(region_watch, "FAIL_FAST_READ", 1)
    session = boto3.Session(aws_access_key_id="test", aws_secret_access_key="test",
                            region_name="us-east-1")
    made = Clients(endpoint_url=endpoint, session=session)
    made.fail_fast()
    return made


def test_a_region_that_does_not_answer_gets_one_request_then_none(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with FaultProxy("http://127.0.0.1:9", down=("us-east-1",), lifetime=60) as proxy:
        made = fast_clients(monkeypatch, proxy.url)
        started = time.monotonic()
        with pytest.raises(RegionUnreachable, match=r"us-east-1 unreachable \(no answer"):
            made.get("s3", "us-east-1").list_buckets()
        assert time.monotonic() - started < 5  # one read timeout, no retry sent
        assert proxy.held["us-east-1"] == 1
        started = time.monotonic()
        with pytest.raises(RegionUnreachable):  # any service, at once
            made.get("sts", "us-east-1").get_caller_identity()
        assert time.monotonic() - started < 0.5
        assert proxy.held["us-east-1"] == 1
        assert made.is_down("us-east-1") and not made.is_down("us-west-2")


def test_sts_calls_go_to_the_regional_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_STS_REGIONAL_ENDPOINTS", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x")
    sts = Clients(session=session).single_attempt("sts", "us-west-2")
    assert sts.meta.endpoint_url == "https://sts.us-west-2.amazonaws.com"


def test_an_access_point_alias_in_the_config_is_checked(tmp_path: Path) -> None:
    both = ["a-use1", "b-usw2"]
    good = load_config(write(tmp_path, {"shop": {"buckets": both, "alias": "mfzwi23gnjvgw.mrap"}}))
    assert good.access_points["shop"].alias == "mfzwi23gnjvgw.mrap"
    assert load_config(write(tmp_path, {"shop": {"buckets": both}})).access_points[
        "shop"].alias is None
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, {"shop": {"buckets": both, "alias": "arn:aws:s3::1:x"}}))
    assert 'ACCESS_POINTS["shop"]["alias"]' in str(error.value)
    assert "is not a Multi-Region Access Point alias" in str(error.value)


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_long_wait_shows_progress_on_a_pipe_and_on_a_terminal() -> None:
    pipe = io.StringIO()
    waits = Waits(pipe, after=0.1, every=0.2, tick=0.05)
    with waiting("canary a -> b: its replica", 120, waits):
        time.sleep(0.5)
    lines = pipe.getvalue().splitlines()
    assert lines and all(line.startswith("waiting: canary a -> b: its replica: ") for line in lines)
    assert "of up to 120 s" in lines[0]
    assert 1 <= len(lines) <= 3  # a line every `every` seconds, not every tick

    terminal = Tty()
    waits = Waits(terminal, after=0.1, every=10, tick=0.05)
    with waiting("routes of x.mrap: taking effect", 300, waits):
        time.sleep(0.3)
    shown = terminal.getvalue()
    assert "\rroutes of x.mrap: taking effect: 0 s of up to 300 s" in shown
    assert shown.endswith("\r\033[K")  # the live line is cleared when the wait ends

    shared = io.StringIO()  # several threads waiting for one Region's probe: one entry
    waits = Waits(shared, after=0.05, every=10, tick=0.05)
    with waiting("us-east-1: its first request, still unanswered", 15, waits), \
            waiting("us-east-1: its first request, still unanswered", 15, waits):
        time.sleep(0.2)
    assert shared.getvalue().count("us-east-1") == 1, shared.getvalue()

    quiet = io.StringIO()
    with waiting("short", 10, Waits(quiet, after=5, tick=0.05)):
        time.sleep(0.1)
    assert quiet.getvalue() == ""  # a short wait shows nothing
