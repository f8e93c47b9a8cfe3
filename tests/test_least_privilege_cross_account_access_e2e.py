"""Least privilege across accounts, enforced by the IAM-enforcing MiniStack (AUTH=true, HTTPS):
an IAM user of the caller's account (000000000000) holding only the caller's policies that
`permissions` prints, reaching the backup account (222222222222) by assuming a role there that
holds only the backup account's printed policies (the role trusts that user:
https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_permissions-to-switch.html).

- With exactly those, apply, plan, verify, audit and destroy of a config whose destination
  lives in the backup account succeed.
- Without one action of the backup account's policy (a few, each in turn), apply exits 1 and
  names it; likewise without sts:AssumeRole in the caller's.

tests/test_least_privilege_e2e.py covers every action of the caller's own account this way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest

from s3replication.commands import caller_policies
from s3replication.commands.permission_needs import Need
from s3replication.config import load_config
from tests.shop import Run, run_script, shop_config
from tests.test_least_privilege_e2e import MINISTACK_RESOURCE, as_root, factory, reset, user_with

pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")

CALLER, BACKUP = "000000000000", "222222222222"  # MiniStack: each access key is that root
ADMIN = "xa-lp-admin"
LABEL = f"{BACKUP} (backup)"
CONFIG = f'''
ACCOUNTS = {{"backup": {{"account_id": "{BACKUP}",
                       "role_arn": "arn:aws:iam::{BACKUP}:role/{ADMIN}"}}}}
BUCKETS = {{
    "xa-lp-orders": {{"region": "us-east-1", "kms_key": "alias/xa-lp-orders"}},
    "xa-lp-vault": {{"region": "us-west-2", "kms_key": "alias/xa-lp-vault", "account": "backup"}},
}}
CRR_RULES = [{{"id": "vault", "source": "xa-lp-orders", "destination": "xa-lp-vault",
               "prefix": "orders/"}}]
SRR_RULES = []
'''
NEVER = lambda need: False  # noqa: E731
# Beyond tests/test_least_privilege_e2e.py's MINISTACK_RESOURCE: what MiniStack checks against
# another resource than AWS does, in the calls made only in another account.
MINISTACK_RESOURCE_THERE = {
    **MINISTACK_RESOURCE,
    "kms:DescribeKey": "MiniStack checks DescribeKey by alias (the replica key of a grant) "
                       "against the alias ARN; AWS checks the key it names "
                       "(https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeKey.html)",
}


def policies(config: Path, drop: Callable[[Need], bool] = NEVER) -> dict[str, list[dict]]:
    return caller_policies.policies(load_config(config), CALLER, drop=drop)


def with_ministack_resource(documents: list[dict]) -> list[dict]:
    """As tests/test_least_privilege_e2e.py's user_with: where MiniStack checks another
    resource than AWS does, the action on "*" too, only while the documents grant it."""
    granted = json.dumps(documents)
    deviations = sorted(a for a in MINISTACK_RESOURCE_THERE if f'"{a}"' in granted)
    if not deviations:
        return documents
    return [*documents, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": deviations, "Resource": "*"}]}]


def backup_role(endpoint: str, trusted: str, documents: list[dict]) -> None:
    """The backup account's role the scripts assume, trusting `trusted`, created by that
    account's root, with `documents` as its inline policies."""
    session = boto3.Session(aws_access_key_id=BACKUP, aws_secret_access_key="test",
                            region_name="us-east-1")
    iam = session.client("iam", endpoint_url=endpoint, verify=False)
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": trusted}, "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName=ADMIN, AssumeRolePolicyDocument=json.dumps(trust))
    for n, document in enumerate(with_ministack_resource(documents)):
        iam.put_role_policy(RoleName=ADMIN, PolicyName=f"{ADMIN}-{n}",
                            PolicyDocument=json.dumps(document))


def world(endpoint: str, config: Path, caller: list[dict],
          backup: list[dict]) -> Callable[..., Run]:
    """The user (with `caller`) and the role it assumes (with `backup`); runs as that user."""
    keys = user_with(endpoint, caller)
    sts = factory(endpoint, *keys)().get("sts", "us-east-1")
    backup_role(endpoint, sts.get_caller_identity()["Arn"], backup)

    def run(*argv: str) -> Run:
        return run_script("crr", *argv, "--config", str(config),
                          clients=factory(endpoint, *keys))

    return run


@pytest.fixture
def auth_config(ministack_auth_endpoint: str, tmp_path: Path) -> tuple[str, Path]:
    reset(ministack_auth_endpoint)
    return ministack_auth_endpoint, shop_config(tmp_path, base=CONFIG)


def test_the_printed_policies_of_both_accounts_suffice(auth_config) -> None:
    endpoint, config = auth_config
    printed = policies(config)
    assert list(printed) == [CALLER, LABEL]
    run = world(endpoint, config, printed[CALLER], printed[LABEL])
    for argv, wanted in ((("permissions",), 0), (("apply",), 0), (("plan",), 0),
                         (("verify", "--timeout", "20"), 0), (("audit",), 0)):
        done = run(*argv)
        assert done.status == wanted, f"{argv}: {done.stdout}\n{done.stderr}"
    # the replica landed in the backup account, owned there (replication-change-owner.html)
    vault = boto3.Session(aws_access_key_id=BACKUP, aws_secret_access_key="test").client(
        "s3", region_name="us-west-2", endpoint_url=endpoint, verify=False)
    as_root(endpoint).get("s3", "us-east-1").put_object(
        Bucket="xa-lp-orders", Key="orders/1.json", Body=b"{}")
    done = run("audit")
    assert done.status in (0, 3), done.stderr  # 3: still pending, MiniStack is asynchronous
    assert vault.get_bucket_versioning(Bucket="xa-lp-vault")["Status"] == "Enabled"
    done = run("destroy", "--yes")
    assert done.status == 0, f"destroy: {done.stdout}\n{done.stderr}"
    policy = json.loads(vault.get_bucket_policy(Bucket="xa-lp-vault")["Policy"])
    assert not [s for s in policy["Statement"] if s["Sid"].startswith("S3ReplicationCrrRep")]


# A few of the backup account's actions, each needed by apply on a fresh world (the bucket,
# its key, and the grants in their policies), and the caller's sts:AssumeRole.
REMOVED = ["s3:CreateBucket", "s3:PutBucketVersioning", "s3:PutBucketPolicy", "kms:CreateKey",
           "kms:GetKeyPolicy", "kms:PutKeyPolicy"]


@pytest.mark.parametrize("action", [*REMOVED, "sts:AssumeRole"])
def test_without_one_action_apply_names_it(auth_config, action: str) -> None:
    endpoint, config = auth_config
    full = policies(config)
    without = policies(config, drop=lambda need: need.action == action)
    there = not action.startswith("sts:")  # removed from the backup account's policy
    caller, backup = (full[CALLER], without[LABEL]) if there else (without[CALLER], full[LABEL])
    assert f'"{action}"' not in json.dumps(backup if there else caller)
    done = world(endpoint, config, caller, backup)("apply")
    lines = done.stderr.splitlines()
    assert done.status == 1, f"apply without {action}: {done.stdout}\n{done.stderr}"
    assert lines and all(line.startswith("error: ") for line in lines), done.stderr
    assert any(action in line for line in lines), f"{action} not named:\n{done.stderr}"
    assert "Traceback" not in done.stderr

