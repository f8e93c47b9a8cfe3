"""S3 Inventory set up by both scripts, which share one config (CRR_RULES, SRR_RULES), on moto:
each report bucket's delivery statement admits every bucket either script inventories, each
script adds and removes only its own, and `destroy` of one leaves the other's in place.

- S3 delivers a report only where the destination bucket's policy allows `s3:PutObject` to
  `s3.amazonaws.com` for the source bucket, named in `aws:SourceArn` (with `aws:SourceAccount`):
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-bucket-policies.html#example-bucket-policies-s3-inventory-1
  and https://docs.aws.amazon.com/AmazonS3/latest/userguide/configure-inventory.html. A
  statement listing one script's buckets only would stop the other's reports.
- One inventory configuration per bucket and Id (PutBucketInventoryConfiguration replaces the
  configuration of that Id:
  https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketInventoryConfiguration.html):
  a bucket both scripts' rules name has one configuration, which destroy of one script keeps.

moto keeps bucket policies, but routes PutBucketInventoryConfiguration to CreateBucket and
DeleteBucketInventoryConfiguration to DeleteBucket; the inventory configurations are therefore
kept here in a dict (`Configurations`), through the module's read and write functions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from s3replication.aws.clients import Clients
from s3replication.aws.naming import TLS_STATEMENT_SID
from s3replication.resources import inventory
from s3replication.resources.bucket_target import BucketTarget
from tests.shop import Run, run_script, shop_config

REPORTS = {"us-east-1": "shopco-inventory-use1", "us-west-2": "shopco-inventory-usw2",
           "eu-west-1": "shopco-inventory-euw1"}
INVENTORY = f"INVENTORY = {{'buckets': {REPORTS!r}}}\n"
# the shipped config's buckets, by the scripts whose rules name them
BOTH = {"shopco-data-use1"}  # source of CRR and SRR rules
CRR_ONLY = {"shopco-assets-use1", "shopco-data-usw2", "shopco-assets-euw1"}
SRR_ONLY = {"shopco-data-use1-backup", "shopco-logs-use1", "shopco-logs-use1-archive"}
REGION = {"shopco-data-use1": "us-east-1", "shopco-assets-use1": "us-east-1",
          "shopco-data-use1-backup": "us-east-1", "shopco-logs-use1": "us-east-1",
          "shopco-logs-use1-archive": "us-east-1", "shopco-data-usw2": "us-west-2",
          "shopco-assets-euw1": "eu-west-1"}
FOREIGN = "arn:aws:s3:::another-teams-bucket"  # a bucket of another config, by hand


class Configurations(dict[str, Any]):
    """Inventory configurations by bucket, as S3 would keep them."""

    def read(self, on: BucketTarget) -> Any:
        return self.get(on.name)

    def write(self, on: BucketTarget, wanted: Any) -> None:
        if wanted is None:
            self.pop(on.name, None)
        else:
            self[on.name] = wanted


@pytest.fixture
def world(moto_clients: Clients, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    configurations = Configurations()
    monkeypatch.setattr(inventory, "read_configuration", configurations.read)
    monkeypatch.setattr(inventory, "write_configuration", configurations.write)
    config = str(shop_config(tmp_path, INVENTORY))

    def run(kind: str, *argv: str) -> Run:
        return run_script(kind, *argv, "--config", config, clients=lambda: moto_clients)

    return run, moto_clients, configurations


def statement(clients: Clients, region: str) -> dict[str, Any] | None:
    s3 = clients.get("s3", region)
    policy = json.loads(s3.get_bucket_policy(Bucket=REPORTS[region])["Policy"])
    found = [s for s in policy["Statement"] if s.get("Sid") == inventory.DELIVERY_SID]
    return found[0] if found else None


def sids(clients: Clients, region: str) -> set[str]:
    s3 = clients.get("s3", region)
    policy = json.loads(s3.get_bucket_policy(Bucket=REPORTS[region])["Policy"])
    return {s.get("Sid") for s in policy["Statement"]}


def delivered(clients: Clients, region: str) -> set[str]:
    """The buckets the report bucket of `region` admits reports of."""
    found = statement(clients, region)
    if found is None:
        return set()
    arns = found["Condition"]["ArnLike"]["aws:SourceArn"]
    return {a.rsplit(":", 1)[1] for a in ([arns] if isinstance(arns, str) else arns)}


def in_region(names: set[str], region: str) -> set[str]:
    return {n for n in names if REGION[n] == region}


def changes(run: Any, kind: str) -> list[tuple[str, str, str]]:
    """What `plan` would change on the report buckets and in inventory configurations (moto
    answers a lossy replication configuration, which plan shows as drift: left out)."""
    result = run(kind, "plan", "--json")
    assert result.status in (0, 3), result.stderr
    return [(c["resource"], c["setting"], c["action"])
            for c in json.loads(result.stdout)["changes"]
            if c["setting"].startswith("inventory")
            or any(name in c["resource"] for name in REPORTS.values())]


def applied_by_both(run: Any) -> None:
    for kind in ("srr", "crr"):
        result = run(kind, "apply")
        assert result.status == 0, result.stderr


def test_each_script_adds_its_buckets_and_neither_undoes_the_other(world: Any) -> None:
    """sr apply, then cr apply: the statement lists both scripts' buckets, and neither plan
    shows a change (before: cr apply replaced the SRR buckets, and each plan showed drift)."""
    run, clients, _ = world
    applied_by_both(run)
    for region in REPORTS:
        assert delivered(clients, region) == in_region(BOTH | CRR_ONLY | SRR_ONLY, region)
    found = statement(clients, "us-east-1")
    assert found is not None
    assert found["Condition"]["StringEquals"]["aws:SourceAccount"] in (
        "123456789012", ["123456789012"])  # moto's account
    assert found["Resource"] == f"arn:aws:s3:::{REPORTS['us-east-1']}/inventory/*"
    assert changes(run, "srr") == []
    assert changes(run, "crr") == []
    assert run("srr", "apply").status == 0  # once more: nothing taken out
    assert delivered(clients, "us-east-1") == in_region(BOTH | CRR_ONLY | SRR_ONLY, "us-east-1")


def test_destroy_takes_out_only_its_own_buckets(world: Any) -> None:
    """cr destroy: the SRR buckets' ARNs (the shared source's too, whose SRR rule is still
    there) and their inventory configurations stay; a statement left with no ARN is removed,
    the TLS-only one kept. Then sr destroy: the shared source goes too."""
    run, clients, configurations = world
    applied_by_both(run)
    assert set(configurations) == BOTH | CRR_ONLY | SRR_ONLY
    result = run("crr", "destroy", "--yes")
    assert result.status == 0, result.stderr
    assert delivered(clients, "us-east-1") == in_region(BOTH | SRR_ONLY, "us-east-1")
    for region in ("us-west-2", "eu-west-1"):
        assert statement(clients, region) is None
        assert sids(clients, region) == {TLS_STATEMENT_SID}
    assert set(configurations) == BOTH | SRR_ONLY
    assert changes(run, "srr") == []
    result = run("srr", "destroy", "--yes")
    assert result.status == 0, result.stderr
    assert statement(clients, "us-east-1") is None and configurations == {}
    assert sids(clients, "us-east-1") == {TLS_STATEMENT_SID}


def test_destroy_in_the_other_order(world: Any) -> None:
    """sr destroy first keeps the shared source (its CRR rules are there); cr destroy then
    removes it, as the SRR rule that also named it is gone."""
    run, clients, configurations = world
    applied_by_both(run)
    assert run("srr", "destroy", "--yes").status == 0
    assert delivered(clients, "us-east-1") == in_region(BOTH | CRR_ONLY, "us-east-1")
    assert set(configurations) == BOTH | CRR_ONLY
    assert changes(run, "crr") == []
    assert run("crr", "destroy", "--yes").status == 0
    assert statement(clients, "us-east-1") is None and configurations == {}


def test_destroy_of_a_script_alone_removes_the_shared_source(world: Any) -> None:
    """Where the other script never set its rules up, nothing of this script's is kept for
    it, though the config names them."""
    run, clients, configurations = world
    assert run("crr", "apply").status == 0
    assert delivered(clients, "us-east-1") == in_region(BOTH | CRR_ONLY, "us-east-1")
    assert run("crr", "destroy", "--yes").status == 0
    assert statement(clients, "us-east-1") is None and configurations == {}


def test_buckets_the_config_does_not_name_are_kept(world: Any) -> None:
    """An ARN of another config's bucket (and its account) in the statement stays through
    both scripts' apply and destroy; the statement with it."""
    run, clients, _ = world
    applied_by_both(run)
    s3 = clients.get("s3", "us-east-1")
    policy = json.loads(s3.get_bucket_policy(Bucket=REPORTS["us-east-1"])["Policy"])
    for found in policy["Statement"]:
        if found.get("Sid") == inventory.DELIVERY_SID:
            condition = found["Condition"]
            condition["ArnLike"]["aws:SourceArn"].append(FOREIGN)
            condition["StringEquals"]["aws:SourceAccount"] = ["123456789012", "999988887777"]
    s3.put_bucket_policy(Bucket=REPORTS["us-east-1"], Policy=json.dumps(policy))
    assert changes(run, "crr") == [] and changes(run, "srr") == []
    for kind in ("crr", "srr"):
        result = run(kind, "destroy", "--yes")
        assert result.status == 0, result.stderr
    found = statement(clients, "us-east-1")
    assert found is not None
    assert found["Condition"]["ArnLike"]["aws:SourceArn"] in (FOREIGN, [FOREIGN])
    assert sorted(found["Condition"]["StringEquals"]["aws:SourceAccount"]) == [
        "123456789012", "999988887777"]
