"""Reads ahead (s3replication/aws/read_ahead.py): a plan or apply sends the last run's reads
at once as it starts, and takes their answers in turn, never one its own writes may have made
stale. The answers are botocore's own, parsed again by botocore: error answers raise the same
errors, IAM policy documents are decoded the same way."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError

from s3replication import sandbox
from s3replication.aws.clients import Clients
from s3replication.aws.read_ahead import ReadAhead, begin, key_of, recorded
from tests.shop import is_mutating, run_script, shop_config


def config_at(tmp_path: Path) -> Any:
    """What `begin` reads of a config: where the log file is, the partition, ACCOUNTS."""
    return SimpleNamespace(log_file=tmp_path / "replication_logs.txt",
                           region_of_partition="us-east-1", accounts={})


def listed_run(clients: Clients, tmp_path: Path, calls: Any) -> ReadAhead:
    """A run whose reads are `calls(clients)`: listed for the next run when it finishes."""
    ahead = begin(clients, config_at(tmp_path), "cr_replication")
    calls(clients)
    ahead.finish(keep=True)
    clients.read_ahead = None
    return ahead


def test_only_reads_of_settings_go_ahead() -> None:
    assert recorded("GetBucketVersioning", {"Bucket": "b"})
    assert recorded("ListRolePolicies", {"RoleName": "r"})
    assert not recorded("PutBucketVersioning", {"Bucket": "b"})
    assert not recorded("HeadObject", {"Bucket": "b", "Key": "k"})  # objects change under us
    assert not recorded("ListObjectVersions", {"Bucket": "b"})
    assert not recorded("ListRoles", {"Marker": "page-2"})  # a page after the first


def test_a_write_drops_the_answers_it_may_have_changed(tmp_path: Path) -> None:
    ahead = ReadAhead(tmp_path / "list.json")
    keys = {
        "b1": key_of("", "s3", "us-east-1", "GetBucketPolicy", {"Bucket": "b1"}),
        "b2": key_of("", "s3", "us-east-1", "GetBucketPolicy", {"Bucket": "b2"}),
        "all buckets": key_of("", "s3", "us-east-1", "ListBuckets", {}),
        "role r": key_of("", "iam", "us-east-1", "GetRole", {"RoleName": "r"}),
        "role s": key_of("", "iam", "us-east-1", "GetRole", {"RoleName": "s"}),
        "kms": key_of("", "kms", "us-east-1", "ListAliases", {}),
        "kms elsewhere": key_of("backup", "kms", "us-east-1", "ListAliases", {}),
    }
    for key in keys.values():
        assert key is not None
        ahead._ahead[key] = _done((200, {}, b""))
    ahead.wrote("", "s3", {"Bucket": "b1"})
    ahead.wrote("", "iam", {"RoleName": "r"})
    ahead.wrote("", "kms", {"KeyId": "alias/x"})
    left = {name for name, key in keys.items() if key in ahead._ahead}
    assert left == {"b2", "role s", "kms elsewhere"}


def _done(value: Any) -> Any:
    from concurrent.futures import Future

    future: Future[Any] = Future()
    future.set_result(value)
    return future


def test_answers_read_ahead_are_botocores_own(moto_clients: Clients, tmp_path: Path) -> None:
    """Served again, an error answer raises the same error and an IAM policy document decodes
    to the same dict; each is used as many times as the last run asked, then sent again."""
    s3 = moto_clients.get("s3", "us-east-1")
    iam = moto_clients.get("iam", "us-east-1")
    s3.create_bucket(Bucket="shop")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                   "Principal": {"Service": "s3.amazonaws.com"}}]}))
    document = {"Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    iam.put_role_policy(RoleName="r", PolicyName="p", PolicyDocument=json.dumps(document))

    def reads(clients: Clients) -> list[Any]:
        found: list[Any] = []
        for _ in range(2):
            try:
                clients.get("s3", "us-east-1").get_bucket_replication(Bucket="shop")
            except ClientError as error:
                found.append(error.response["Error"]["Code"])
        found.append(clients.get("iam", "us-east-1").get_role_policy(
            RoleName="r", PolicyName="p")["PolicyDocument"])
        return found

    listed_run(moto_clients, tmp_path, reads)
    sent: list[str] = []
    moto_clients.on_call(lambda service, operation, region: sent.append(operation))
    ahead = begin(moto_clients, config_at(tmp_path), "cr_replication")
    assert reads(moto_clients) == ["ReplicationConfigurationNotFoundError"] * 2 + [document]
    assert ahead.served == 3
    with pytest.raises(ClientError):  # a third ask: the last run asked twice; sent again
        s3.get_bucket_replication(Bucket="shop")
    assert ahead.served == 3
    ahead.finish(keep=True)
    # the run's hooks see the calls the run makes, not the reads sent in the background
    assert sent == ["GetBucketReplication"] * 2 + ["GetRolePolicy", "GetBucketReplication"]


def test_a_write_of_the_run_is_read_again(moto_clients: Clients, tmp_path: Path) -> None:
    s3 = moto_clients.get("s3", "us-east-1")
    s3.create_bucket(Bucket="shop")
    listed_run(moto_clients, tmp_path,
               lambda clients: clients.get("s3", "us-east-1").get_bucket_versioning(Bucket="shop"))
    ahead = begin(moto_clients, config_at(tmp_path), "cr_replication")
    s3.put_bucket_versioning(Bucket="shop", VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket="shop")["Status"] == "Enabled"
    assert ahead.served == 0
    ahead.finish(keep=False)


def test_a_read_ahead_without_an_answer_is_sent_again(moto_clients: Clients,
                                                      tmp_path: Path) -> None:
    s3 = moto_clients.get("s3", "us-east-1")
    s3.create_bucket(Bucket="shop")
    listed_run(moto_clients, tmp_path,
               lambda clients: clients.get("s3", "us-east-1").get_bucket_versioning(Bucket="shop"))

    ahead = ReadAhead(config_at(tmp_path).log_file.parent / ".read-ahead-cr_replication.json")
    moto_clients.read_ahead = ahead

    def unreachable(key: Any) -> Any:
        raise ConnectionError("no network")

    ahead.start(unreachable)
    assert s3.get_bucket_versioning(Bucket="shop")["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert ahead.served == 0
    ahead.finish(keep=False)


def test_an_unreadable_list_only_makes_the_run_slower(moto_clients: Clients,
                                                      tmp_path: Path) -> None:
    (tmp_path / ".read-ahead-cr_replication.json").write_text("{not json")
    config = str(shop_config(tmp_path))
    assert run_script("crr", "apply", "--config", config, clients=lambda: moto_clients).status == 0
    assert json.loads((tmp_path / ".read-ahead-cr_replication.json").read_text())


def test_a_run_after_an_apply_reads_ahead_and_agrees(ministack_endpoint: str,
                                                     reset_ministack: Callable[[], None],
                                                     tmp_path: Path) -> None:
    """On MiniStack: the second apply takes most answers from the reads sent ahead, finds no
    change and writes nothing; drift made by hand before the next run is still found."""
    def clients() -> Clients:
        return Clients(endpoint_url=ministack_endpoint, session=sandbox.sandbox_session())

    config = str(shop_config(tmp_path))
    assert run_script("crr", "apply", "--config", config, clients=clients).status == 0
    listed = json.loads((tmp_path / ".read-ahead-cr_replication.json").read_text())
    assert listed and all(recorded(entry[3], json.loads(entry[4])) for entry in listed)
    again = run_script("crr", "apply", "--config", config, clients=clients)
    assert again.status == 0 and "No changes" in again.stdout, again.stdout
    assert not [op for _, op, _ in again.calls if is_mutating(op)]
    log = (tmp_path / "replication_logs.txt").read_text()
    used = [line for line in log.splitlines() if "answers used" in line]
    assert used and int(used[-1].split("read ahead: ")[1].split()[0]) > len(listed) // 2
    clients().get("s3", "us-east-1").delete_bucket_encryption(Bucket="shopco-data-use1")
    plan = run_script("crr", "plan", "--config", config, clients=clients)
    assert plan.status == 3 and "shopco-data-use1" in plan.stdout, plan.stdout
