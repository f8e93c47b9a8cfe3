"""The one renderer covers every command's result: text for people and data for --json."""

from __future__ import annotations

import typing

import pytest

from s3replication.errors import ExitStatus
from s3replication.output import render, results

RESULT_TYPES = typing.get_args(results.Result)


@pytest.mark.parametrize("kind", RESULT_TYPES, ids=[kind.__name__ for kind in RESULT_TYPES])
def test_every_result_type_has_a_text_and_a_json_renderer(kind: type) -> None:
    assert render.text.dispatch(kind) is not render.text.dispatch(object)
    assert render.data.dispatch(kind) is not render.data.dispatch(object)


def test_permissions_print_as_json_whatever_json_says() -> None:
    policies = {"123456789012": [{"Version": "2012-10-17", "Statement": []}]}
    outcome = render.outcome(results.PermissionsResult(ExitStatus.OK, policies))
    assert outcome.data == policies and outcome.errors == []
    assert outcome.text == '{\n  "123456789012": [\n    {\n      "Version": "2012-10-17",\n' \
        '      "Statement": []\n    }\n  ]\n}'
