"""Saved plans end to end on a real MiniStack (issue 23): `plan --out FILE` then `apply FILE`
makes exactly the planned changes; a change in AWS made out of band after the plan (a tag, a
bucket's versioning, a rule) makes `apply FILE` refuse, exit 3, naming it, with nothing
written; a plan of another account is refused with exit 2.

What the refusal relies on: a read made after a change out of band shows it. S3 bucket
configurations are eventually consistent ("Bucket configurations have an eventual consistency
model", https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel),
and so is IAM (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency):
a change made seconds before `apply FILE` may not show yet. The check narrows the window
between review and apply to the seconds of the run, as the README says; it cannot close it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from s3replication import sandbox
from s3replication.aws.clients import Clients
from tests.shop import Run, run_script, shop_config
from tests.test_plan_matches_apply_e2e import same_value

SOURCE, DESTINATION = "shopco-data-use1", "shopco-data-usw2"


@pytest.fixture
def aws(ministack_endpoint: str, reset_ministack: Callable[[], None]) -> Clients:
    """Clients on an emptied MiniStack."""
    return Clients(endpoint_url=ministack_endpoint, session=sandbox.sandbox_session())


@pytest.fixture
def script(ministack_endpoint: str, aws: Clients) -> Callable[..., Run]:
    def run(*argv: str) -> Run:
        return run_script("crr", *argv, clients=lambda: Clients(
            endpoint_url=ministack_endpoint, session=sandbox.sandbox_session()))
    return run


@pytest.fixture
def config(tmp_path: Path) -> str:
    return str(shop_config(tmp_path))


def listed(changes: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(c["resource"], c["setting"], c["action"]) for c in changes]


def test_apply_planfile_makes_exactly_the_planned_changes(
        script: Callable[..., Run], config: str, tmp_path: Path) -> None:
    plan_file = str(tmp_path / "plan.json")
    planned = script("plan", "--config", config, "--out", plan_file, "--json")
    assert planned.status == 3, planned.stderr
    saved = json.loads(Path(plan_file).read_text())
    assert saved["changes"] == json.loads(planned.stdout)["changes"]  # as plan --json lists
    assert json.loads(planned.stdout)["saved_to"] == plan_file
    text = script("plan", "--config", config, "--out", plan_file)
    assert text.stdout.rstrip().endswith(f"Saved the plan to {plan_file}; to make exactly "
                                         f"these changes: python cr_replication.py apply "
                                         f"{plan_file}")

    applied = script("apply", plan_file, "--json")  # the plan's config, as it recorded it

    assert applied.status == 0, applied.stderr
    made = json.loads(applied.stdout)["changes"]
    assert listed(made) == listed(saved["changes"])
    for before, after in zip(saved["changes"], made, strict=True):
        assert same_value(before["current"], after["current"]), (before, after)
        assert same_value(before["wanted"], after["wanted"]), (before, after)
    assert script("plan", "--config", config).status == 0


def test_a_plan_with_no_changes_applies_nothing(script: Callable[..., Run], config: str,
                                                tmp_path: Path) -> None:
    assert script("apply", "--config", config).status == 0
    plan_file = str(tmp_path / "plan.json")
    assert script("plan", "--config", config, "--out", plan_file).status == 0

    applied = script("apply", plan_file, "--config", config, "--json")

    assert (applied.status, applied.mutating) == (0, []), applied.stderr
    assert {k: json.loads(applied.stdout)[k] for k in ("command", "changes")} == {
        "command": "apply", "changes": []}


def drift_tag(aws: Clients, bucket: str, region: str, owner: str) -> None:
    s3 = aws.get("s3", region)
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [
        {"Key": k, "Value": v} for k, v in {**tags, "owner": owner}.items()]})


def suspend_versioning(aws: Clients, bucket: str, region: str) -> None:
    aws.get("s3", region).put_bucket_versioning(
        Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})


def drop_rules(aws: Clients, bucket: str, region: str) -> None:
    aws.get("s3", region).delete_bucket_replication(Bucket=bucket)


@pytest.mark.parametrize(("drift", "named"), [
    (lambda aws: drift_tag(aws, DESTINATION, "us-west-2", "someone-else"),
     f"bucket {DESTINATION} (us-west-2): tags"),
    (lambda aws: suspend_versioning(aws, DESTINATION, "us-west-2"),
     f"bucket {DESTINATION} (us-west-2): versioning"),
    (lambda aws: drop_rules(aws, SOURCE, "us-east-1"),
     f"bucket {SOURCE} (us-east-1): replication rules"),
], ids=["tag", "versioning", "rule"])
def test_apply_planfile_refuses_when_aws_changed_since_the_plan(
        script: Callable[..., Run], config: str, tmp_path: Path, aws: Clients,
        drift: Callable[[Clients], None], named: str) -> None:
    assert script("apply", "--config", config).status == 0
    drift_tag(aws, SOURCE, "us-east-1", "drifted")  # the change the plan is about
    plan_file = str(tmp_path / "plan.json")
    planned = script("plan", "--config", config, "--out", plan_file)
    assert planned.status == 3 and f"bucket {SOURCE} (us-east-1)" in planned.stdout
    drift(aws)  # out of band, after the review

    applied = script("apply", plan_file, "--config", config)

    assert applied.status == 3, applied.stdout + applied.stderr
    assert applied.mutating == []
    assert "refused, nothing changed: AWS changed since the plan" in applied.stderr
    assert named in applied.stderr
    assert f"bucket {SOURCE} (us-east-1): tags" not in applied.stderr  # as planned: not moved
    tags = aws.get("s3", "us-east-1").get_bucket_tagging(Bucket=SOURCE)["TagSet"]
    assert {"Key": "owner", "Value": "drifted"} in tags  # the planned change was not made


def test_an_edited_config_is_refused_and_nothing_is_read_or_written(
        script: Callable[..., Run], config: str, tmp_path: Path) -> None:
    plan_file = str(tmp_path / "plan.json")
    assert script("plan", "--config", config, "--out", plan_file).status == 3
    Path(config).write_text(Path(config).read_text().replace("platform-team", "data-team"))

    applied = script("apply", plan_file, "--config", config)

    assert (applied.status, applied.calls) == (3, [])
    assert "refused, nothing changed: the config changed since the plan" in applied.stderr


def test_a_plan_for_another_account_is_refused(script: Callable[..., Run], config: str,
                                               tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.json"
    assert script("plan", "--config", config, "--out", str(plan_file)).status == 3
    document = json.loads(plan_file.read_text())
    plan_file.write_text(json.dumps({**document, "account": "123456789012"}))

    applied = script("apply", str(plan_file), "--config", config)

    assert (applied.status, applied.mutating) == (2, [])
    assert "a plan for AWS account 123456789012; these credentials are account " \
           "000000000000" in applied.stderr
