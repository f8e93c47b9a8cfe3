"""The guardrails on a vault in another account (issue 21), end to end on a MiniStack that
enforces IAM (AUTH=true), read back and evaluated with MiniStack's IAM evaluator
(`ministack.core.iam_evaluator`, through tests/replication_access.py), never by string matching
alone:

- the vault's bucket policy grants production's principals replication and the versioning read
  only: no s3:PutBucketVersioning (AWS's cross-account walkthrough lists it, but the role's own
  policy never held it, and across accounts both must allow:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html,
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html#setting-repl-config-crossacct);
- the vault key's policy grants them kms:Encrypt and kms:Decrypt through S3, for the vault's
  encryption context only (https://docs.aws.amazon.com/AmazonS3/latest/userguide/
  replication-config-for-kms-objects.html), and no key-management action: the key policy is
  what controls access to a KMS key
  (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html);
- SSE-C writes are blocked on the vault and on the source (bucket encryption's
  BlockedEncryptionTypes: https://docs.aws.amazon.com/AmazonS3/latest/userguide/
  blocking-unblocking-s3-c-encryption-gpb.html; SSE-C re-encryption as a ransomware path:
  https://aws.amazon.com/blogs/security/preventing-unintended-encryption-of-amazon-s3-objects/).
  MiniStack stores BlockedEncryptionTypes but does not enforce it, so it is read back.

Each guardrail, removed by hand with the backup account's own keys, shows in `plan` (exit 3),
is restored by `apply`, and the next `plan` is clean; replication still completes.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.replication_access import (
    CONTEXT,
    KMS_OBJECTS,
    VIA,
    Access,
    cross_account_verdict,
    role_policies,
)
from tests.test_cross_account_e2e import (
    EAST,
    INTO,
    KEY_GRANT,
    OURS,
    THEIRS,
    VERSIONING,
    WEST,
    Backup,
    Make,
)
from tests.test_cross_account_e2e import backup as backup

pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")

KEY_MANAGEMENT = ("kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey",
                  "kms:CreateGrant", "kms:CancelKeyDeletion", "kms:DisableKeyRotation",
                  "kms:UpdateKeyDescription", "kms:DeleteAlias", "kms:UpdateAlias",
                  "kms:TagResource", "kms:ReEncryptFrom", "kms:GenerateDataKey")
BUCKET_LOOSENING = ("s3:PutBucketVersioning", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy",
                    "s3:PutEncryptionConfiguration", "s3:PutLifecycleConfiguration",
                    "s3:DeleteBucket")
SSE_C_BLOCKED = {"EncryptionType": ["SSE-C"]}


def production_principals(world: Backup) -> list[tuple[str, list[Any]]]:
    """The source's replication role with its policies as read back, and a principal of
    production that holds every permission in its own account (`*`)."""
    iam = world.ours.get("iam", EAST)
    name = world.role_arn.rsplit("/", 1)[-1]
    everything = [{"Version": "2012-10-17",
                   "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}]
    from ministack.core.iam_evaluator import parse_policy_document
    return [(world.role_arn, role_policies(iam, name)),
            (f"arn:aws:iam::{OURS}:role/production-admin",
             [parse_policy_document(d) for d in everything])]


def resource_verdicts(world: Backup, policy: dict[str, Any], accesses: list[Access]
                      ) -> dict[str, str]:
    """`principal action` -> the verdict of the vault's resource policy, and of both."""
    found = {}
    for principal, identity in production_principals(world):
        for access in accesses:
            verdict = cross_account_verdict(principal, identity, policy, THEIRS, access)
            found[f"{principal.rsplit('/', 1)[-1]} {access.action} {access.context}"] = (
                f"{verdict.resource}/{verdict.combined}")
    return found


def bucket_policy(world: Backup) -> dict[str, Any]:
    s3 = world.theirs.get("s3", WEST)
    return dict(json.loads(s3.get_bucket_policy(Bucket=world.vault)["Policy"]))


def key_policy(world: Backup) -> dict[str, Any]:
    kms = world.theirs.get("kms", WEST)
    return dict(json.loads(kms.get_key_policy(KeyId=world.key_arn(),
                                              PolicyName="default")["Policy"]))


def blocked(world: Backup, bucket: str, region: str, aws: Any) -> Any:
    rule = aws.get("s3", region).get_bucket_encryption(Bucket=bucket)[
        "ServerSideEncryptionConfiguration"]["Rules"][0]
    return rule.get("BlockedEncryptionTypes")


def test_production_may_replicate_into_the_vault_and_nothing_more(backup: Make) -> None:
    world = backup(True)
    world.config()
    world.ok("apply")
    vault = f"arn:aws:s3:::{world.vault}"
    loosening = [Access(a, vault, WEST, KMS_OBJECTS) for a in BUCKET_LOOSENING]
    loosening.append(Access("s3:DeleteObjectVersion", f"{vault}/ledger/1.csv", WEST, KMS_OBJECTS))
    found = resource_verdicts(world, bucket_policy(world), loosening)
    assert all(not v.startswith("Allow") and v.endswith("Deny") for v in found.values()), found

    key = world.key_arn()
    via = f"s3.{WEST}.amazonaws.com"
    management = [Access(a, key, WEST, KMS_OBJECTS) for a in KEY_MANAGEMENT]
    management += [Access(a, key, WEST, KMS_OBJECTS, {VIA: via, CONTEXT: vault})
                   for a in KEY_MANAGEMENT]
    found = resource_verdicts(world, key_policy(world), management)
    assert all(not v.startswith("Allow") and v.endswith("Deny") for v in found.values()), found

    # encrypt and decrypt through S3, for the vault's objects only
    role = world.role_arn.rsplit("/", 1)[-1]
    uses = [Access(a, key, WEST, KMS_OBJECTS, {VIA: via, CONTEXT: arn})
            for a in ("kms:Encrypt", "kms:Decrypt")
            for arn in (vault, f"{vault}/ledger/1.csv", "arn:aws:s3:::elsewhere")]
    uses += [Access("kms:Decrypt", key, WEST, KMS_OBJECTS, {CONTEXT: vault})]  # not via S3
    found = {k: v for k, v in resource_verdicts(world, key_policy(world), uses).items()
             if k.startswith(role)}
    allowed = sorted(k for k, v in found.items() if v.startswith("Allow"))
    assert allowed == sorted(
        f"{role} {a} {{'{VIA}': '{via}', '{CONTEXT}': '{arn}'}}"
        for a in ("kms:Encrypt", "kms:Decrypt") for arn in (vault, f"{vault}/ledger/1.csv")
    ), found

    assert blocked(world, world.vault, WEST, world.theirs) == SSE_C_BLOCKED
    assert blocked(world, world.source, EAST, world.ours) == SSE_C_BLOCKED
    assert world.put("ledger/1.csv") == "COMPLETED"


def test_each_guardrail_removed_by_hand_is_planned_and_restored(backup: Make) -> None:
    world = backup(True)
    world.config()
    world.ok("apply")
    granted, keyed = world.bucket_policy(), world.key_policy()
    # the vault's owner (by hand) widens our grants as the tool once wrote them, and more,
    # and lets SSE-C in again on the vault and the source
    wider = {**granted, VERSIONING: {**granted[VERSIONING], "Action": [
        "s3:GetBucketVersioning", "s3:PutBucketVersioning"]}}
    world.put_bucket_policy(wider)
    world.put_key_policy({**keyed, KEY_GRANT: {**keyed[KEY_GRANT], "Action": [
        "kms:Decrypt", "kms:Encrypt", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"]}})
    for aws, bucket, region in ((world.theirs, world.vault, WEST),
                                (world.ours, world.source, EAST)):
        s3 = aws.get("s3", region)
        rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
            "Rules"][0]
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
            **{k: v for k, v in rule.items() if k != "BlockedEncryptionTypes"},
            "BlockedEncryptionTypes": {"EncryptionType": ["NONE"]}}]})
        assert blocked(world, bucket, region, aws) == {"EncryptionType": ["NONE"]}

    planned = world.run("plan")
    assert planned.status == 3, planned.stdout + planned.stderr
    for shown in ("replication grant (policy)", "replication grant (key policy)",
                  '"kms:ScheduleKeyDeletion"] -> ["kms:Decrypt", "kms:Encrypt"]'):
        assert shown in planned.stdout, (shown, planned.stdout)
    assert planned.stdout.count('SSE-C blocked: absent -> ["SSE-C"]') == 2, planned.stdout
    as_json = json.loads(world.run("plan", "--json").stdout)
    grant = next(c for c in as_json["changes"] if c["setting"] == "replication grant (policy)")
    assert "s3:PutBucketVersioning" in json.dumps(grant["current"])
    assert "s3:PutBucketVersioning" not in json.dumps(grant["wanted"])

    world.ok("apply")
    assert world.bucket_policy() == granted
    assert world.key_policy() == keyed
    assert INTO in granted and "s3:PutBucketVersioning" not in json.dumps(granted)
    assert blocked(world, world.vault, WEST, world.theirs) == SSE_C_BLOCKED
    assert blocked(world, world.source, EAST, world.ours) == SSE_C_BLOCKED
    world.ok("plan")
    assert world.put("after.csv") == "COMPLETED"
