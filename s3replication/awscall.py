"""Turning AWS failures into one readable line, and waiting out AWS's propagation delays."""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from .errors import AwsError, NoCredentialsFound

log = logging.getLogger(__name__)
T = TypeVar("T")

SERVICE_PREFIX = {"s3": "s3", "iam": "iam", "kms": "kms", "sns": "sns", "cloudwatch": "cloudwatch",
                  "sts": "sts", "s3control": "s3"}
# S3 operations whose IAM action has another name (the rest are the same).
S3_ACTIONS = {
    "HeadBucket": "ListBucket",
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "PutBucketEncryption": "PutEncryptionConfiguration",
    "GetBucketReplication": "GetReplicationConfiguration",
    "PutBucketReplication": "PutReplicationConfiguration",
    "DeleteBucketReplication": "PutReplicationConfiguration",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeleteBucketTagging": "PutBucketTagging",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "HeadObject": "GetObject",
    "CopyObject": "PutObject",
    "ListObjectVersions": "ListBucketVersions",
}


@functools.cache
def _operations(service: str) -> frozenset[str]:
    import botocore.session

    return frozenset(botocore.session.get_session().get_service_model(service).operation_names)


def permission(operation: str) -> str:
    """The IAM action an API operation needs, e.g. "s3:PutReplicationConfiguration"."""
    for service, prefix in SERVICE_PREFIX.items():
        if operation in _operations(service):
            action = S3_ACTIONS.get(operation, operation) if service == "s3" else operation
            return f"{prefix}:{action}"
    return operation


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


# Error codes that mean "try again later", as botocore's standard retry mode reads them.
TRANSIENT_CODES = frozenset((
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "RequestLimitExceeded", "RequestThrottled", "SlowDown",
    "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
))


def is_transient(exc: BaseException) -> bool:
    """A failure worth another attempt: throttling, a 5xx answer, or a dropped connection."""
    if isinstance(exc, (BotoConnectionError, HTTPClientError)):
        return True
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return error_code(exc) in TRANSIENT_CODES or int(status) >= 500
    return False


def is_not_found(exc: BaseException, *codes: str) -> bool:
    code = error_code(exc)
    return code in codes or code in ("404", "NotFound", "NoSuchEntity", "NotFoundException")


def explain(exc: BaseException, doing: str) -> Exception:
    """One line naming what was being done (call and resource) and why it failed."""
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return NoCredentialsFound()
    if isinstance(exc, ClientError):
        code = error_code(exc)
        message = exc.response.get("Error", {}).get("Message", "") or str(exc)
        operation = getattr(exc, "operation_name", "") or ""
        if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
            needed = permission(operation) if operation else "a permission"
            return AwsError(f"{doing}: access denied; the caller needs {needed} ({message})", code)
        if code == "BucketAlreadyExists":
            return AwsError(f"{doing}: the bucket name is taken by another AWS account", code)
        if code in ("KMSInvalidStateException", "DisabledException"):
            return AwsError(
                f"{doing}: the KMS key is disabled or pending deletion ({message})", code)
        call = f"{operation} " if operation else ""
        return AwsError(f"{doing}: {call}{code}: {message}", code)
    if isinstance(exc, EndpointConnectionError):
        return AwsError(f"{doing}: cannot reach the endpoint ({exc})", "EndpointConnectionError")
    if isinstance(exc, BotoCoreError):
        return AwsError(f"{doing}: {exc}", type(exc).__name__)
    return exc if isinstance(exc, Exception) else RuntimeError(str(exc))


def until_propagated(
    call: Callable[[], T],
    is_propagation_error: Callable[[BaseException], bool],
    budget_seconds: float = 90.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Retry `call` while AWS has not yet propagated something this run just made (a new role,
    versioning just enabled), with exponential backoff and a bounded total wait."""
    deadline = time.monotonic() + budget_seconds
    delay = 1.0
    while True:
        try:
            return call()
        except ClientError as exc:
            if not is_propagation_error(exc) or time.monotonic() + delay > deadline:
                raise
            log.debug("waiting %.1fs for AWS to propagate: %s", delay, exc)
            sleep(delay * (0.5 + random.random() / 2))
            delay = min(delay * 2, 16.0)
