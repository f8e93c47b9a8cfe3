"""Turning AWS failures into one readable line, reading what may not exist, and waiting out
AWS's propagation delays."""

from __future__ import annotations

import functools
import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from ..errors import AwsError, NoCredentialsFound
from .client_events import REQUEST_KEY

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
    "ListObjectsV2": "ListBucket",
    "ListObjects": "ListBucket",
    "ListBuckets": "ListAllMyBuckets",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "UploadPartCopy": "PutObject",
    "CompleteMultipartUpload": "PutObject",
}
# A request naming a version id is checked against the version's own action
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html);
# HeadObject is checked as GetObject (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html).
S3_VERSION_ACTIONS = {
    "GetObject": "GetObjectVersion",
    "DeleteObject": "DeleteObjectVersion",
    "GetObjectTagging": "GetObjectVersionTagging",
    "PutObjectTagging": "PutObjectVersionTagging",
    "DeleteObjectTagging": "DeleteObjectVersionTagging",
    "GetObjectAcl": "GetObjectVersionAcl",
}
# Operations that also check another action when a parameter is present: tags given on
# creation need the service's tagging action (cloudwatch:TagResource for PutMetricAlarm with
# Tags, https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html;
# s3:PutObjectTagging for a PUT with tags, https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html),
# a copy reads its source, and a call naming a role passes it (iam:PassRole,
# https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html).
ALSO_CHECKED: dict[tuple[str, str], str] = {
    ("PutObject", "Tagging"): "s3:PutObjectTagging for its tags",
    ("CreateMultipartUpload", "Tagging"): "s3:PutObjectTagging for its tags",
    ("CopyObject", "CopySource"): "s3:GetObject on the copy source",
    ("CopyObject", "CopySource.VersionId"): "s3:GetObjectVersion on the copy source",
    ("UploadPartCopy", "CopySource"): "s3:GetObject on the copy source",
    ("UploadPartCopy", "CopySource.VersionId"): "s3:GetObjectVersion on the copy source",
    ("PutMetricAlarm", "Tags"): "cloudwatch:TagResource for its tags",
    ("CreateTopic", "Tags"): "sns:TagResource for its tags",
    ("CreateRole", "Tags"): "iam:TagRole for its tags",
    ("CreateKey", "Tags"): "kms:TagResource for its tags",
    ("CreateJob", "RoleArn"): "iam:PassRole on the job's role",
    ("CreateJob", "Tags"): "s3:PutJobTagging for its tags",
}
# Calls that pass a role without a parameter of that name: the configuration names it.
PASSES_ROLE = {"PutBucketReplication": "iam:PassRole on the replication role"}
# AWS's (and MiniStack's) AccessDenied message names the action it checked.
NAMED_ACTION = re.compile(r"not authorized to perform:?\s+([A-Za-z0-9-]+:[A-Za-z0-9*]+)")
DENIED_CODES = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
                "AuthorizationError", "AuthorizationErrorException", "UnauthorizedAccess")


@functools.cache
def _operations(service: str) -> frozenset[str]:
    import botocore.session

    return frozenset(botocore.session.get_session().get_service_model(service).operation_names)


def permission(operation: str, parameters: Iterable[str] = ()) -> str:
    """The IAM action an API operation needs, e.g. "s3:PutReplicationConfiguration"; with
    `parameters` (the names of those present), the one AWS checks for that request, e.g.
    "s3:GetObjectVersion" for HeadObject with a VersionId."""
    for service, prefix in SERVICE_PREFIX.items():
        if operation in _operations(service):
            if service != "s3":
                return f"{prefix}:{operation}"
            action = S3_ACTIONS.get(operation, operation)
            if "VersionId" in parameters:
                action = S3_VERSION_ACTIONS.get(action, action)
            return f"{prefix}:{action}"
    return operation


def required_actions(operation: str, parameters: Iterable[str] = ()) -> str:
    """What the caller needs for one request, in words: its action, and any other action the
    request's parameters make AWS check, e.g. "s3:PutObject (and s3:GetObjectVersion on the
    copy source)"."""
    present = set(parameters)
    extra = [text for (op, name), text in ALSO_CHECKED.items()
             if op == operation and name in present]
    if "CopySource.VersionId" in present:
        extra = [e for e in extra if not e.startswith("s3:GetObject on")]
    if operation in PASSES_ROLE:
        extra.append(PASSES_ROLE[operation])
    needed = permission(operation, present)
    return f"{needed} (and {'; '.join(extra)})" if extra else needed


def is_access_denied(exc: BaseException) -> bool:
    """AccessDenied, in any service's words; a HEAD request's bare 403 counts too (its answer
    has no body to name the error)."""
    code = error_code(exc)
    return code in DENIED_CODES or code in ("403", "Forbidden")


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


def read_or_none(call: Callable[[], T], *missing_codes: str) -> T | None:
    """`call()`, or None when AWS answers that the thing is not there: one of
    `missing_codes`, or a not-found every service uses (404, NotFound, NoSuchEntity, ...)."""
    try:
        return call()
    except Exception as exc:
        if is_not_found(exc, *missing_codes):
            return None
        raise


def policy_document(value: str | Mapping[str, object] | None) -> Any:
    """A policy document as AWS answers it: a JSON string (S3, SNS, and IAM outside boto3)
    parsed, a dict (IAM through boto3, which decodes it) as it is; None for no policy."""
    if isinstance(value, str):
        return json.loads(value) if value else None
    return value


def explain(exc: BaseException, doing: str) -> Exception:
    """One line naming what was being done (call and resource) and why it failed."""
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return NoCredentialsFound()
    if isinstance(exc, ClientError):
        code = error_code(exc)
        message = exc.response.get("Error", {}).get("Message", "") or str(exc)
        operation = getattr(exc, "operation_name", "") or ""
        if is_access_denied(exc):
            return AwsError(f"{doing}: access denied; the caller needs {needed_for(exc)} "
                            f"({message})", code)
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


def needed_for(exc: ClientError) -> str:
    """The IAM action a denied request needed: the one AWS's message names, else the one the
    operation and its parameters call for (and what else such a request may check)."""
    message = str(exc.response.get("Error", {}).get("Message", ""))
    named = NAMED_ACTION.search(message)
    operation = getattr(exc, "operation_name", "") or ""
    if named:
        action = named.group(1)
        if operation in PASSES_ROLE and action != "iam:PassRole":
            return f"{action} (and {PASSES_ROLE[operation]})"
        return action
    if not operation:
        return "a permission"
    found = exc.response.get(REQUEST_KEY)  # the deciding parameters, set by clients._attach
    return required_actions(operation, found if isinstance(found, list) else [])


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
