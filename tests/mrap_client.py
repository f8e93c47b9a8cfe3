"""An S3 client whose Multi-Region Access Point requests reach the test MiniStack.

S3 serves an MRAP's data plane at `ALIAS.accesspoint.s3-global.amazonaws.com` (the alias ends
in `.mrap`), addressed by the MRAP's ARN as the bucket, and requires those requests to be signed
with SigV4A (https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointRequests.html,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointRequestRouting.html).
botocore signs them with SigV4A only when `awscrt` is installed (requirements-dev.txt,
https://docs.aws.amazon.com/sdkref/latest/guide/feature-s3-mrap.html), and sends them to that
global host whatever `endpoint_url` says. Here a `before-send` handler keeps the host as the
`Host` header (MiniStack picks the MRAP from it) and sends the request to MiniStack's address
instead. Any other request of this client goes to MiniStack too: nothing it sends can reach
AWS.
"""

from __future__ import annotations

import urllib.parse
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from s3replication.aws.clients import Clients

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MRAP_HOST_SUFFIX = ".accesspoint.s3-global.amazonaws.com"


def mrap_arn(account: str, alias: str) -> str:
    """The ARN that addresses an MRAP as a bucket: arn:aws:s3::ACCOUNT:accesspoint/ALIAS."""
    return f"arn:aws:s3::{account}:accesspoint/{alias}"


def _rerouter(endpoint_url: str) -> Any:
    target = urllib.parse.urlsplit(endpoint_url)

    def reroute(request: Any, **_: Any) -> None:
        parts = urllib.parse.urlsplit(request.url)
        if (parts.scheme, parts.netloc) == (target.scheme, target.netloc):
            return
        request.headers["Host"] = parts.netloc
        request.url = parts._replace(scheme=target.scheme, netloc=target.netloc).geturl()

    return reroute


def mrap_s3(session: boto3.Session, endpoint_url: str, region: str = "us-east-1") -> S3Client:
    """An S3 client for requests addressed by an MRAP ARN (`mrap_arn`), sent to
    `endpoint_url` with the MRAP's host kept in the `Host` header."""
    client: S3Client = session.client(
        "s3", region_name=region, endpoint_url=endpoint_url,
        config=Config(retries={"mode": "standard", "max_attempts": 3}))
    client.meta.events.register("before-send.s3.*", _rerouter(endpoint_url),
                                unique_id="tests-mrap-reroute")
    return client


def mrap_s3_of(clients: Clients) -> S3Client:
    """`mrap_s3` with the session and endpoint of a Clients factory (the test MiniStack)."""
    if not clients.endpoint_url:
        raise ValueError("mrap_s3_of needs a factory with an endpoint_url (the test MiniStack)")
    return mrap_s3(clients.session, clients.endpoint_url)
