"""Two ways into the backup account (ACCOUNTS[name]["admin_profile"]), against moto: every write
there goes through the admin profile's session, every read through `role_arn` (production's way
in); and an apply where the admin profile is not configured on this machine makes the
production side, shows the backup account's changes as pending, and exits 3 saying who must
run what.

- A named profile missing from the shared config files: botocore raises ProfileNotFound
  (https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-files.html,
  https://docs.aws.amazon.com/boto3/latest/guide/credentials.html).
- Read and write operations: the Service Authorization Reference's access levels, Read and
  List for the Get*, List*, Head*, Describe* operations the tool calls
  (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html,
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html).
- moto answers AssumeRole with credentials acting in the role's account (both the reader's
  and the admin's here); it evaluates no bucket policy conditions, so none is evaluated.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from s3replication.aws import accounts
from s3replication.aws.clients import Clients
from s3replication.config import AccountSpec
from tests.shop import Run, run_script

BACKUP = "222222222222"
READER = f"arn:aws:iam::{BACKUP}:role/vault-reader"
ADMIN = f"arn:aws:iam::{BACKUP}:role/vault-admins"
CONFIG = f'''
TAGS = {{"project": "vault-admin"}}
ACCOUNTS = {{"backup": {{"account_id": "{BACKUP}", "role_arn": "{READER}",
                         "admin_profile": "backup-admins"}}}}
BUCKETS = {{
    "va-orders": {{"region": "us-east-1", "kms_key": "alias/va-orders"}},
    "va-vault": {{"region": "us-west-2", "kms_key": "alias/va-vault", "account": "backup"}},
}}
CRR_RULES = [{{"id": "vault", "source": "va-orders", "destination": "va-vault",
               "delete_markers": False}}]
SRR_RULES = []
MONITORING = {{"sns_topic": "va-alerts", "alert_emails": [], "dashboard": None}}
'''
# A second source into the same vault: widens the vault's bucket and key policies.
MORE = '''
BUCKETS["va-invoices"] = {"region": "us-east-1", "kms_key": "alias/va-orders"}
CRR_RULES.append({"id": "invoices", "source": "va-invoices", "destination": "va-vault",
                  "delete_markers": False})
'''


def is_read(operation: str) -> bool:
    return operation.startswith(("Get", "List", "Head", "Describe"))


class Sessions:
    """Each API call, by the session that sent it: "caller", "reader" or "admin"."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.buckets: list[tuple[str, str, str]] = []  # (who, operation, Bucket) of S3 calls

    def tagged(self, session: boto3.Session, who: str) -> boto3.Session:
        def record(model: Any, params: dict[str, Any], **_: Any) -> None:
            self.calls.append((who, model.service_model.service_name, model.name))
            if "Bucket" in params:
                self.buckets.append((who, model.name, params["Bucket"]))

        session.events.register("before-parameter-build", record)
        return session

    def reach(self, account: AccountSpec, sts: Any) -> boto3.Session:
        return self.tagged(accounts.reach(account, sts), "reader")

    def reach_admin(self, account: AccountSpec) -> boto3.Session:
        sts = boto3.Session().client("sts", region_name="us-east-1")
        admin = AccountSpec(account.name, account.account_id, ADMIN)
        return self.tagged(accounts.assumed_role_session(admin, sts), "admin")

    def clients(self, admin: bool = True) -> Clients:
        return Clients(session=self.tagged(boto3.Session(), "caller"), reach=self.reach,
                       reach_admin=self.reach_admin if admin else None)

    def of(self, who: str) -> list[tuple[str, str]]:
        return [(service, op) for w, service, op in self.calls if w == who]


@pytest.fixture
def config(moto_clients: Clients, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    from moto.iam.access_control import PermissionResult
    from moto.s3.models import FakeBucket

    # moto applies a bucket policy's Deny without its conditions: the TLS-only statement would
    # refuse every request; bucket policies are not what this test checks.
    monkeypatch.setattr(FakeBucket, "get_permission",
                        lambda self, action, resource: PermissionResult.NEUTRAL)
    path = tmp_path / "s3_config.py"
    path.write_text(f"{CONFIG}\nLOG_FILE = {str(tmp_path / 'log.txt')!r}\n")
    yield path


def run(sessions: Sessions, config: Path, *argv: str, admin: bool = True) -> Run:
    return run_script("crr", *argv, "--config", str(config),
                      clients=lambda: sessions.clients(admin))


def vault_policy() -> dict[str, Any]:
    s3 = accounts.assumed_role_session(
        AccountSpec("backup", BACKUP, ADMIN), boto3.client("sts", region_name="us-east-1")
    ).client("s3", region_name="us-west-2")
    return dict(json.loads(s3.get_bucket_policy(Bucket="va-vault")["Policy"]))


def vault_changes(config: Path) -> list[dict[str, Any]]:
    """What plan would change in the backup account."""
    done = run(Sessions(), config, "--json", "plan")
    return [c for c in json.loads(done.stdout)["changes"] if "va-vault" in c["resource"]]


def test_writes_in_the_backup_account_go_through_the_admin_reads_through_the_reader(
        config: Path) -> None:
    sessions = Sessions()
    done = run(sessions, config, "apply")
    assert done.status == 0, done.stderr
    admin, reader = sessions.of("admin"), sessions.of("reader")
    assert admin and all(not is_read(op) for _, op in admin if op != "GetCallerIdentity")
    assert all(is_read(op) for _, op in reader), [c for c in reader if not is_read(c[1])]
    assert {("s3", "CreateBucket"), ("s3", "PutBucketPolicy"), ("s3", "PutBucketVersioning"),
            ("s3", "PutBucketEncryption"), ("kms", "CreateKey"), ("kms", "CreateAlias"),
            ("kms", "PutKeyPolicy")} <= set(admin)
    assert {("s3", "GetBucketPolicy"), ("s3", "GetBucketVersioning"),
            ("kms", "GetKeyPolicy")} <= set(reader)
    # every call on the vault bucket was the reader's or the admin's, never the caller's
    on_vault = {(who, is_read(op)) for who, op, bucket in sessions.buckets
                if bucket == "va-vault"}
    assert on_vault == {("reader", True), ("admin", False)}
    # read-only commands never reach the admin profile
    for argv in (("plan",), ("audit",)):
        sessions = Sessions()
        done = run(sessions, config, *argv)
        # (moto drops a rule's SourceSelectionCriteria: plan shows it again, exit 3)
        assert done.status in (0, 3), done.stdout + done.stderr
        assert sessions.of("reader") and sessions.of("admin") == [], argv
    assert vault_changes(config) == []


def test_apply_without_the_admin_profile_leaves_the_vault_pending_and_exits_3(
        config: Path) -> None:
    assert run(Sessions(), config, "apply").status == 0  # the vault, made by its admins
    config.write_text(config.read_text() + MORE)
    sessions = Sessions()
    # the real admin_session: "backup-admins" is not a profile of this machine
    done = run(sessions, config, "apply", admin=False)
    assert done.status == 3, done.stdout + done.stderr
    assert sessions.of("admin") == []
    assert "Pending, not made" in done.stdout
    assert ('the "backup" account\'s administrators (222222222222) must run: python '
            f"cr_replication.py --config {config} apply, with the AWS profile "
            '"backup-admins" (ACCOUNTS["backup"]["admin_profile"]) configured') in done.stdout
    # production's side was made: the new source, its role and its rule
    s3 = boto3.client("s3", region_name="us-east-1")
    rules = s3.get_bucket_replication(Bucket="va-invoices")["ReplicationConfiguration"]["Rules"]
    assert [r["ID"] for r in rules] == ["invoices"]
    # the vault's bucket policy was not widened: still naming the first source's role only
    assert "va-invoices-replication" not in json.dumps(vault_policy())
    pending = json.loads(run(Sessions(), config, "--json", "apply", admin=False).stdout)
    assert pending["status"] == 3
    # (moto drops a rule's SourceSelectionCriteria: the source rules show again, made)
    assert {(c["resource"], c["setting"], c.get("pending")) for c in pending["changes"]
            if "account backup" in c["resource"]} == {
        ("bucket va-vault (us-west-2, account backup)", "replication grant (policy)", "backup"),
        ("kms key alias/va-vault (us-west-2, account backup)",
         "replication grant (key policy)", "backup")}
    assert len(pending["waiting"]) == 1
    # with the admin profile, apply finishes the vault's side
    assert run(Sessions(), config, "apply").status == 0
    assert "va-invoices-replication" in json.dumps(vault_policy())
    assert vault_changes(config) == []


def actions(documents: list[dict[str, Any]]) -> set[str]:
    return {a for d in documents for s in d["Statement"] for a in s["Action"]}


def test_permissions_prints_the_readers_reads_and_the_admins_writes(config: Path) -> None:
    done = run(Sessions(), config, "permissions")
    assert done.status == 0, done.stderr
    printed = json.loads(done.stdout)
    assert list(printed) == ["123456789012", f"{BACKUP} (backup)", f"{BACKUP} (backup admin)"]
    reader, admin = actions(printed[f"{BACKUP} (backup)"]), actions(
        printed[f"{BACKUP} (backup admin)"])
    forbidden = ("Put", "Delete", "Create", "Schedule", "Disable", "Bypass", "Update")
    assert reader and not [a for a in reader if a.partition(":")[2].startswith(forbidden)]
    assert {"s3:GetBucketPolicy", "s3:ListBucketVersions", "kms:GetKeyPolicy",
            "kms:DescribeKey"} <= reader
    assert {"s3:CreateBucket", "s3:PutBucketPolicy", "s3:PutBucketVersioning",
            "kms:CreateKey", "kms:PutKeyPolicy", "s3:DeleteObjectVersion"} <= admin
    assert not [a for a in admin if a.partition(":")[2].startswith(("Get", "List", "Describe"))]
    # together, what one role needs without admin_profile
    config.write_text(config.read_text().replace('\n                         "admin_profile": '
                                                 '"backup-admins"', ""))
    alone = json.loads(run(Sessions(), config, "permissions").stdout)
    assert list(alone) == ["123456789012", f"{BACKUP} (backup)"]
    assert actions(alone[f"{BACKUP} (backup)"]) == reader | admin


def test_a_first_apply_without_the_admin_profile_leaves_the_whole_vault_pending(
        config: Path) -> None:
    """Nothing exists yet: the vault bucket, its key and every setting behind them are shown
    pending (planned from nothing, as a plan shows them), none written, none crashing. The
    role's permissions and the source's rule name the vault key's ARN, which does not exist
    before the vault's administrators made it: IAM refuses a policy naming a resource ARN that
    is not one (MalformedPolicyDocument,
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html),
    so they are held pending too, with a note, and the run exits 3 saying who must run what
    (moto accepts such a policy: the test checks nothing naming it was sent)."""
    sessions = Sessions()
    planned = json.loads(run(Sessions(), config, "--json", "plan").stdout)["changes"]
    done = run(sessions, config, "--json", "apply", admin=False)
    found = json.loads(done.stdout)
    assert done.status == 3, done.stdout + done.stderr
    assert "errors" not in found, found["errors"]
    # the plan listed every change apply made or left pending, in its order (issue 23)
    assert [(c["resource"], c["setting"], c["action"]) for c in planned] == [
        (c["resource"], c["setting"], c["action"]) for c in found["changes"]]
    there = [c for c in found["changes"] if "account backup" in c["resource"]]
    assert {(c["resource"], c["setting"]) for c in there} >= {
        ("bucket va-vault (us-west-2, account backup)", "bucket"),
        ("kms key alias/va-vault (us-west-2, account backup)", "alias")}
    assert all(c.get("pending") == "backup" for c in there), there
    held = {(c["resource"], c["setting"]) for c in found["changes"]
            if c.get("pending") == "backup" and "account backup" not in c["resource"]}
    assert ("bucket va-orders (us-east-1)", "replication rules") in held, found["changes"]
    assert any(r.startswith("role ") and s.startswith("permissions") for r, s in held), held
    assert any("names the KMS key of bucket va-vault" in n for n in found["notes"])
    assert len(found["waiting"]) == 1
    # nothing naming the key not made was sent: no role policy, no rule on the source
    sent = {op for _, op in sessions.of("caller")}
    assert not {"PutRolePolicy", "PutBucketReplication"} & sent, sent
    # production's side was made: the source bucket and its key
    s3 = boto3.client("s3", region_name="us-east-1")
    assert "va-orders" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    # once the vault's administrators ran apply, everything is made
    assert run(Sessions(), config, "apply").status == 0
    assert s3.get_bucket_replication(Bucket="va-orders")["ReplicationConfiguration"]["Rules"]
