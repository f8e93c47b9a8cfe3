"""What "converged" means after faults, crashes and interrupts, checked against MiniStack:
`plan` is clean for both scripts, one KMS key per alias, one role per source bucket, and
exactly the configured rules on each source bucket (no duplicates, nothing lost)."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.retries import standard

from s3replication import sandbox
from s3replication.aws.clients import Clients
from s3replication.aws.naming import ALIAS_TAG
from s3replication.config import Config, load_config
from tests.shop import Run, run_script

KINDS = ("crr", "srr")
ROOT = Path(__file__).resolve().parent.parent


def clients_for(endpoint: str) -> Callable[[], Clients]:
    """A factory of clients for `endpoint` (MiniStack, or a fault proxy in front of it)."""
    return lambda: Clients(endpoint_url=endpoint, session=sandbox.sandbox_session())


def run(endpoint: str, kind: str, *argv: str) -> Run:
    return run_script(kind, *argv, clients=clients_for(endpoint))


def scale_backoff(monkeypatch: pytest.MonkeyPatch, factor: float) -> None:
    """Shrink botocore's retry delays by `factor`: the retry policy is under test, not the
    length of its sleeps, and the test suite must stay fast."""
    delay = standard.ExponentialBackoff.delay_amount
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount",
                        lambda self, context: factor * delay(self, context))


def keys_per_alias(aws: Clients, config: Config) -> dict[tuple[str, str], int]:
    """(Region, alias) -> how many enabled keys the tool made for it (its alias tag)."""
    wanted = {(b.region, b.kms_key) for b in config.buckets.values()
              if b.kms_key and b.kms_key.startswith("alias/")}
    found: Counter[tuple[str, str]] = Counter({key: 0 for key in wanted})
    for region in sorted({region for region, _ in wanted}):
        kms = aws.get("kms", region)
        for key in kms.list_keys()["Keys"]:
            if kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] != "Enabled":
                continue
            for tag in kms.list_resource_tags(KeyId=key["KeyId"])["Tags"]:
                if tag["TagKey"] == ALIAS_TAG:
                    found[(region, tag["TagValue"])] += 1
    return dict(found)


def alias_targets(aws: Clients, config: Config) -> dict[tuple[str, str], str]:
    """(Region, alias) -> the key the alias names, for every alias of the config."""
    found = {}
    for region in sorted({b.region for b in config.buckets.values() if b.kms_key}):
        for alias in aws.get("kms", region).list_aliases()["Aliases"]:
            if alias.get("TargetKeyId"):
                found[(region, alias["AliasName"])] = alias["TargetKeyId"]
    return found


def rules_on(aws: Clients, bucket: str, region: str) -> list[str]:
    """Rule ids on a bucket, in order, duplicates kept."""
    try:
        found = aws.get("s3", region).get_bucket_replication(Bucket=bucket)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ReplicationConfigurationNotFoundError":
            return []
        raise
    return [r["ID"] for r in found["ReplicationConfiguration"]["Rules"]]


def assert_converged(endpoint: str, config_path: str | Path,
                     kinds: tuple[str, ...] = KINDS) -> None:
    """Both scripts' plans are clean, and AWS holds exactly what the config describes."""
    for kind in kinds:
        planned = run(endpoint, kind, "plan", "--config", str(config_path))
        assert planned.status == 0, f"{kind} plan:\n{planned.stdout}{planned.stderr}"
    config = load_config(config_path)
    aws = clients_for(endpoint)()
    counts = keys_per_alias(aws, config)
    assert counts == {key: 1 for key in counts}, f"keys per alias: {counts}"
    targets = alias_targets(aws, config)
    for region, alias in counts:
        assert (region, alias) in targets, f"alias {alias} missing in {region}"
    rules = [r for kind in kinds for r in config.rules(kind)]
    for source in sorted({r.source for r in rules}):
        spec = config.buckets[source]
        wanted = sorted(r.id for r in rules if r.source == source)
        assert sorted(rules_on(aws, source, spec.region)) == wanted, f"rules on {source}"
    roles = [r["RoleName"] for r in aws.get("iam", "us-east-1").list_roles()["Roles"]]
    wanted_roles = {config.buckets[r.source].replication_role for r in rules}
    assert wanted_roles <= set(roles)
    assert all(Counter(roles)[name] == 1 for name in wanted_roles), roles


def document(value: Any) -> Any:
    """A policy document as data, whether IAM returned it as a string or parsed."""
    return json.loads(value) if isinstance(value, str) else value


# Dummy credentials, and nothing from the user's ~/.aws files.
DUMMY_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "/nonexistent/aws/config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws/credentials",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def subprocess_env(endpoint: str, **extra: str) -> dict[str, str]:
    """The environment for running a script as a process against `endpoint`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(DUMMY_AWS_ENV, AWS_ENDPOINT_URL=endpoint, PYTHONPATH=str(ROOT), **extra)
    return env
