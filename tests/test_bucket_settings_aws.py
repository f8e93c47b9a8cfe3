"""Bucket settings as AWS really behaves, where the emulators are kinder:

- An adopted bucket whose ACL grants anyone but the owner keeps its object ownership: AWS
  refuses BucketOwnerEnforced then (InvalidBucketAclWithObjectOwnership,
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-error-responses.html),
  and disabling ACLs cuts off whoever they grant
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-migrating-acls-prerequisites.html).
  MiniStack refuses it the same way; its new buckets report BucketOwnerEnforced, so the test
  sets ObjectWriter and grants first.
- Versioning may take up to 15 minutes to take effect after it is first enabled
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/manage-versioning-examples.html).
  Neither emulator has that delay: a botocore handler makes GetBucketVersioning read what S3
  may answer meanwhile, and the wait's clock is a fake one, so 15 minutes take no time.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from s3replication.aws.clients import Clients
from s3replication.config import load_config
from s3replication.output.progress import Clock
from s3replication.resources import buckets, versioning
from tests.replicas import World
from tests.shop import run_script, shop_config

SOURCE = "shopco-data-use1"
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
REGIONS = ("us-east-1", "us-west-2", "eu-west-1")


# -- Defect 7: ACL users keep their access ----------------------------------------------


def grant_acl_users(s3: Any, bucket: str) -> None:
    """ACLs on (ObjectWriter), the bucket ACL granting the log delivery group and a partner."""
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    owner = s3.get_bucket_acl(Bucket=bucket)["Owner"]
    s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={"Owner": owner, "Grants": [
        {"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]}, "Permission": "FULL_CONTROL"},
        {"Grantee": {"Type": "Group", "URI": LOG_DELIVERY}, "Permission": "WRITE"},
        {"Grantee": {"Type": "Group", "URI": LOG_DELIVERY}, "Permission": "READ_ACP"},
        {"Grantee": {"Type": "CanonicalUser", "ID": "partner0canonical0id"},
         "Permission": "READ"}]})


def ownership_of(s3: Any, bucket: str) -> str:
    return s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"][0][
        "ObjectOwnership"]


@pytest.fixture
def world(ministack_endpoint: str, reset_ministack, tmp_path: Path) -> World:
    made = World.make(ministack_endpoint, tmp_path)
    made.apply("crr")
    return made


def test_a_bucket_whose_acl_grants_others_keeps_its_ownership_with_a_note(world):
    s3 = world.s3(SOURCE)
    grant_acl_users(s3, SOURCE)

    status, planned = world.run_json("crr", "plan")
    assert status == 0, planned  # a note, not a change that apply could never make
    assert [c for c in planned["changes"] if c["setting"] == "object ownership"] == []
    [note] = [n for n in planned["notes"] if "object ownership" in n]
    assert f"bucket {SOURCE} (us-east-1): object ownership left at ObjectWriter" in note
    assert "group s3/LogDelivery (READ_ACP, WRITE)" in note
    assert "canonical user partner0canonical0id (READ)" in note
    assert "InvalidBucketAclWithObjectOwnership" in note

    applied = world.run("crr", "apply")
    assert applied.status == 0, applied.stdout + applied.stderr
    assert "group s3/LogDelivery (READ_ACP, WRITE)" in applied.stdout
    assert not [c for c in applied.calls if c[1] == "PutBucketOwnershipControls"]
    assert ownership_of(s3, SOURCE) == "ObjectWriter"
    assert len(s3.get_bucket_acl(Bucket=SOURCE)["Grants"]) == 4  # nobody lost access
    log = Path(world.config.log_file).read_text()
    assert "note: bucket shopco-data-use1 (us-east-1): object ownership left at" in log


def test_once_the_acl_grants_only_the_owner_apply_enforces_bucket_ownership(world):
    s3 = world.s3(SOURCE)
    grant_acl_users(s3, SOURCE)
    s3.put_bucket_acl(Bucket=SOURCE, ACL="private")  # the grants moved to the bucket policy
    status, planned = world.run_json("crr", "plan")
    assert status == 3
    assert [(c["setting"], c["current"], c["wanted"]) for c in planned["changes"]] == [
        ("object ownership", "ObjectWriter", "BucketOwnerEnforced")]
    assert not any("object ownership" in n for n in planned["notes"])
    assert world.run("crr", "apply").status == 0
    assert ownership_of(s3, SOURCE) == "BucketOwnerEnforced"


def test_grantees_are_named_and_the_owner_is_not():
    acl = {"Owner": {"ID": "owner1"}, "Grants": [
        {"Grantee": {"Type": "CanonicalUser", "ID": "owner1"}, "Permission": "FULL_CONTROL"},
        {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
         "Permission": "READ"},
        {"Grantee": {"Type": "AmazonCustomerByEmail", "EmailAddress": "ops@example.com"},
         "Permission": "WRITE"},
        {"Grantee": {"Type": "CanonicalUser", "ID": "x9", "DisplayName": "partner"},
         "Permission": "READ"}]}
    assert buckets.acl_grantees(acl) == (
        "canonical user partner (READ)", "group global/AllUsers (READ)",
        "user ops@example.com (WRITE)")
    assert buckets.acl_grantees({"Owner": {"ID": "o"}, "Grants": [
        {"Grantee": {"Type": "CanonicalUser", "ID": "o"}, "Permission": "FULL_CONTROL"}]}) == ()


# -- Defect 8: apply waits for versioning to take effect ---------------------------------


class FakeClock:
    """A clock per thread (lanes wait in parallel), advanced only by `sleep`."""

    def __init__(self) -> None:
        self._local = threading.local()
        self.slept: dict[int, float] = defaultdict(float)

    def now(self) -> float:
        return getattr(self._local, "t", 0.0)

    def sleep(self, seconds: float) -> None:
        self._local.t = self.now() + seconds
        self.slept[threading.get_ident()] += seconds

    def clock(self) -> Clock:
        return Clock(now=self.now, sleep=self.sleep)


def lag_versioning(clients: Clients, polls: int) -> None:
    """After each PutBucketVersioning, the next `polls` GetBucketVersioning of that bucket read
    no status yet, as S3 may while the change propagates."""
    lag: dict[str, int] = {}

    def remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["lag_bucket"] = params.get("Bucket")

    def enabled(context: dict[str, Any], **_: Any) -> None:
        lag[context["lag_bucket"]] = polls

    def read(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        bucket = context["lag_bucket"]
        if lag.get(bucket, 0) > 0:
            lag[bucket] -= 1
            parsed.pop("Status", None)

    for region in REGIONS:
        events = clients.get("s3", region).meta.events
        events.register("before-parameter-build.s3.PutBucketVersioning", remember)
        events.register("before-parameter-build.s3.GetBucketVersioning", remember)
        events.register("after-call.s3.PutBucketVersioning", enabled)
        events.register("after-call.s3.GetBucketVersioning", read)


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(versioning, "WAIT", fake.clock())
    return fake


def test_apply_waits_until_versioning_reads_enabled_and_says_so(moto_clients, tmp_path,
                                                                fake_clock, capsys):
    lag_versioning(moto_clients, polls=3)
    config = str(shop_config(tmp_path))
    run = run_script("crr", "apply", "--config", config, clients=lambda: moto_clients)
    assert run.status == 0, run.stdout + run.stderr
    progress = capsys.readouterr().err
    assert (f"bucket {SOURCE} (us-east-1): versioning enabled, waiting for it to take effect: "
            "waiting (up to 900 s)") in progress
    assert f"bucket {SOURCE} (us-east-1): versioning enabled, waiting for it to take effect: " \
        "done after 7 s" in progress  # three polls that read nothing: 1 + 2 + 4 s
    assert fake_clock.slept and max(fake_clock.slept.values()) <= 900
    names = [op for _, op, _ in run.calls]
    last_read = max(i for i, op in enumerate(names) if op == "GetBucketVersioning")
    assert names.index("PutBucketReplication") > last_read  # no rule before versioning is on


def test_apply_gives_up_after_15_minutes_with_one_line_and_writes_no_rule(moto_clients, tmp_path,
                                                                         fake_clock, capsys):
    lag_versioning(moto_clients, polls=10**6)
    config = str(shop_config(tmp_path))
    run = run_script("crr", "apply", "--config", config, clients=lambda: moto_clients)
    assert run.status == 1
    assert (f"bucket {SOURCE} (us-east-1): versioning still does not read Enabled 900 s after "
            "it was enabled; run apply again later") in run.stderr
    assert "PutBucketReplication" not in [op for _, op, _ in run.calls]
    gave_up = capsys.readouterr().err.count("giving up")
    assert gave_up >= 1
    # each bucket's wait: 900 s, not longer. The fake clock is per thread and its sleeps take
    # no time, so a pool thread may run two buckets' lanes one after the other: count per wait.
    assert all(total % 900.0 == 0 for total in fake_clock.slept.values())
    assert sum(fake_clock.slept.values()) == 900.0 * gave_up


def test_apply_records_when_it_enabled_versioning(moto_clients, tmp_path, monkeypatch):
    stamp = buckets.utc_now().replace(microsecond=0)
    monkeypatch.setattr(versioning, "utc_now", lambda: stamp)
    config = str(shop_config(tmp_path))
    assert run_script("crr", "apply", "--config", config,
                      clients=lambda: moto_clients).status == 0
    tags = moto_clients.get("s3", "us-east-1").get_bucket_tagging(Bucket=SOURCE)["TagSet"]
    found = {t["Key"]: t["Value"] for t in tags}
    assert buckets.versioning_enabled_at(found) == stamp
    assert found["project"] == "shopco"  # the config's tags are still there
    again = run_script("crr", "plan", "--json", "--config", config, clients=lambda: moto_clients)
    # the record is not drift (moto's lossy replication read-back is, so only buckets count)
    assert [c for c in json.loads(again.stdout)["changes"]
            if c["resource"].startswith("bucket") and c["setting"] != "replication rules"] == []


def verify_json(config: str, clients: Clients) -> tuple[int, dict[str, Any]]:
    run = run_script("crr", "verify", "--timeout", "0.2", "--json", "--config", config,
                     clients=lambda: clients)
    return run.status, json.loads(run.stdout)


def test_verify_right_after_a_first_apply_says_versioning_is_taking_effect(moto_clients, tmp_path,
                                                                          monkeypatch):
    """moto replicates nothing, so every canary stays unreplicated: within 15 minutes of the
    apply that enabled versioning that is "still taking effect", later a failure."""
    config = str(shop_config(tmp_path))
    assert run_script("crr", "apply", "--config", config,
                      clients=lambda: moto_clients).status == 0
    config_of = load_config(config)
    for rule in config_of.rules("crr"):  # moto counts its requests as plain HTTP: no TLS-only
        for name in (rule.source, rule.destination):
            spec = config_of.buckets[name]
            moto_clients.get("s3", spec.region).delete_bucket_policy(Bucket=name)
    status, data = verify_json(config, moto_clients)
    assert status == 3
    for r in data["rules"]:
        assert (r["replicated"], r["ok"], r["error"]) == (False, False, None), r
        assert r["versioning_settling"]["bucket"] in (r["source"], r["destination"])
    text = run_script("crr", "verify", "--timeout", "0.2", "--config", config,
                      clients=lambda: moto_clients).stdout
    assert "WAIT   catalog-usw2: shopco-data-use1 -> shopco-data-usw2: not replicated yet: " \
           "versioning still taking effect on shopco-data-use1" in text
    assert "4 of 4 rules did not replicate in time. 4 of them wait for versioning to take "\
           "effect." in text, text

    later = buckets.utc_now() + timedelta(minutes=15, seconds=1)
    monkeypatch.setattr(buckets, "utc_now", lambda: later)
    status, data = verify_json(config, moto_clients)
    assert status == 3
    assert [r["versioning_settling"] for r in data["rules"]] == [None] * len(data["rules"])
    text = run_script("crr", "verify", "--timeout", "0.2", "--config", config,
                      clients=lambda: moto_clients).stdout
    assert "FAILED catalog-usw2: shopco-data-use1 -> shopco-data-usw2: not replicated" in text
