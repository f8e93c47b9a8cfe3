"""ACCOUNTS[name]["admin_profile"]: the named AWS profile of another account's own
administrators, through which every write in that account goes (README "Replicas in a
separate backup account").

A named profile is one of the shared config files'
(https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-files.html). A bucket under
Object Lock in another account needs it: Object Lock protects versions from deletion, but the
bucket's policy, key policy, lifecycle and retention settings are changed by whoever holds
write permissions on the bucket
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html), so those
must not be production's.
"""

from __future__ import annotations

from pathlib import Path

from s3replication.config import AccountSpec, load_config
from tests.test_config import DELETE, config_error, cross_account, write_config

LOCK = {"mode": "COMPLIANCE", "days": 30}


def test_admin_profile_is_loaded(tmp_path: Path) -> None:
    settings = cross_account({("ACCOUNTS", "backup", "admin_profile"): "backup-admins"})
    config = load_config(write_config(tmp_path, settings))
    assert config.accounts["backup"] == AccountSpec(
        "backup", "222222222222", "arn:aws:iam::222222222222:role/backup-admin", None,
        "backup-admins")
    assert config.accounts["vault"].admin_profile is None


def test_admin_profile_must_be_a_non_empty_str(tmp_path: Path) -> None:
    for value, shown in (("", '""'), (7, "7"), (["p"], "['p']")):
        error = config_error(tmp_path, cross_account(
            {("ACCOUNTS", "backup", "admin_profile"): value}))
        assert error.problems == [
            f'ACCOUNTS["backup"]["admin_profile"]: must be a non-empty str (the named AWS '
            f"profile of that account's administrators), not {shown}"], error.problems


def test_a_locked_bucket_in_another_account_needs_its_admin_profile(tmp_path: Path) -> None:
    error = config_error(tmp_path, cross_account(
        {("BUCKETS", "dst-usw2", "object_lock"): LOCK}))
    # (until object_lock is a known bucket key, the bucket's checks name it too)
    found = [p for p in error.problems if "admin_profile" in p]
    assert found == [
        'BUCKETS["dst-usw2"]["object_lock"]: the bucket is in account "backup" (222222222222), '
        'which has no "admin_profile"; set ACCOUNTS["backup"]["admin_profile"] to the named '
        "AWS profile of that account's own administrators (a vault production can change is "
        "not a vault)"]


def test_a_locked_bucket_with_admin_profile_or_in_the_callers_account_is_no_such_problem(
        tmp_path: Path) -> None:
    for edits in ({("BUCKETS", "dst-usw2", "object_lock"): LOCK,
                   ("ACCOUNTS", "backup", "admin_profile"): "backup-admins"},
                  {("BUCKETS", "src-use1", "object_lock"): LOCK},
                  {("BUCKETS", "dst-usw2", "object_lock"): None},
                  {("BUCKETS", "dst-usw2", "account"): DELETE}):
        try:
            load_config(write_config(tmp_path, cross_account(edits)))
        except Exception as error:  # noqa: BLE001 - any other problem is not this one
            assert "admin_profile" not in str(error), edits
