"""`restore --inventory` end to end on a MiniStack of this module's own (with Athena and Glue):
a bucket with keys overwritten, deleted and created after TIME (and one outside the scope),
its report written in AWS's format by the sandbox's stand-in (inventory/standin.py, every
version and delete marker with IsLatest, IsDeleteMarker and LastModifiedDate:
https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory.html,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory-location.html); the
plan from it, in DuckDB and in Athena, has the same counts, samples, copies and hides as the
listing path's `judge` over the bucket's versions (ListObjectVersions lists a key's versions
newest first: https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html).

Reports' times are compared to the second (inventory/restore_query.py): TIME is taken with a
clear second on either side of every write.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from s3replication.commands.restore.inventory_plan import plan_from_inventory
from s3replication.commands.restore.plan import RestorePlan, Scope, Version, judge
from s3replication.engine.context import Context
from s3replication.inventory.standin import rows_from_bucket, write_report
from tests.inventory_reports import PREFIX, REPORTS_USE1, SOURCE, config_text
from tests.replicas import World

pytestmark = pytest.mark.e2e
SECOND = 2.1  # a clear second between TIME and every write


@pytest.fixture(scope="module")
def endpoint(athena_endpoint: str) -> str:
    """The module's MiniStack, with Athena and Glue (conftest.athena_endpoint)."""
    return athena_endpoint


def listed(world: World, prefix: str) -> list[Version]:
    """The bucket's versions as the listing path reads them (newest first per key)."""
    found = []
    for v in world.versions(SOURCE, prefix):
        found.append(Version(v["Key"], v["VersionId"], v["LastModified"], v["IsLatest"],
                             "Size" not in v, v.get("Size", 0),
                             v.get("StorageClass", "STANDARD") if "Size" in v else "",
                             str(v.get("ETag", "")).strip('"')))
    order = {id(v): n for n, v in enumerate(found)}
    return sorted(found, key=lambda v: (v.key, -v.last_modified.timestamp(), order[id(v)]))


@pytest.fixture(scope="module")
def scene(endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[World, datetime]:
    folder = tmp_path_factory.mktemp("restore-inventory")
    config = folder / "s3_config.py"
    config.write_text(config_text(folder / "log.txt"))
    world = World(endpoint, config)
    world.apply("crr")
    s3 = world.s3(SOURCE)
    world.put_many(SOURCE, [f"{PREFIX}{n:02d}.json" for n in range(12)] + ["other/x.json"])
    time.sleep(SECOND)
    to = datetime.now(UTC).replace(microsecond=0)
    time.sleep(SECOND)
    for n in range(3):  # overwritten
        world.put(SOURCE, f"{PREFIX}{n:02d}.json", b"a bad deploy")
    for n in range(3, 5):  # deleted
        s3.delete_object(Bucket=SOURCE, Key=f"{PREFIX}{n:02d}.json")
    world.put_many(SOURCE, [f"{PREFIX}new-{n}.json" for n in range(4)])  # created
    world.put(SOURCE, "other/x.json", b"outside the scope")
    time.sleep(SECOND)
    write_report(s3, REPORTS_USE1, SOURCE, rows_from_bucket(s3, SOURCE),
                 now=datetime.now(UTC), per_file=5)
    return world, to


def context(world: World) -> Context:
    return Context(config=world.config, kind="crr", clients=world.clients(),
                   account="000000000000")


def fields(plan: RestorePlan) -> tuple[Any, ...]:
    return (plan.counts, plan.samples, plan.copies, plan.archived, plan.hides,
            plan.before)


@pytest.mark.parametrize("engine", ["duckdb", "athena"])
def test_the_inventory_plan_counts_what_the_listing_plan_counts(
        scene: tuple[World, datetime], engine: str) -> None:
    world, to = scene
    wanted = judge(listed(world, PREFIX), to, 3)
    assert wanted.counts == {"unchanged": 7, "overwritten": 3, "deleted": 2, "created": 4}
    found = plan_from_inventory(context(world), Scope(SOURCE, PREFIX), to, 3, engine)
    assert fields(found) == fields(wanted)


def test_the_whole_bucket_counts_the_key_outside_the_prefix(
        scene: tuple[World, datetime]) -> None:
    world, to = scene
    found = plan_from_inventory(context(world), Scope(SOURCE, ""), to, 50, "duckdb")
    assert fields(found) == fields(judge(listed(world, ""), to, 50))
    assert "other/x.json" in found.samples["overwritten"]
