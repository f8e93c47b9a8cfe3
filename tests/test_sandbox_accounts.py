"""`--sandbox` with ACCOUNTS, end to end: the shipped example config/examples/backup_account.py
applied by `cr_replication.py --sandbox` in its own process against a real sandbox (IAM
enforced over HTTPS), an order written under its rule, and the replica found in the backup
account 222222222222, read with that account's own keys, and in no bucket of the caller's
account 000000000000. The sandbox's state lives in a temporary folder, never `.sandbox/`."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from s3replication import sandbox
from s3replication.aws.clients import Clients
from tests.shop import shop_config

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config" / "examples" / "backup_account.py"
CALLER, BACKUP = "000000000000", "222222222222"
ROLE_ARN = '"role_arn": "arn:aws:iam::222222222222:role/shopco-replication-reader"'
# Runs cr_replication.py as a user does, with the sandbox's state in argv[1].
RUN_SCRIPT = ("import runpy, sys; from pathlib import Path; "
              "from s3replication.sandbox import state; "
              "state.STATE_DIR = Path(sys.argv.pop(1)); sys.argv[0] = 'cr_replication.py'; "
              "runpy.run_path('cr_replication.py', run_name='__main__')")


def cr_replication(state_dir: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """`python cr_replication.py ARGV` in a new process, its sandbox state in `state_dir`."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}  # Python's defaults
    return subprocess.run([sys.executable, "-c", RUN_SCRIPT, str(state_dir), *argv], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600, check=False)


def close(clients: Clients) -> None:
    """Over HTTPS MiniStack stops cleanly (saving its state) only once no connection is open."""
    for factory in (clients, *clients._accounts.values()):
        for client in factory._clients.values():
            client.close()


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("sandbox-accounts")
    yield path
    # Over HTTPS MiniStack stops cleanly only once no connection is open, and sandbox.reach's
    # own IAM client, dropped unclosed, keeps one until the garbage collector frees it:
    # collected now, the server stops in a second instead of its 15 s STOP_TIMEOUT.
    gc.collect()
    sandbox.stop(path)


@pytest.fixture(scope="module")
def connect(state_dir: Path) -> Iterator[Callable[[str], Clients]]:
    """connect(access key) -> clients of the sandbox acting as that account's root."""
    made: list[Clients] = []

    def connect(key: str) -> Clients:
        made.append(sandbox.sandbox_clients(sandbox.ensure_running(state_dir)))
        made[-1].session = sandbox.sandbox_session(key)
        return made[-1]

    yield connect
    for clients in made:
        close(clients)


def apply(state_dir: Path, config: Path) -> subprocess.CompletedProcess[str]:
    run = cr_replication(state_dir, "--sandbox", "--config", str(config), "apply")
    assert run.returncode == 0, run.stdout + run.stderr
    return run


def replicated(connect: Callable[[str], Clients], source: str, vault: str, key: str) -> None:
    """Write an order under the rule as the caller; the replica is in the backup account."""
    caller, backup = connect("test"), connect(BACKUP)
    caller.get("s3", "us-east-1").put_object(Bucket=source, Key=key, Body=b'{"order": 1001}')

    assert read_replica(backup, vault, key) == ("REPLICA", b'{"order": 1001}')
    assert caller.get("s3", "us-east-1").head_object(
        Bucket=source, Key=key)["ReplicationStatus"] == "COMPLETED"
    assert vault in names(backup)
    # Nowhere in the caller's account: no bucket of it holds the key but the source, and
    # the replica, owned by the backup account, is not the caller's to read.
    assert vault not in names(caller)
    holding = [b for b in names(caller) if has_key(caller, b, key)]
    assert holding == [source]
    assert refused(caller, vault, key) in ("403", "AccessDenied")


def read_replica(backup: Clients, vault: str, key: str) -> tuple[str, bytes]:
    """(ReplicationStatus, body) of the replica, read as the backup account; waits up to 30 s
    (MiniStack replicates as the source object is written, AWS within minutes)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            replica = backup.get("s3", "us-west-2").get_object(Bucket=vault, Key=key)
            break
        except ClientError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    with replica["Body"] as body:  # closed: an open connection holds up the server's stop
        return replica.get("ReplicationStatus", "-"), body.read()


def refused(clients: Clients, bucket: str, key: str) -> str:
    """The error code of reading the object's metadata (a `pytest.raises` here would keep,
    through its traceback, a connection open until the garbage collector runs)."""
    try:
        clients.get("s3", "us-west-2").head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return "allowed"


def names(clients: Clients) -> list[str]:
    return [b["Name"] for b in clients.get("s3", "us-east-1").list_buckets()["Buckets"]]


def has_key(clients: Clients, bucket: str, key: str) -> bool:
    s3 = clients.get("s3", clients.get("s3", "us-east-1").get_bucket_location(
        Bucket=bucket)["LocationConstraint"] or "us-east-1")
    return bool(s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount"))


def test_the_example_replicates_into_the_backup_account(
        state_dir: Path, connect: Callable[[str], Clients],
        tmp_path_factory: pytest.TempPathFactory) -> None:
    config = shop_config(tmp_path_factory.mktemp("role"), base=EXAMPLE.read_text())

    run = apply(state_dir, config)

    assert "bucket shopco-orders-vault-usw2 (us-west-2, account backup)" in run.stdout
    assert "replication grant (policy)" in run.stdout
    for output in (run.stdout, run.stderr):  # no TLS warning about our own local server
        assert "InsecureRequestWarning" not in output and "Unverified HTTPS" not in output
    replicated(connect, "shopco-orders-use1", "shopco-orders-vault-usw2",
               "orders/2026/11/29/order-1001.json")
    again = cr_replication(state_dir, "--sandbox", "--config", str(config), "plan")
    assert again.returncode == 0, again.stdout + again.stderr


def test_an_account_reached_by_profile_works_in_the_sandbox_too(
        state_dir: Path, connect: Callable[[str], Clients],
        tmp_path_factory: pytest.TempPathFactory) -> None:
    text = EXAMPLE.read_text()
    assert ROLE_ARN in text
    text = text.replace(ROLE_ARN, '"profile": "no-such-profile-here"')
    config = shop_config(tmp_path_factory.mktemp("profile"),
                         base=text.replace("shopco-orders", "shopco-profile"))

    apply(state_dir, config)

    replicated(connect, "shopco-profile-use1", "shopco-profile-vault-usw2",
               "orders/2026/11/29/order-1002.json")


def test_the_sandboxs_way_in_for_production_reads_only(
        state_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """With admin_profile, the sandbox reaches the backup account as an IAM user of it that may
    only read (MiniStack under AUTH=true gives a user exactly its policy), and its
    administrators as its root: production's way in is refused a write on the vault."""
    from s3replication.config import load_config

    config = shop_config(tmp_path_factory.mktemp("reader"), base=EXAMPLE.read_text())
    apply(state_dir, config)
    account = load_config(config).accounts["backup"]
    clients = sandbox.sandbox_clients(sandbox.ensure_running(state_dir))
    reader = Clients(clients.endpoint_url, sandbox.reach(
        account, clients.get("sts", "us-east-1")), verify=False)
    try:
        s3 = reader.get("s3", "us-west-2")
        assert reader.account_id() == BACKUP
        assert s3.get_bucket_versioning(Bucket="shopco-orders-vault-usw2")["Status"] == "Enabled"
        for write in (lambda: s3.put_bucket_versioning(
                          Bucket="shopco-orders-vault-usw2",
                          VersioningConfiguration={"Status": "Suspended"}),
                      lambda: s3.delete_bucket_policy(Bucket="shopco-orders-vault-usw2")):
            code = ""
            try:
                write()
            except ClientError as exc:
                code = str(exc.response["Error"]["Code"])
            assert code == "AccessDenied"
    finally:
        close(reader)  # its connections open too would hold up the server's stop 15 s
        close(clients)
