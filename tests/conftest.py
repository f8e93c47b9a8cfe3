"""Shared fixtures: a MiniStack server for end-to-end tests, moto for unit tests.

Never use `ministack_endpoint`/`sandbox_clients` and `moto_clients` in one test: moto's
mock intercepts every botocore request of the process while it is active.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import threading
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from s3replication import sandbox
from s3replication.aws.clients import Clients
from s3replication.sandbox import process
from tests import aws_rules
from tests.model_cache import share_parsed_models
from tests.moto_fidelity import keep_blocked_encryption_types

share_parsed_models()  # every run's session parses botocore's models once per process

DUMMY_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    # no profile, endpoint or credentials from the user's ~/.aws files
    "AWS_CONFIG_FILE": "/nonexistent/aws/config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws/credentials",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that talks to MiniStack is an e2e test (`-m "not e2e"` skips them)."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        if {"ministack_endpoint", "ministack_auth_endpoint", "athena_endpoint"} & set(names):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def ministack_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a fresh MiniStack (no persistence) for this test session; fails loudly if it
    cannot start. Not the user's `.sandbox` server."""
    yield from _serve(tmp_path_factory.mktemp("ministack"))


@pytest.fixture(scope="session")
def ministack_auth_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL (https://) of a fresh MiniStack that enforces IAM on every call, bucket policies
    included (AUTH=true), over HTTPS with a self-signed certificate (USE_SSL=1): clients need
    verify=False. The access keys `test` and `000000000000` act as the account root."""
    yield from _serve(tmp_path_factory.mktemp("ministack-auth"), auth=True, ssl=True)


@pytest.fixture(scope="module")
def athena_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a MiniStack for one module with Athena (which runs SQL in DuckDB) and Glue
    besides the services the tool uses (the inventory audit's and restore's e2e tests)."""
    yield from _serve(tmp_path_factory.mktemp("ministack-athena"), services=("athena", "glue"))


def _serve(workdir: Path, services: tuple[str, ...] = (), **options: bool) -> Iterator[str]:
    """A MiniStack (with `services` besides the sandbox's) for the test session: its URL while
    the tests run, stopped afterwards."""
    saved = process.SERVICES
    process.SERVICES = ",".join(dict.fromkeys([*saved.split(","), *services]))
    try:
        proc, url = sandbox.start_ministack(workdir, persist=False, detach=False, **options)
    finally:
        process.SERVICES = saved
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def reset_ministack(ministack_endpoint: str) -> Callable[[], None]:
    """Wipes every resource in the session's MiniStack now, and returns a function that
    wipes it again on demand."""

    def wipe() -> None:
        req = urllib.request.Request(ministack_endpoint + "/_ministack/reset", method="POST")
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert resp.status == 200, f"MiniStack reset failed: HTTP {resp.status}"

    wipe()
    return wipe


@pytest.fixture
def sandbox_clients(ministack_endpoint: str, reset_ministack: Callable[[], None]) -> Clients:
    """A client factory for the session's MiniStack, emptied for this test, with dummy
    credentials."""
    return Clients(endpoint_url=ministack_endpoint, session=sandbox.sandbox_session())


@pytest.fixture
def unique_name() -> Callable[[str], str]:
    """unique_name("shop") -> "shop-3f9a1c2b-1": valid, unique S3 bucket/IAM/KMS names."""
    run = uuid.uuid4().hex[:8]
    counter = itertools.count(1)
    return lambda prefix: f"{prefix}-{run}-{next(counter)}"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials and no endpoint override, so nothing can reach a real account."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    for name, value in DUMMY_AWS_ENV.items():
        monkeypatch.setenv(name, value)


MOTO_LOCK = threading.RLock()


@pytest.fixture
def moto_clients(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Clients]:
    """A client factory whose every call goes to moto's in-process mock.

    moto answers requests one at a time here: its in-process backend is not thread-safe (a
    ListObjectVersions that runs while another thread deletes a version in the same bucket
    fails inside moto with "'NoneType' object is not iterable"), whereas AWS serves each
    request atomically. The tool's threads still send their requests at once."""
    from moto import mock_aws
    from moto.core.botocore_stubber import BotocoreStubber

    unlocked = BotocoreStubber.process_request

    def one_at_a_time(self: BotocoreStubber, request: Any) -> Any:
        with MOTO_LOCK:
            return unlocked(self, request)

    monkeypatch.setattr(BotocoreStubber, "process_request", one_at_a_time)
    keep_blocked_encryption_types(monkeypatch)
    aws_rules.enforce(monkeypatch)  # AWS's rules moto does not enforce (tests/aws_rules.py)
    with mock_aws():
        yield Clients()
