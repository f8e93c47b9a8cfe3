"""Widen before use, narrow after: through runs that add, move and remove destinations (and a
destroy), after every mutating API call, every enabled rule in the source bucket's replication
configuration is covered by its role's policies as the server has them at that moment.

A rule whose role lacks a permission fails its objects (`DstPutObjectNotPermitted`,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-failure-codes.html), so there
must be no moment between two calls where a live rule is uncovered. Coverage is decided by
MiniStack's IAM policy evaluator for the accesses AWS documents (tests/replication_access.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from s3replication import sandbox
from s3replication.aws.clients import Clients
from tests.converged import clients_for
from tests.replication_access import Side, decision, replication_accesses, role_policies
from tests.shop import is_mutating, run_script, shop_config

BUCKETS = '''
BUCKETS = {
    "ord-src": {"region": "us-east-1", "kms_key": "alias/ord-east"},
    "ord-backup": {"region": "us-east-1", "kms_key": "alias/ord-east"},
    "ord-west": {"region": "us-west-2", "kms_key": "alias/ord-west"},
    "ord-west-2": {"region": "us-west-2", "kms_key": "alias/ord-west"},
    "ord-eu": {"region": "eu-west-1", "kms_key": "alias/ord-eu"},
    "ord-ohio": {"region": "us-east-2", "kms_key": "alias/ord-ohio"},
}
SRR_RULES = [{"id": "same-region", "source": "ord-src", "destination": "ord-backup",
              "prefix": "s/"}]
'''
BEFORE = BUCKETS + '''
CRR_RULES = [
    {"id": "moving", "source": "ord-src", "destination": "ord-west", "prefix": "a/"},
    {"id": "removed", "source": "ord-src", "destination": "ord-eu", "prefix": "b/"},
]
'''
AFTER = BUCKETS + '''
CRR_RULES = [
    {"id": "moving", "source": "ord-src", "destination": "ord-ohio", "prefix": "a/"},
    {"id": "added", "source": "ord-src", "destination": "ord-west-2", "prefix": "c/"},
]
'''
REGIONS = {"ord-src": "us-east-1", "ord-backup": "us-east-1", "ord-west": "us-west-2",
           "ord-west-2": "us-west-2", "ord-eu": "eu-west-1", "ord-ohio": "us-east-2"}


class AfterCalls(Clients):
    """Clients that call `after(service, operation)` once each API call has returned (a test
    helper: the tool's own `on_call` hooks run before a call)."""

    def __init__(self, endpoint: str, after: Callable[[str, str], None]):
        super().__init__(endpoint_url=endpoint, session=sandbox.sandbox_session())
        self._after = after

    def _make(self, service: str, region: str, retries: bool = True) -> Any:
        client = super()._make(service, region, retries)

        def emit(model: Any, **_: Any) -> None:
            self._after(service, model.name)

        client.meta.events.register("after-call", emit)
        return client


def source_key(aws: Clients) -> str | None:
    kms = aws.get("kms", "us-east-1")
    for alias in kms.list_aliases()["Aliases"]:
        if alias["AliasName"] == "alias/ord-east" and alias.get("TargetKeyId"):
            return str(kms.describe_key(KeyId=alias["TargetKeyId"])["KeyMetadata"]["Arn"])
    return None


def uncovered(aws: Clients) -> tuple[list[str], list[str]]:
    """(rules of ord-src's configuration now, the accesses of them its role does not allow)."""
    try:
        found = aws.get("s3", "us-east-1").get_bucket_replication(Bucket="ord-src")
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("ReplicationConfigurationNotFoundError",
                                             "NoSuchBucket"):
            return [], []
        raise
    configuration = found["ReplicationConfiguration"]
    role_arn = configuration["Role"]
    iam = aws.get("iam", "us-east-1")
    try:
        policies = role_policies(iam, role_arn.rsplit("/", 1)[-1])
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NoSuchEntity":
            raise
        policies = []
    rules, missing = [], []
    for rule in configuration["Rules"]:
        if rule.get("Status") != "Enabled":
            continue
        destination = rule["Destination"]
        name = destination["Bucket"].split(":::")[-1]
        rules.append(f"{rule['ID']}->{name}")
        kms = rule.get("SourceSelectionCriteria", {}).get("SseKmsEncryptedObjects", {})
        src = Side("ord-src", "us-east-1", source_key(aws) if kms.get("Status") == "Enabled"
                   else None)
        replica_key = destination.get("EncryptionConfiguration", {}).get("ReplicaKmsKeyID")
        dst = Side(name, REGIONS[name], replica_key)
        for access in replication_accesses(src, dst, "probe/object.bin"):
            if decision(role_arn, policies, access) != "Allow":
                missing.append(f"{rule['ID']}: {access}")
    return rules, missing


def recorded_run(endpoint: str, kind: str, *argv: str) -> tuple[int, list[str], list[str]]:
    """Runs the script; after each of its mutating calls, checks coverage. Returns the exit
    status, the moments seen (call: rules) and every problem found."""
    reader = clients_for(endpoint)()  # no hooks: its reads are not the tool's calls
    lock = threading.Lock()
    moments: list[str] = []
    problems: list[str] = []

    def after(service: str, operation: str) -> None:
        if not is_mutating(operation):
            return
        with lock:
            try:
                rules, missing = uncovered(reader)
            except Exception as exc:  # noqa: BLE001 - reported by the test, not the tool
                problems.append(f"after {service} {operation}: check failed: {exc!r}")
                return
            moments.append(f"after {service} {operation}: {rules}")
            problems.extend(f"after {service} {operation}: {m}" for m in missing)

    result = run_script(kind, *argv, clients=lambda: AfterCalls(endpoint, after))
    assert result.status == 0, result.stdout + result.stderr
    return result.status, moments, problems


def test_every_live_rule_is_covered_after_every_call(ministack_endpoint, reset_ministack,
                                                     tmp_path: Path):
    (tmp_path / "before").mkdir()
    (tmp_path / "after").mkdir()
    before = str(shop_config(tmp_path / "before", base=BEFORE))
    after = str(shop_config(tmp_path / "after", base=AFTER))
    runs = [("srr", "apply", before), ("crr", "apply", before), ("crr", "apply", after),
            ("crr", "destroy", after)]
    seen: list[str] = []
    for kind, command, config in runs:
        argv = [command, "--config", config] + (["--yes"] if command == "destroy" else [])
        _, moments, problems = recorded_run(ministack_endpoint, kind, *argv)
        assert problems == [], f"{kind} {command}: rules not covered:\n" + "\n".join(problems)
        assert moments, f"{kind} {command} made no mutating call"
        seen += moments
    # the checks saw the rules change: the old destinations live, then the new ones
    assert any("moving->ord-west'" in m and "removed->ord-eu" in m for m in seen)
    assert any("moving->ord-ohio" in m and "added->ord-west-2" in m for m in seen)
    assert any(m.endswith("['same-region->ord-backup']") for m in seen)
    reader = clients_for(ministack_endpoint)()
    assert uncovered(reader) == (["same-region->ord-backup"], [])
