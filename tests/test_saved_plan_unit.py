"""The saved plan's file (`plan --out FILE`, `apply FILE`, issue 23): its format and version,
and every file apply must refuse before the first AWS call (exit 2: a bad file, another
script's plan; exit 3: a config edited since), each with one clear line. No endpoint is
reachable here: a run that called AWS would fail with exit 1, not 2 or 3."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from s3replication.commands import saved_plan
from s3replication.config import load_config
from s3replication.engine.items import Change
from tests.shop import run_script, shop_config

CLOSED_PORT = "http://127.0.0.1:9"  # the discard port: nothing answers there


@pytest.fixture
def nowhere(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", CLOSED_PORT)


def saved(tmp_path: Path, kind: str = "crr", **overrides: Any) -> tuple[Path, Path]:
    """A config and a plan of it (one change), with `overrides` in the plan's document."""
    config = shop_config(tmp_path)
    path = tmp_path / "plan.json"
    change = Change("bucket shopco-data-use1 (us-east-1)", "versioning", "Suspended", "Enabled")
    saved_plan.write(path, load_config(config), kind, "000000000000", [change])
    if overrides:
        path.write_text(json.dumps({**json.loads(path.read_text()), **overrides}))
    return config, path


def test_the_file_says_what_it_is_and_what_each_change_was_computed_from(
        tmp_path: Path) -> None:
    config, path = saved(tmp_path)
    document = json.loads(path.read_text())
    assert (document["format"], document["version"]) == ("ecommerce-s3-replication plan", 1)
    assert document["script"] == "cr_replication"
    assert document["account"] == "000000000000"
    assert document["config"]["sha256"] == saved_plan.digest(config)
    assert Path(document["config"]["path"]).resolve() == config.resolve()
    assert document["changes"] == [{
        "resource": "bucket shopco-data-use1 (us-east-1)", "setting": "versioning",
        "action": "update", "current": "Suspended", "wanted": "Enabled"}]
    plan = saved_plan.read(path)
    assert (plan.script, plan.account, plan.changes) == (
        "cr_replication", "000000000000", document["changes"])
    assert not list(tmp_path.glob(".*partial"))  # written whole, then renamed


@pytest.mark.parametrize(("content", "said"), [
    ("", "not JSON"),
    ("{not json", "not JSON"),
    ('["a list"]', 'no "format"'),
    ('{"format": "terraform plan", "version": 1}', 'no "format"'),
])
def test_a_file_that_is_not_a_plan_is_refused_before_any_call(
        tmp_path: Path, nowhere: None, content: str, said: str) -> None:
    config, path = saved(tmp_path)
    path.write_text(content)
    run = run_script("crr", "apply", str(path), "--config", str(config))
    assert run.status == 2 and run.calls == []
    assert f"{path}: not a plan this tool can apply: {said}" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("version", [2, 0, "1", None])
def test_another_version_is_refused_naming_both(tmp_path: Path, nowhere: None,
                                                version: Any) -> None:
    config, path = saved(tmp_path, version=version)
    run = run_script("crr", "apply", str(path), "--config", str(config))
    assert run.status == 2 and run.calls == []
    assert f"version {version!r}; this tool reads version 1" in run.stderr


@pytest.mark.parametrize("missing", ["account", "changes", "config", "script"])
def test_a_plan_missing_a_field_is_refused(tmp_path: Path, nowhere: None, missing: str) -> None:
    config, path = saved(tmp_path)
    document = json.loads(path.read_text())
    del document[missing]
    path.write_text(json.dumps(document))
    run = run_script("crr", "apply", str(path), "--config", str(config))
    assert run.status == 2 and run.calls == []
    assert f'"{missing}' in run.stderr


def test_a_missing_plan_file_is_refused(tmp_path: Path, nowhere: None) -> None:
    config = shop_config(tmp_path)
    run = run_script("crr", "apply", str(tmp_path / "nope.json"), "--config", str(config))
    assert run.status == 2 and run.calls == []
    assert "nope.json: cannot read the plan file" in run.stderr


def test_the_other_scripts_plan_is_refused(tmp_path: Path, nowhere: None) -> None:
    config, path = saved(tmp_path, kind="srr")
    run = run_script("crr", "apply", str(path), "--config", str(config))
    assert run.status == 2 and run.calls == []
    assert "a plan of sr_replication.py, not of cr_replication.py" in run.stderr


def test_an_edited_config_is_refused_with_exit_3_naming_it(tmp_path: Path,
                                                           nowhere: None) -> None:
    config, path = saved(tmp_path)
    config.write_text(config.read_text() + "\n# edited after the review\n")
    run = run_script("crr", "apply", str(path))  # the plan's config, as it recorded it
    assert run.status == 3 and run.calls == []
    assert "the config changed since the plan" in run.stderr
    assert config.name in run.stderr


def test_plan_out_into_a_missing_folder_is_refused_before_any_call(tmp_path: Path,
                                                                  nowhere: None) -> None:
    config = shop_config(tmp_path)
    run = run_script("crr", "plan", "--out", str(tmp_path / "no" / "plan.json"),
                     "--config", str(config))
    assert run.status == 2 and run.calls == []
    assert "--out" in run.stderr and "no such folder" in run.stderr


def test_what_moved_is_named_setting_by_setting() -> None:
    planned = [
        {"resource": "bucket a", "setting": "versioning", "current": "Suspended",
         "wanted": "Enabled"},
        {"resource": "bucket a", "setting": "tags", "current": None, "wanted": {"x": "1"}},
        {"resource": "bucket b", "setting": "rules", "current": [1], "wanted": [2]},
    ]
    now = [
        Change("bucket a", "versioning", None, "Enabled"),  # someone changed it
        # "tags": someone made it as wanted
        Change("bucket b", "rules", [1], [3]),  # the change wanted moved
        Change("bucket c", "encryption", "AES256", "aws:kms"),  # out of sync since
    ]
    assert saved_plan.moved(planned, now) == [
        'bucket a: versioning: "Suspended" when planned, absent now',
        'bucket a: tags: absent when planned, as wanted now',
        "bucket b: rules: the plan makes it [2], apply would now make it [3]",
        'bucket c: encryption: as wanted when planned, "AES256" now',
    ]
    same = [Change(c["resource"], c["setting"], c["current"], c["wanted"]) for c in planned]
    assert saved_plan.moved(planned, same) == []
