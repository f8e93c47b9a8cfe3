"""Both scripts' S3 Inventory delivery statement, end to end on MiniStack: the shipped config
with INVENTORY, `sr apply` then `cr apply`; each report bucket's statement then lists every
bucket either script inventories and neither `plan` shows a change on a report bucket;
`cr destroy` keeps the SRR buckets (the shared source's too) and removes a statement left
with none.

S3 delivers a report only for a source bucket that the destination's policy names in
`aws:SourceArn` (https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-bucket-policies.html#example-bucket-policies-s3-inventory-1).
MiniStack keeps no inventory configuration (the scripts send none there); the configurations'
part is tested on moto (tests/test_inventory_shared.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from s3replication.aws.naming import TLS_STATEMENT_SID
from s3replication.resources.inventory import DELIVERY_SID
from tests.replicas import World

pytestmark = pytest.mark.e2e
REPORTS = {"us-east-1": "shopco-inventory-use1", "us-west-2": "shopco-inventory-usw2",
           "eu-west-1": "shopco-inventory-euw1"}
SRR_USE1 = {"shopco-data-use1", "shopco-data-use1-backup", "shopco-logs-use1",
            "shopco-logs-use1-archive"}
CRR = {"us-east-1": {"shopco-data-use1", "shopco-assets-use1"},
       "us-west-2": {"shopco-data-usw2"}, "eu-west-1": {"shopco-assets-euw1"}}


@pytest.fixture
def world(ministack_endpoint: str, reset_ministack: Any, tmp_path: Path) -> World:
    return World.make(ministack_endpoint, tmp_path, f"INVENTORY = {{'buckets': {REPORTS!r}}}")


def policy(world: World, region: str) -> dict[str, Any]:
    s3 = world.aws.get("s3", region)
    return dict(json.loads(s3.get_bucket_policy(Bucket=REPORTS[region])["Policy"]))


def delivered(world: World, region: str) -> set[str]:
    found = [s for s in policy(world, region)["Statement"] if s.get("Sid") == DELIVERY_SID]
    if not found:
        return set()
    arns = found[0]["Condition"]["ArnLike"]["aws:SourceArn"]
    return {a.rsplit(":", 1)[1] for a in ([arns] if isinstance(arns, str) else arns)}


def report_bucket_changes(world: World, kind: str) -> list[Any]:
    status, data = world.run_json(kind, "plan")
    assert status in (0, 3), data
    return [c for c in data["changes"]
            if any(name in c["resource"] for name in REPORTS.values())]


def test_both_scripts_share_the_delivery_statement(world: World) -> None:
    world.apply("srr", "crr")
    assert delivered(world, "us-east-1") == SRR_USE1 | CRR["us-east-1"]
    assert delivered(world, "us-west-2") == CRR["us-west-2"]
    assert report_bucket_changes(world, "srr") == []
    assert report_bucket_changes(world, "crr") == []
    run = world.run("crr", "destroy", "--yes")
    assert run.status == 0, run.stdout + run.stderr
    assert delivered(world, "us-east-1") == SRR_USE1
    for region in ("us-west-2", "eu-west-1"):
        assert {s.get("Sid") for s in policy(world, region)["Statement"]} == {
            TLS_STATEMENT_SID}
    assert report_bucket_changes(world, "srr") == []
