"""The client factory: caching, configuration, endpoints and call counting (moto)."""

from __future__ import annotations

import threading

import boto3
import pytest

from s3replication.aws.clients import Clients


def test_one_cached_client_per_service_and_region(moto_clients):
    s3 = moto_clients.get("s3", "us-east-1")

    assert moto_clients.get("s3", "us-east-1") is s3
    assert moto_clients.get("s3", "us-west-2") is not s3
    assert moto_clients.get("s3", "us-west-2").meta.region_name == "us-west-2"
    assert moto_clients.get("kms", "us-east-1") is not s3


def test_threads_share_one_client(aws_env):
    clients = Clients()
    barrier = threading.Barrier(8)
    made = []

    def grab():
        barrier.wait()
        made.append(clients.get("kms", "eu-west-1"))

    threads = [threading.Thread(target=grab) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(made) == 8 and all(c is made[0] for c in made)


def test_retry_timeout_and_pool_settings(aws_env):
    config = Clients().get("s3", "us-east-1").meta.config

    assert config.retries["mode"] == "standard"
    assert config.retries["total_max_attempts"] == 11  # botocore: max_attempts + the first
    assert (config.connect_timeout, config.read_timeout) == (5, 30)
    # as many connections as the engine runs calls at once, so none waits for a connection
    from s3replication.engine.items import MAX_WORKERS, READ_WORKERS

    assert config.max_pool_connections >= MAX_WORKERS + READ_WORKERS


@pytest.mark.parametrize(
    "endpoint_arg, endpoint_env, expected_url, expected_style",
    [
        (None, None, "https://s3.amazonaws.com", None),
        ("http://127.0.0.1:4566", None, "http://127.0.0.1:4566", "path"),
        (None, "http://localhost:5000", "http://localhost:5000", "path"),
        ("http://127.0.0.1:4566", "http://localhost:5000", "http://127.0.0.1:4566", "path"),
    ],
    ids=["aws", "explicit-endpoint", "AWS_ENDPOINT_URL", "explicit-wins-over-env"],
)
def test_endpoint_and_s3_addressing(
    aws_env, monkeypatch, endpoint_arg, endpoint_env, expected_url, expected_style
):
    if endpoint_env:
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint_env)
    s3 = Clients(endpoint_url=endpoint_arg).get("s3", "us-east-1")

    assert s3.meta.endpoint_url == expected_url
    assert (s3.meta.config.s3 or {}).get("addressing_style") == expected_style


def test_on_call_sees_every_call_of_every_client(moto_clients):
    calls = []
    s3 = moto_clients.get("s3", "us-east-1")  # made before the hook: still counted
    moto_clients.on_call(lambda *call: calls.append(call))

    s3.create_bucket(Bucket="counted-bucket")
    moto_clients.get("s3", "us-west-2").list_buckets()
    moto_clients.get("kms", "us-west-2").list_aliases()

    assert calls == [
        ("s3", "CreateBucket", "us-east-1"),
        ("s3", "ListBuckets", "us-west-2"),
        ("kms", "ListAliases", "us-west-2"),
    ]


def test_a_raising_hook_stops_the_call_before_it_is_sent(moto_clients):
    class Crash(Exception):
        pass

    def crash_on_create(service, operation, region):
        if operation == "CreateBucket":
            raise Crash

    moto_clients.on_call(crash_on_create)
    s3 = moto_clients.get("s3", "us-east-1")

    with pytest.raises(Crash):
        s3.create_bucket(Bucket="never-made")
    assert s3.list_buckets()["Buckets"] == []


def test_account_id_is_asked_once(moto_clients):
    calls = []
    moto_clients.on_call(lambda *call: calls.append(call))

    assert moto_clients.account_id() == "123456789012"  # moto's default account
    assert moto_clients.account_id() == "123456789012"
    assert calls == [("sts", "GetCallerIdentity", "us-east-1")]


def test_has_credentials(aws_env, monkeypatch):
    assert Clients().has_credentials()

    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
    ):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    assert not Clients().has_credentials()


def test_the_given_session_is_used(aws_env):
    session = boto3.Session(aws_access_key_id="AKIDGIVEN", aws_secret_access_key="x")
    clients = Clients(session=session)

    assert clients.session is session
    creds = clients.get("s3", "us-east-1")._request_signer._credentials
    assert creds.access_key == "AKIDGIVEN"


def test_sandbox_clients_reach_an_emptied_ministack(sandbox_clients, reset_ministack, unique_name):
    s3 = sandbox_clients.get("s3", "us-east-1")
    assert s3.list_buckets()["Buckets"] == []
    assert sandbox_clients.account_id() == "000000000000"  # MiniStack's account

    s3.create_bucket(Bucket=unique_name("wiped"))
    reset_ministack()

    assert s3.list_buckets()["Buckets"] == []


def test_every_request_names_the_tool_in_its_user_agent(moto_clients):
    """CloudTrail records the request's User-Agent as the event's userAgent
    (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html):
    the tool's changes can be found by it, whichever client (boto3's for S3, botocore's for
    the others) sent them."""
    sent: list[str] = []
    for service in ("s3", "iam", "sts"):
        client = moto_clients.get(service, "us-east-1")
        client.meta.events.register(
            "before-send", lambda request, **_: sent.append(request.headers["User-Agent"]))
    moto_clients.get("s3", "us-east-1").list_buckets()
    moto_clients.get("iam", "us-east-1").list_roles()
    moto_clients.get("sts", "us-east-1").get_caller_identity()
    assert len(sent) == 3
    for agent in sent:
        text = agent.decode() if isinstance(agent, bytes) else agent
        assert text.startswith("ecommerce-s3-replication Botocore/"), text
