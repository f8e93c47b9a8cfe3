"""sandbox.start_ministack's keyword options: IAM enforcement and HTTPS only when asked for."""

from __future__ import annotations

from pathlib import Path

from s3replication import sandbox


def test_default_server_enforces_nothing_and_speaks_http(tmp_path: Path) -> None:
    env = sandbox.server_env(4566, tmp_path, persist=False)
    assert "AUTH" not in env and "USE_SSL" not in env
    assert sandbox.endpoint(4566) == "http://127.0.0.1:4566"


def test_auth_and_ssl_options(tmp_path: Path) -> None:
    env = sandbox.server_env(4566, tmp_path, persist=False, auth=True, ssl=True)
    assert env["AUTH"] == "true" and env["USE_SSL"] == "1"
    assert env["TMPDIR"] == str(tmp_path)  # its self-signed certificate stays in its workdir
    assert sandbox.endpoint(4566, ssl=True) == "https://127.0.0.1:4566"


def test_the_auth_server_answers_over_https_and_denies_unknown_callers(
        ministack_auth_endpoint: str) -> None:
    import boto3
    import pytest
    from botocore.exceptions import ClientError

    from s3replication.aws.clients import Clients

    assert ministack_auth_endpoint.startswith("https://")
    assert sandbox.is_healthy(ministack_auth_endpoint)
    stranger = Clients(endpoint_url=ministack_auth_endpoint, verify=False, session=boto3.Session(
        aws_access_key_id="AKIAUNKNOWNCALLER000", aws_secret_access_key="x",
        region_name="us-east-1"))
    with pytest.warns(Warning), pytest.raises(ClientError):
        stranger.get("s3", "us-east-1").list_buckets()
