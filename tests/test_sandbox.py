"""The sandbox server: start, reuse, persist across restarts, stop, reset, command line; IAM
enforced over HTTPS, and a plain-HTTP server of an earlier version replaced.

Each test uses its own state dir, never the project's `.sandbox/`.
"""

from __future__ import annotations

import json
import logging
import os

import pytest
from botocore.exceptions import ClientError

from s3replication import sandbox
from s3replication.aws.clients import Clients
from s3replication.config.model import AccountSpec
from s3replication.errors import ExitStatus
from s3replication.sandbox import process, state

pytestmark = pytest.mark.e2e


@pytest.fixture
def state_dir(tmp_path, monkeypatch):
    """A private sandbox state dir, also the default for `main()`; its server is stopped
    afterwards whatever happens."""
    path = tmp_path / "sandbox"
    monkeypatch.setattr(state, "STATE_DIR", path)
    yield path
    sandbox.stop(path)


def close(clients):
    """Close the connections of `clients` and of its other accounts' factories: over HTTPS
    MiniStack stops cleanly (saving its state) only once no connection is open."""
    for factory in (clients, *clients._accounts.values()):
        for client in factory._clients.values():
            client.close()


@pytest.fixture
def connect(state_dir):
    """sandbox_clients(url), their connections closed before the server is stopped."""
    made = []
    yield lambda url: made.append(sandbox.sandbox_clients(url)) or made[-1]
    for clients in made:
        close(clients)


def server_json(state_dir):
    return json.loads((state_dir / "server.json").read_text())


def pid_alive(pid):
    return process.alive(pid)


def test_ensure_running_starts_a_server_and_then_reuses_it(state_dir):
    url = sandbox.ensure_running(state_dir)
    first = server_json(state_dir)

    assert url == f"https://127.0.0.1:{first['port']}"
    assert first["https"] is True
    assert sandbox.is_healthy(url)
    assert sandbox.ensure_running(state_dir) == url
    assert server_json(state_dir) == first
    assert sandbox.status(state_dir) == {
        "endpoint": url,
        "port": first["port"],
        "pid": first["pid"],
        "state_dir": str(state_dir),
    }


def test_stop_ends_the_server_and_forgets_it(state_dir):
    sandbox.ensure_running(state_dir)
    pid = server_json(state_dir)["pid"]

    assert sandbox.stop(state_dir) is True
    assert not pid_alive(pid)
    assert not (state_dir / "server.json").exists()
    assert sandbox.status(state_dir) is None
    assert sandbox.stop(state_dir) is False


def test_iam_is_enforced_over_https(state_dir, connect):
    url = sandbox.ensure_running(state_dir)
    stranger = connect(url)
    stranger.session = sandbox.sandbox_session("AKIAUNKNOWNCALLER000")

    assert connect(url).account_id() == "000000000000"
    with pytest.raises(ClientError, match="InvalidAccessKeyId"):
        stranger.get("s3", "us-east-1").list_buckets()


def test_state_survives_a_stop_and_start(state_dir, connect):
    clients = connect(sandbox.ensure_running(state_dir))
    s3 = clients.get("s3", "us-west-2")
    s3.create_bucket(
        Bucket="kept-bucket", CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
    )
    s3.put_bucket_tagging(Bucket="kept-bucket", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    s3.put_object(Bucket="kept-bucket", Key="a.txt", Body=b"kept")
    clients.get("iam", "us-east-1").create_role(RoleName="kept-role", AssumeRolePolicyDocument="{}")
    key = clients.get("kms", "us-west-2").create_key()["KeyMetadata"]["KeyId"]
    clients.get("kms", "us-west-2").create_alias(AliasName="alias/kept", TargetKeyId=key)
    close(clients)
    sandbox.stop(state_dir)

    clients = connect(sandbox.ensure_running(state_dir))
    s3 = clients.get("s3", "us-west-2")

    assert s3.get_bucket_location(Bucket="kept-bucket")["LocationConstraint"] == "us-west-2"
    assert s3.get_bucket_tagging(Bucket="kept-bucket")["TagSet"] == [{"Key": "k", "Value": "v"}]
    assert s3.get_object(Bucket="kept-bucket", Key="a.txt")["Body"].read() == b"kept"
    assert clients.get("iam", "us-east-1").get_role(RoleName="kept-role")
    aliases = clients.get("kms", "us-west-2").list_aliases()["Aliases"]
    assert [a["TargetKeyId"] for a in aliases if a["AliasName"] == "alias/kept"] == [key]


def test_a_dead_server_is_replaced_with_a_warning(state_dir, caplog):
    state_dir.mkdir()
    (state_dir / "server.json").write_text(
        json.dumps({"port": 1, "pid": 2**22 + 1, "https": True}))

    with caplog.at_level(logging.WARNING, logger="s3replication.sandbox"):
        url = sandbox.ensure_running(state_dir)

    assert sandbox.is_healthy(url)
    assert server_json(state_dir)["pid"] != 2**22 + 1
    assert "stopped without saving its state" in caplog.text


def test_an_old_plain_http_server_is_replaced_and_its_state_kept(state_dir, connect, caplog):
    """server.json written by an earlier version ({port, pid}): a server without IAM
    enforcement, over HTTP. It is stopped cleanly (saving its state) and replaced."""
    old, old_url = process.start_ministack(state_dir, persist=True, detach=True)
    try:
        plain = Clients(endpoint_url=old_url, session=sandbox.sandbox_session())
        plain.get("s3", "us-east-1").create_bucket(Bucket="made-over-http")
        close(plain)
        (state_dir / "server.json").write_text(json.dumps(
            {"port": int(old_url.rsplit(":", 1)[1]), "pid": old.pid}))

        with caplog.at_level(logging.WARNING, logger="s3replication.sandbox"):
            url = sandbox.ensure_running(state_dir)
        stopped = old.poll() is not None
    finally:
        if old.poll() is None:
            process.terminate(old.pid, old)

    assert stopped  # by ensure_running
    assert url.startswith("https://") and server_json(state_dir)["pid"] != old.pid
    assert server_json(state_dir)["https"] is True
    assert "restarting the server" in caplog.text
    names = [b["Name"] for b in connect(url).get("s3", "us-east-1").list_buckets()["Buckets"]]
    assert "made-over-http" in names


def test_reset_stops_the_server_and_removes_the_state(state_dir):
    sandbox.ensure_running(state_dir)
    pid = server_json(state_dir)["pid"]

    sandbox.reset(state_dir)

    assert not pid_alive(pid)
    assert not state_dir.exists()


def test_the_server_listens_on_loopback_only(state_dir):
    url = sandbox.ensure_running(state_dir)
    pid = server_json(state_dir)["pid"]
    port = int(url.rsplit(":", 1)[1])

    listening = _listening_addresses(pid)

    # Over HTTPS MiniStack also serves 127.0.0.1:443 when this process may bind it and no
    # other server holds it (for Cognito's issuer URLs): loopback too.
    assert ("127.0.0.1", port) in listening
    assert {address for address, _ in listening} == {"127.0.0.1"}
    assert {p for _, p in listening} <= {port, 443}


def _listening_addresses(pid):
    """(address, port) pairs the process listens on, from /proc (Linux)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        target = os.readlink(f"/proc/{pid}/fd/{fd}")
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for table in ("tcp", "tcp6"):
        with open(f"/proc/net/{table}") as f:
            for line in f.readlines()[1:]:
                cols = line.split()
                if cols[3] == "0A" and cols[9] in inodes:  # 0A: LISTEN
                    hex_ip, hex_port = cols[1].split(":")
                    ip = ".".join(str(int(hex_ip[i : i + 2], 16)) for i in (6, 4, 2, 0))
                    found.add((ip if table == "tcp" else hex_ip, int(hex_port, 16)))
    return found


def test_sandbox_session_has_dummy_credentials_whatever_the_environment(monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALKEY")

    session = sandbox.sandbox_session()

    creds = session.get_credentials()
    assert (creds.access_key, creds.secret_key) == ("test", "test")  # account 0's root
    assert session.client("s3", region_name="us-east-1").meta.region_name == "us-east-1"


@pytest.mark.parametrize("how", [{"role_arn": "arn:aws:iam::222222222222:role/admin"},
                                 {"profile": "no-such-profile"}], ids=["role_arn", "profile"])
def test_reach_acts_in_the_account_with_its_own_keys(monkeypatch, how):
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    account = AccountSpec("backup", "222222222222", **how)

    session = sandbox.reach(account, None)  # no STS call: nothing is assumed

    creds = session.get_credentials()
    assert creds.access_key == "222222222222" and creds.token is None
    assert session.region_name == "us-east-1" and session.profile_name == "default"


def test_sandbox_clients_skip_the_tls_check_and_reach_accounts_with_their_keys():
    clients = sandbox.sandbox_clients("https://127.0.0.1:1")

    assert clients.verify is False and clients.reach is sandbox.reach
    assert clients.session.get_credentials().access_key == "test"


def test_command_line_start_status_stop_reset(state_dir, capsys):
    assert sandbox.main(["status"]) == ExitStatus.ATTENTION
    assert capsys.readouterr().out == "sandbox not running\n"

    assert sandbox.main(["start"]) == ExitStatus.OK
    url = capsys.readouterr().out.strip()
    assert url.startswith("https://127.0.0.1:")
    assert sandbox.is_healthy(url)

    assert sandbox.main(["status"]) == ExitStatus.OK
    assert f"sandbox running at {url} " in capsys.readouterr().out

    assert sandbox.main(["stop"]) == ExitStatus.OK
    assert capsys.readouterr().out == "sandbox stopped\n"

    assert sandbox.main(["reset"]) == ExitStatus.OK
    assert not state_dir.exists()
