"""sandbox.start_ministack's keyword options: IAM enforcement and HTTPS only when asked for;
the persistent sandbox always asks for both, and its clients neither check its self-signed
certificate nor warn about it."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from urllib3.exceptions import InsecureRequestWarning

from s3replication import sandbox
from s3replication.sandbox import state


def test_default_server_enforces_nothing_and_speaks_http(tmp_path: Path) -> None:
    env = sandbox.server_env(4566, tmp_path, persist=False)
    assert "AUTH" not in env and "USE_SSL" not in env
    assert sandbox.endpoint(4566) == "http://127.0.0.1:4566"


def test_auth_and_ssl_options(tmp_path: Path) -> None:
    env = sandbox.server_env(4566, tmp_path, persist=False, auth=True, ssl=True)
    assert env["AUTH"] == "true" and env["USE_SSL"] == "1"
    assert env["TMPDIR"] == str(tmp_path)  # its self-signed certificate stays in its workdir
    assert sandbox.endpoint(4566, ssl=True) == "https://127.0.0.1:4566"


class FakeServer:
    pid = 4242


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """start_ministack replaced: each call's keyword arguments, and a server at port 4567."""
    calls: list[dict[str, Any]] = []

    def start(workdir: Path, **options: Any) -> tuple[FakeServer, str]:
        calls.append(options)
        return FakeServer(), sandbox.endpoint(4567, ssl=options.get("ssl", False))

    monkeypatch.setattr(state, "start_ministack", start)
    monkeypatch.setattr(state, "_detached", [])
    return calls


def test_the_sandbox_starts_with_iam_enforced_over_https(
        tmp_path: Path, started: list[dict[str, Any]]) -> None:
    url = state.ensure_running(tmp_path)

    assert started == [{"persist": True, "detach": True, "auth": True, "ssl": True}]
    assert url == "https://127.0.0.1:4567"
    assert json.loads((tmp_path / "server.json").read_text()) == {
        "port": 4567, "pid": 4242, "https": True}


def test_status_and_reuse_speak_https(tmp_path: Path, started: list[dict[str, Any]],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "server.json").write_text('{"port": 4567, "pid": 4242, "https": true}')
    asked: list[str] = []
    monkeypatch.setattr(state, "is_ministack", lambda pid: True)
    monkeypatch.setattr(state, "is_healthy", lambda url: asked.append(url) or True)

    assert state.status(tmp_path) == {"endpoint": "https://127.0.0.1:4567", "port": 4567,
                                      "pid": 4242, "state_dir": str(tmp_path)}
    assert state.ensure_running(tmp_path) == "https://127.0.0.1:4567"
    assert asked == ["https://127.0.0.1:4567"] * 2 and started == []


def test_an_old_http_server_is_stopped_and_replaced(
        tmp_path: Path, started: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "server.json").write_text('{"port": 4000, "pid": 31337}')  # no "https"
    stopped: list[int] = []
    monkeypatch.setattr(state, "is_ministack", lambda pid: True)
    monkeypatch.setattr(state, "is_healthy", lambda url: pytest.fail(f"asked {url}"))
    monkeypatch.setattr(state, "terminate", lambda pid: stopped.append(pid) or True)

    assert state.ensure_running(tmp_path) == "https://127.0.0.1:4567"
    assert stopped == [31337]
    assert started[0]["auth"] is True and started[0]["ssl"] is True


def test_the_tls_warning_is_silenced_for_the_local_server_only() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sandbox.quiet_tls_warning()
        for host in ("127.0.0.1", "s3.amazonaws.com"):
            warnings.warn(InsecureRequestWarning(
                f"Unverified HTTPS request is being made to host '{host}'. Adding "
                "certificate verification is strongly advised."), stacklevel=1)

    assert [str(w.message).split(". ")[0] for w in caught] == [
        "Unverified HTTPS request is being made to host 's3.amazonaws.com'"]


def test_the_auth_server_answers_over_https_and_denies_unknown_callers(
        ministack_auth_endpoint: str) -> None:
    import boto3
    from botocore.exceptions import ClientError

    from s3replication.aws.clients import Clients

    assert ministack_auth_endpoint.startswith("https://")
    assert sandbox.is_healthy(ministack_auth_endpoint)
    stranger = Clients(endpoint_url=ministack_auth_endpoint, verify=False, session=boto3.Session(
        aws_access_key_id="AKIAUNKNOWNCALLER000", aws_secret_access_key="x",
        region_name="us-east-1"))
    with pytest.warns(Warning), pytest.raises(ClientError):
        stranger.get("s3", "us-east-1").list_buckets()


def test_the_sandbox_clients_call_the_auth_server_without_a_warning(
        ministack_auth_endpoint: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clients = sandbox.sandbox_clients(ministack_auth_endpoint)
        s3, sts = clients.get("s3", "us-east-1"), clients.get("sts", "us-east-1")
        s3.list_buckets()
        account = clients.account_id()
    s3.close()  # over HTTPS an open connection holds up the server's shutdown
    sts.close()

    assert account == "000000000000"
    assert not [w for w in caught if issubclass(w.category, InsecureRequestWarning)]
