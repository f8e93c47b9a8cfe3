"""The settings tables agree with the caller permissions table: every IAM action a row's read
or write call needs is in commands/permission_needs.py's NEEDS, for apply."""

from __future__ import annotations

from typing import Any

import pytest

from s3replication.commands.permission_needs import APPLY, NEEDS
from s3replication.resources.bucket_settings import BUCKET_SETTINGS
from s3replication.resources.kms_keys import KEY_SETTINGS
from s3replication.resources.settings import Setting

APPLY_ACTIONS = {need.action for need in NEEDS if APPLY in need.commands}
ROWS: list[Setting[Any]] = [*BUCKET_SETTINGS, *KEY_SETTINGS]


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_every_action_of_a_setting_is_in_the_permissions_table(row: Setting[Any]) -> None:
    assert row.actions
    assert set(row.actions) - APPLY_ACTIONS == set()


@pytest.mark.parametrize("table", [BUCKET_SETTINGS, KEY_SETTINGS], ids=["bucket", "kms key"])
def test_the_existence_row_comes_first_and_is_the_only_gate(
        table: tuple[Setting[Any], ...]) -> None:
    assert [row.gate for row in table] == [True] + [False] * (len(table) - 1)
    assert len({row.name for row in table}) == len(table)
