"""An endpoint that cannot be reached is reported at once, naming it; throttling and server
errors keep botocore's patient retries
(https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from s3replication.aws.clients import Clients

ROOT = Path(__file__).resolve().parent.parent


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends: connections refused


@pytest.mark.parametrize("endpoint", [f"http://127.0.0.1:{closed_port()}",
                                      "http://no-such-host.invalid:4566"],
                         ids=["refused", "unresolvable"])
def test_plan_against_an_unreachable_endpoint_fails_within_5_seconds(endpoint: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x",
               AWS_CONFIG_FILE="/nonexistent", AWS_SHARED_CREDENTIALS_FILE="/nonexistent")
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(ROOT / "cr_replication.py"), "plan"], env=env,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    elapsed = time.monotonic() - started
    assert done.returncode == 1
    assert "cannot reach the endpoint" in done.stderr and endpoint in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1  # one line, no traceback
    assert elapsed < 5, f"took {elapsed:.1f} s"


def test_a_throttled_first_call_is_retried(moto_clients: Clients,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Only a connection failure skips the retries: a throttled GetCallerIdentity is asked
    again with the retrying client."""
    single = moto_clients.single_attempt("sts", "us-east-1")
    answer: Any = {"Error": {"Code": "Throttling", "Message": "Rate exceeded"},
                   "ResponseMetadata": {"HTTPStatusCode": 400}}

    def throttled(**_: Any) -> Any:
        raise ClientError(answer, "GetCallerIdentity")

    monkeypatch.setattr(single, "get_caller_identity", throttled)
    assert moto_clients.account_id("us-east-1") == "123456789012"
