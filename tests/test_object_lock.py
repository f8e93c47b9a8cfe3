"""Object Lock on a bucket (`BUCKETS[name]["object_lock"]`), and rules into a locked bucket.

What AWS does, which these tests hold the tool to (moto answers the calls; it enforces none of
this):

- A bucket gets Object Lock when created (CreateBucket ObjectLockEnabledForBucket), or later on
  any versioned bucket with PutObjectLockConfiguration ObjectLockEnabled=Enabled, no support
  ticket needed since November 2023; once enabled it cannot be disabled, nor versioning
  suspended (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-configure.html).
- The bucket's default retention applies to versions placed afterwards; changing it leaves
  stored versions' retention as it was
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html, "Bucket
  configuration"). DefaultRetention takes Days or Years, not both
  (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DefaultRetention.html).
- Replicating into a locked bucket: the destination needs Object Lock, the replication role
  needs s3:GetObjectRetention and s3:GetObjectLegalHold on the source objects, and delete
  markers are not protected by Object Lock ("Using Object Lock with S3 Replication" and
  "Managing delete markers with Object Lock",
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from s3replication.aws.clients import Clients
from s3replication.config import load_config
from s3replication.config.model import ObjectLockSpec
from s3replication.errors import ConfigError, ExitStatus
from s3replication.resources.object_lock import LOOSENS
from s3replication.resources.replication_rules import s3_rule
from tests.shop import run_script, shop_config

VAULT = "shopco-data-use1-backup"  # the destination of SRR rule customers-backup
SOURCE = "shopco-data-use1"
ROLE = "shopco-data-use1-replication"


def locked(lock: object, *more: str) -> str:
    return "\n".join((f"BUCKETS[{VAULT!r}]['object_lock'] = {lock!r}", *more))


def run(*argv: str) -> Any:
    return run_script("srr", *argv, clients=Clients)


def plan(config: str) -> Any:
    """A plan; it exits 3 under moto whatever the lock, since moto returns a lossy
    replication configuration (see test_apply_moto.py), so the lines are what is checked."""
    result = run("plan", "--config", config)
    assert result.status in (0, 3), result.stderr
    return result


def lock_of(s3: Any, bucket: str) -> Any:
    return s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]


# -- config ------------------------------------------------------------------------------


def test_object_lock_is_loaded_and_a_rule_into_it_leaves_delete_markers_out(tmp_path):
    config = load_config(shop_config(tmp_path, locked({"mode": "COMPLIANCE", "days": 30})))
    assert config.buckets[VAULT].object_lock == ObjectLockSpec("COMPLIANCE", days=30)
    assert config.buckets[SOURCE].object_lock is None
    into_vault = next(r for r in config.srr_rules if r.destination == VAULT)
    assert into_vault.delete_markers is False
    config = load_config(shop_config(tmp_path, locked({"mode": "GOVERNANCE", "years": 1})))
    assert config.buckets[VAULT].object_lock == ObjectLockSpec("GOVERNANCE", years=1)


def test_an_explicit_delete_markers_true_into_a_locked_bucket_stays(tmp_path):
    extra = locked({"mode": "COMPLIANCE", "days": 30},
                   'SRR_RULES[0]["delete_markers"] = True')
    config = load_config(shop_config(tmp_path, extra))
    assert config.srr_rules[0].destination == VAULT and config.srr_rules[0].delete_markers


BAD_LOCKS = [
    ("not-a-dict", "COMPLIANCE", ['["object_lock"]: must be a dict such as '
                                    '{"mode": "COMPLIANCE", "days": 30}, not "COMPLIANCE"']),
    ("no-mode", {"days": 3},
     ['["object_lock"]: "mode" is required ("COMPLIANCE" or "GOVERNANCE")']),
    ("bad-mode", {"mode": "compliance", "days": 3},
     ['["object_lock"]["mode"]: must be "COMPLIANCE" or "GOVERNANCE", not "compliance"']),
    ("neither", {"mode": "COMPLIANCE"},
     ['["object_lock"]: needs exactly one of "days" and "years", not neither']),
    ("both", {"mode": "COMPLIANCE", "days": 3, "years": 1},
     ['["object_lock"]: needs exactly one of "days" and "years", not both']),
    ("zero-days", {"mode": "COMPLIANCE", "days": 0},
     ['["object_lock"]["days"]: must be a whole number of days, 1 or more, not 0']),
    ("float-years", {"mode": "GOVERNANCE", "years": 1.5},
     ['["object_lock"]["years"]: must be a whole number of years, 1 or more, not 1.5']),
    ("bool-days", {"mode": "GOVERNANCE", "days": True},
     ['["object_lock"]["days"]: must be a whole number of days, 1 or more, not True']),
    ("unknown-key", {"mode": "COMPLIANCE", "day": 3},
     ['["object_lock"]: unknown key "day" (did you mean "days"?)',
      '["object_lock"]: needs exactly one of "days" and "years", not neither']),
]


@pytest.mark.parametrize(("lock", "expected"),
                         [pytest.param(lock, x, id=i) for i, lock, x in BAD_LOCKS])
def test_a_bad_object_lock_is_named_as_written(tmp_path, lock, expected):
    path = shop_config(tmp_path, locked(lock))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.exit_status == ExitStatus.BAD_INPUT
    assert caught.value.problems == [f'BUCKETS["{VAULT}"]{x}' for x in expected]


def test_object_lock_problems_come_in_one_pass_with_the_others(tmp_path):
    extra = locked({"mode": "COMPLIANCE", "days": -1}, 'SRR_RULES[0]["prefx"] = "x/"')
    with pytest.raises(ConfigError) as caught:
        load_config(shop_config(tmp_path, extra))
    assert len(caught.value.problems) == 2
    assert any('["object_lock"]["days"]' in p for p in caught.value.problems)
    assert any('unknown key "prefx"' in p for p in caught.value.problems)


# -- apply, plan, destroy (moto) ---------------------------------------------------------


def test_apply_creates_a_locked_bucket_with_its_default_retention(moto_clients, tmp_path):
    config = str(shop_config(tmp_path, locked({"mode": "COMPLIANCE", "days": 30})))
    result = run("apply", "--config", config)
    assert result.status == 0, result.stderr
    create = [c for c in result.calls if c[1] == "CreateBucket"]
    assert create, result.calls
    s3 = moto_clients.get("s3", "us-east-1")
    assert lock_of(s3, VAULT)["ObjectLockEnabled"] == "Enabled"
    retention = lock_of(s3, VAULT)["Rule"]["DefaultRetention"]
    assert (retention["Mode"], retention["Days"]) == ("COMPLIANCE", 30)
    assert s3.get_bucket_versioning(Bucket=VAULT)["Status"] == "Enabled"
    with pytest.raises(Exception, match="ObjectLockConfigurationNotFound"):
        s3.get_object_lock_configuration(Bucket=SOURCE)  # only the bucket that says so
    again = plan(config)
    assert "object lock" not in again.stdout, again.stdout


def test_apply_enables_object_lock_on_an_existing_versioned_bucket(moto_clients, tmp_path):
    unlocked = str(shop_config(tmp_path))
    assert run("apply", "--config", unlocked).status == 0
    s3 = moto_clients.get("s3", "us-east-1")
    with pytest.raises(Exception, match="ObjectLockConfigurationNotFound"):
        s3.get_object_lock_configuration(Bucket=VAULT)
    config = str(shop_config(tmp_path, locked({"mode": "GOVERNANCE", "years": 1})))
    planned = plan(config)
    assert "+ object lock" in planned.stdout, planned.stdout
    result = run("apply", "--config", config)
    assert result.status == 0, result.stderr
    puts = [c for c in result.mutating if c[1] == "PutObjectLockConfiguration"]
    assert len(puts) == 1 and not [c for c in result.calls if c[1] == "CreateBucket"]
    assert lock_of(s3, VAULT)["Rule"]["DefaultRetention"]["Mode"] == "GOVERNANCE"
    assert lock_of(s3, VAULT)["Rule"]["DefaultRetention"]["Years"] == 1


@pytest.mark.parametrize(("before", "after", "loosens"), [
    ({"mode": "COMPLIANCE", "days": 30}, {"mode": "COMPLIANCE", "days": 7}, True),
    ({"mode": "COMPLIANCE", "days": 30}, {"mode": "GOVERNANCE", "days": 30}, True),
    ({"mode": "COMPLIANCE", "years": 1}, {"mode": "COMPLIANCE", "days": 364}, True),
    ({"mode": "COMPLIANCE", "days": 30}, {"mode": "COMPLIANCE", "days": 90}, False),
    ({"mode": "GOVERNANCE", "days": 30}, {"mode": "COMPLIANCE", "days": 30}, False),
], ids=["shorter", "compliance-to-governance", "years-to-fewer-days", "longer",
        "governance-to-compliance"])
def test_plan_shows_retention_drift_and_marks_a_loosening(moto_clients, tmp_path, before,
                                                           after, loosens):
    assert run("apply", "--config", str(shop_config(tmp_path, locked(before)))).status == 0
    config = str(shop_config(tmp_path, locked(after)))
    planned = plan(config)
    line = next(line for line in planned.stdout.splitlines() if "object lock" in line)
    assert line.lstrip().startswith("~ object lock"), planned.stdout
    assert (LOOSENS in line) is loosens, line
    assert run("apply", "--config", config).status == 0  # AWS allows either way
    retention = lock_of(moto_clients.get("s3", "us-east-1"), VAULT)["Rule"]["DefaultRetention"]
    assert retention["Mode"] == after["mode"]
    assert "object lock" not in plan(config).stdout


def test_a_retention_changed_outside_the_tool_is_drift_and_repaired(moto_clients, tmp_path):
    config = str(shop_config(tmp_path, locked({"mode": "COMPLIANCE", "days": 30})))
    assert run("apply", "--config", config).status == 0
    s3 = moto_clients.get("s3", "us-east-1")
    s3.put_object_lock_configuration(Bucket=VAULT, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
    planned = plan(config)
    assert "~ object lock" in planned.stdout and LOOSENS not in planned.stdout, planned.stdout
    assert run("apply", "--config", config).status == 0
    assert lock_of(s3, VAULT)["Rule"]["DefaultRetention"]["Mode"] == "COMPLIANCE"


def test_taking_object_lock_out_of_the_config_is_a_note_not_a_change(moto_clients, tmp_path):
    assert run("apply", "--config", str(shop_config(
        tmp_path, locked({"mode": "COMPLIANCE", "days": 30})))).status == 0
    config = str(shop_config(tmp_path))
    planned = plan(config)
    assert "~ object lock" not in planned.stdout and "- object lock" not in planned.stdout
    text = planned.stdout + planned.stderr
    assert f"{VAULT}" in text and "has Object Lock (COMPLIANCE 30 days by default)" in text
    assert "cannot be turned off" in text
    result = run("apply", "--config", config)
    assert result.status == 0
    assert not [c for c in result.mutating if "ObjectLock" in c[1]]
    assert lock_of(moto_clients.get("s3", "us-east-1"), VAULT)["Rule"]["DefaultRetention"][
        "Days"] == 30


def test_destroy_leaves_object_lock_and_versioning(moto_clients, tmp_path):
    config = str(shop_config(tmp_path, locked({"mode": "COMPLIANCE", "days": 30})))
    assert run("apply", "--config", config).status == 0
    result = run("destroy", "--yes", "--config", config)
    assert result.status == 0, result.stderr
    assert not [c for c in result.mutating if "ObjectLock" in c[1] or "Versioning" in c[1]]
    s3 = moto_clients.get("s3", "us-east-1")
    assert lock_of(s3, VAULT)["Rule"]["DefaultRetention"]["Days"] == 30
    assert s3.get_bucket_versioning(Bucket=VAULT)["Status"] == "Enabled"


# -- rules into a locked bucket ----------------------------------------------------------


def role_actions(moto_clients: Any) -> dict[str, set[str]]:
    iam = moto_clients.get("iam", "us-east-1")
    document = iam.get_role_policy(RoleName=ROLE, PolicyName="s3-replication-srr")[
        "PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    found: dict[str, set[str]] = {}
    for statement in document["Statement"]:
        actions = statement["Action"]
        for action in [actions] if isinstance(actions, str) else actions:
            resources = statement["Resource"]
            found.setdefault(action, set()).update(
                [resources] if isinstance(resources, str) else resources)
    return found


def test_the_role_reads_source_retention_and_legal_hold_for_a_locked_destination(
        moto_clients, tmp_path):
    assert run("apply", "--config", str(shop_config(tmp_path))).status == 0
    assert "s3:GetObjectRetention" not in role_actions(moto_clients)
    config = str(shop_config(tmp_path, locked({"mode": "COMPLIANCE", "days": 30})))
    assert run("apply", "--config", config).status == 0
    actions = role_actions(moto_clients)
    for action in ("s3:GetObjectRetention", "s3:GetObjectLegalHold"):
        assert actions[action] == {f"arn:aws:s3:::{SOURCE}/*"}


def delete_marker_status(config: Any) -> str:
    """The DeleteMarkerReplication the rule into the vault is written with (moto reads back
    a lossy configuration that always says Disabled, so the rule is built as apply builds it)."""
    rule = next(r for r in config.srr_rules if r.destination == VAULT)
    return str(s3_rule(rule, 0, "us-east-1", True, "arn:aws:kms:us-east-1:1:key/k")[
        "DeleteMarkerReplication"]["Status"])


def test_a_rule_into_a_locked_bucket_does_not_replicate_delete_markers(tmp_path):
    assert delete_marker_status(load_config(shop_config(tmp_path))) == "Enabled"
    config = load_config(shop_config(tmp_path, locked({"mode": "COMPLIANCE", "days": 30})))
    assert delete_marker_status(config) == "Disabled"


def test_delete_markers_true_into_a_locked_bucket_is_kept_with_a_note(moto_clients, tmp_path):
    path = shop_config(tmp_path, locked({"mode": "COMPLIANCE", "days": 30},
                                        'SRR_RULES[0]["delete_markers"] = True'))
    assert delete_marker_status(load_config(path)) == "Enabled"
    planned = plan(str(path))
    note = "delete_markers is True into shopco-data-use1-backup, which has Object Lock"
    assert note in planned.stdout + planned.stderr
    default = plan(str(shop_config(tmp_path, locked({"mode": "COMPLIANCE", "days": 30}))))
    assert note not in default.stdout + default.stderr


def test_a_rule_into_a_bucket_locked_outside_the_config_is_a_note(moto_clients, tmp_path):
    s3 = moto_clients.get("s3", "us-east-1")
    s3.create_bucket(Bucket=VAULT, ObjectLockEnabledForBucket=True)
    planned = plan(str(shop_config(tmp_path)))
    text = planned.stdout + planned.stderr
    assert f'BUCKETS["{VAULT}"] has no "object_lock"' in text
    assert "rules into it (customers-backup)" in text


def test_object_lock_permissions_are_in_the_callers_policy_for_apply_and_plan() -> None:
    from s3replication.commands.permission_needs import APPLY, BOTH, NEEDS, PLAN
    rows = {(n.action, c) for n in NEEDS for c in n.commands if n.accounts == BOTH}
    assert ("s3:GetBucketObjectLockConfiguration", PLAN) in rows
    assert ("s3:GetBucketObjectLockConfiguration", APPLY) in rows
    assert ("s3:PutBucketObjectLockConfiguration", APPLY) in rows
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert "s3:PutBucketObjectLockConfiguration" in readme
