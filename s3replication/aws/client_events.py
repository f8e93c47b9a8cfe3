"""The event handlers clients.py registers on every client it makes (botocore events:
https://docs.aws.amazon.com/sdk-for-python/latest/guide/events.html).

A failed call's answer carries the names of the request parameters that decided which IAM
action AWS checked (awscall.required_actions reads them), and, at an emulator's address, the
S3 Control host loses the account id botocore puts in front of it.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

# A failed call's answer (ClientError.response) carries, under this key, the names of the
# request parameters that decide which IAM action AWS checked (a version id makes GetObject
# s3:GetObjectVersion): see awscall.required_actions.
REQUEST_KEY = "S3ReplicationRequest"
DECIDING_PARAMETERS = ("VersionId", "Tagging", "Tags", "CopySource", "RoleArn")


def _deciding(params: dict[str, Any]) -> list[str]:
    names = [name for name in DECIDING_PARAMETERS if params.get(name)]
    source = params.get("CopySource")
    if (isinstance(source, dict) and source.get("VersionId")) or (
            isinstance(source, str) and "versionId=" in source):
        names.append("CopySource.VersionId")
    return names


def remember_request(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    context[REQUEST_KEY] = _deciding(params)


def attach_failed_request(http_response: Any, parsed: dict[str, Any], context: dict[str, Any],
            **_: Any) -> None:
    if getattr(http_response, "status_code", 200) >= 300 and isinstance(parsed, dict):
        parsed[REQUEST_KEY] = context.get(REQUEST_KEY, [])


def strip_account_host(request: Any, **_: Any) -> None:
    """botocore puts the account id in front of the S3 Control host
    (`ACCOUNT.s3-control.REGION.amazonaws.com`); at an emulator's address that host does not
    resolve, so there it is taken off again before sending."""
    parts = urllib.parse.urlsplit(request.url)
    first, _dot, rest = parts.netloc.partition(".")
    if rest and len(first) == 12 and first.isdigit():
        request.url = parts._replace(netloc=rest).geturl()
