"""The AWS idioms written once in aws/: read_or_none, policy_document, short_hash and
is_custom_endpoint."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from s3replication.aws.calls import policy_document, read_or_none
from s3replication.aws.clients import is_custom_endpoint
from s3replication.aws.naming import short_hash


def failing(code: str):
    def call():
        raise ClientError({"Error": {"Code": code, "Message": code}}, "GetThing")
    return call


def test_read_or_none_answers_none_for_the_named_and_the_common_not_found_codes():
    assert read_or_none(lambda: {"a": 1}, "NoSuchThing") == {"a": 1}
    assert read_or_none(failing("NoSuchThing"), "NoSuchThing") is None
    assert read_or_none(failing("NoSuchEntity")) is None
    assert read_or_none(failing("404")) is None


def test_read_or_none_raises_every_other_failure():
    with pytest.raises(ClientError):
        read_or_none(failing("AccessDenied"), "NoSuchThing")
    with pytest.raises(KeyError):
        read_or_none(lambda: {}["missing"], "NoSuchThing")


def test_policy_document_parses_a_json_string_and_keeps_a_dict():
    document = {"Version": "2012-10-17", "Statement": []}
    assert policy_document('{"Version": "2012-10-17", "Statement": []}') == document
    assert policy_document(document) is document
    assert policy_document(None) is None
    assert policy_document("") is None


def test_short_hash_is_stable_and_cut():
    assert short_hash("rule-1", 10) == short_hash("rule-1", 16)[:10]
    assert len(short_hash("x" * 300, 8)) == 8
    assert short_hash("a", 10) != short_hash("b", 10)


def test_is_custom_endpoint(monkeypatch):
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    assert not is_custom_endpoint(None)
    assert is_custom_endpoint("http://127.0.0.1:4566")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://localhost:9000")
    assert is_custom_endpoint(None)
