"""verify into a locked vault, end to end on a real MiniStack, and the lifecycle rule that
expires its canary.

AWS: a replica placed in a bucket with Object Lock gets the bucket's default retention, and a
version under COMPLIANCE retention cannot be deleted by anyone before its retain-until date
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html); S3 Lifecycle does
not delete a version still under retention, it acts once retention has ended ("Managing S3
Lifecycle policies with Object Lock",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html#object-lock-managing-lifecycle);
HeadObject shows a version's retention to a caller allowed s3:GetObjectRetention (same page,
"Permissions for viewing lock information").

MiniStack does NOT give replicas the destination's default retention (AWS does): to play a
locked replica, the test puts COMPLIANCE retention on the first canary's replica by hand, as
the vault's owner would see S3 do (PutObjectRetention), after replication.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from s3replication import sandbox
from s3replication.aws.clients import Clients
from s3replication.resources.canary_expiry import CANARY_FOLDER, RULE_ID_PREFIX
from tests.shop import Run, run_script, shop_config

VAULT = "shopco-data-use1-backup"
RULE = "customers-backup"
KEY = f"customers/{CANARY_FOLDER}{RULE}"
LOCK = "BUCKETS['shopco-data-use1-backup']['object_lock'] = {'mode': 'COMPLIANCE', 'days': 1}"


@pytest.fixture
def aws(ministack_endpoint: str, reset_ministack: Callable[[], None]) -> Clients:
    return Clients(endpoint_url=ministack_endpoint, session=sandbox.sandbox_session())


@pytest.fixture
def script(ministack_endpoint: str, reset_ministack: Callable[[], None]) -> Callable[..., Run]:
    def run(*argv: str) -> Run:
        return run_script("srr", *argv, clients=lambda: Clients(
            endpoint_url=ministack_endpoint, session=sandbox.sandbox_session()))
    return run


def vault_versions(s3) -> list[dict]:
    listing = s3.list_object_versions(Bucket=VAULT, Prefix=f"customers/{CANARY_FOLDER}")
    return listing.get("Versions", [])


def verify(script, config: str) -> tuple[Run, dict]:
    run = script("verify", "--json", "--config", config)
    assert run.status == 0, run.stdout + run.stderr
    return run, {r["rule"]: r for r in json.loads(run.stdout)["rules"]}[RULE]


def test_verify_leaves_the_locked_replica_says_until_when_and_keeps_one_key(
        script, aws, tmp_path: Path):
    config = str(shop_config(tmp_path, LOCK))
    assert script("apply", "--config", config).status == 0
    s3 = aws.get("s3", "us-east-1")
    run, first = verify(script, config)
    assert first["key"] == KEY and first["ok"], first
    assert first["removed_versions"] == 1  # the source's canary; the vault's replica stays
    deletes = [c for c in run.calls if c[1] == "DeleteObject"]
    removed = sum(r["removed_versions"] for r in json.loads(run.stdout)["rules"])
    assert len(deletes) == removed  # no delete sent to the vault: each one removed a version
    kept = first["kept"]
    assert (kept["bucket"], kept["mode"], kept["period"]) == (VAULT, "COMPLIANCE", "1 day")
    [replica] = vault_versions(s3)
    # the replica locked as AWS would have locked it (MiniStack does not: see the docstring)
    until = datetime.now(UTC) + timedelta(days=1)
    s3.put_object_retention(Bucket=VAULT, Key=KEY, VersionId=replica["VersionId"],
                            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until})
    text = script("verify", "--config", config)
    assert text.status == 0, text.stdout + text.stderr
    assert f"the canary's replica in {VAULT} stays until" in text.stdout
    _, second = verify(script, config)
    assert second["key"] == KEY and second["ok"] and second["removed_versions"] == 1
    versions = vault_versions(s3)
    assert {v["Key"] for v in versions} == {KEY}  # one key, however often verify runs
    assert replica["VersionId"] in {v["VersionId"] for v in versions}
    with pytest.raises(ClientError):  # what verify would have met had it tried
        s3.delete_object(Bucket=VAULT, Key=KEY, VersionId=replica["VersionId"])


def test_the_canary_expiry_is_planned_applied_and_repaired(script, aws, tmp_path: Path):
    config = str(shop_config(tmp_path, LOCK))
    assert "canary expiry" in script("plan", "--config", config).stdout
    assert script("apply", "--config", config).status == 0
    s3 = aws.get("s3", "us-east-1")
    [rule] = s3.get_bucket_lifecycle_configuration(Bucket=VAULT)["Rules"]
    assert rule["ID"] == f"{RULE_ID_PREFIX}{RULE}"
    assert rule["Filter"]["Prefix"] == KEY and rule["Status"] == "Enabled"
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 2  # retention + a day
    again = script("apply", "--config", config)
    assert not [c for c in again.mutating if "Lifecycle" in c[1]]
    other = {"ID": "keep-me", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled",
             "Expiration": {"Days": 30}}
    s3.put_bucket_lifecycle_configuration(Bucket=VAULT,
                                          LifecycleConfiguration={"Rules": [other]})
    plan = script("plan", "--config", config)
    assert "canary expiry" in plan.stdout
    assert script("apply", "--config", config).status == 0
    ids = {r["ID"] for r in s3.get_bucket_lifecycle_configuration(Bucket=VAULT)["Rules"]}
    assert ids == {"keep-me", f"{RULE_ID_PREFIX}{RULE}"}  # the other rule is kept


def test_status_shows_each_locked_buckets_mode_and_period(script, aws, tmp_path: Path):
    """GetObjectLockConfiguration returns the bucket's default retention
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectLockConfiguration.html)."""
    config = str(shop_config(tmp_path, LOCK))
    assert script("apply", "--config", config).status == 0
    run = script("status", "--json", "--config", config)
    locks = json.loads(run.stdout)["object_lock"]
    assert locks == {VAULT: {"enabled": True, "mode": "COMPLIANCE", "days": 1}}
    text = script("status", "--config", config).stdout
    assert f"  {VAULT}: COMPLIANCE 1 day" in text
    assert not [c for c in run.mutating]
    # a config asking for more than the bucket keeps: attention, run apply
    longer = LOCK.replace("'days': 1", "'days': 30")
    again = script("status", "--config", str(shop_config(tmp_path, longer)))
    assert again.status == 3
    assert f"{VAULT}: COMPLIANCE 1 day (the config asks for COMPLIANCE 30 days: run apply)" \
        in again.stdout


LOCK_30 = LOCK.replace("'days': 1", "'days': 30")


def test_the_listing_audit_reports_replicas_without_or_with_short_retention(
        script, aws, tmp_path: Path):
    """GetObjectRetention on each replica of a locked destination
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectRetention.html); the rule:
    s3replication/inventory/retention.py. MiniStack gives replicas no retention (AWS gives the
    default): the test sets each replica's retention by hand, as S3 might have left it."""
    config = str(shop_config(tmp_path, LOCK_30))
    assert script("apply", "--config", config).status == 0
    s3 = aws.get("s3", "us-east-1")
    names = ("kept", "bare", "brief", "governed")
    for name in names:
        s3.put_object(Bucket="shopco-data-use1", Key=f"customers/{name}.json", Body=b"{}")
    replicas = {}
    for _ in range(100):
        listing = s3.list_object_versions(Bucket=VAULT, Prefix="customers/").get("Versions", [])
        replicas = {v["Key"]: v["VersionId"] for v in listing}
        if len(replicas) == len(names):
            break
        time.sleep(0.1)
    now = datetime.now(UTC)
    for name, mode, days in (("kept", "COMPLIANCE", 31), ("brief", "COMPLIANCE", 2),
                             ("governed", "GOVERNANCE", 31)):
        key = f"customers/{name}.json"
        s3.put_object_retention(Bucket=VAULT, Key=key, VersionId=replicas[key], Retention={
            "Mode": mode, "RetainUntilDate": now + timedelta(days=days)})
    run = script("audit", "--json", "--config", config)
    assert run.status == 3, run.stdout + run.stderr
    [rule] = [r for r in json.loads(run.stdout)["rules"] if r["rule"] == RULE]
    problems = {p["key"].split("/")[-1]: p["problem"] for p in rule["problems"]}
    assert problems == {"bare.json": "retention missing", "brief.json": "retention short",
                        "governed.json": "retention short"}, rule
    assert (rule["counts"]["retention_missing"], rule["counts"]["retention_short"]) == (1, 2)
    reads = [c for c in run.calls if c[1] == "GetObjectRetention"]
    assert len(reads) == len(names)  # one per replica of the locked destination, no more
    text = script("audit", "--config", config).stdout
    assert "1 without retention, 2 with retention short of the vault's default" in text
