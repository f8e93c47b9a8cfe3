"""How the scripts reach another AWS account of ACCOUNTS: a boto3 session for it.

- `role_arn`: AssumeRole with the caller's credentials (the standard chain), refreshed by
  botocore before they expire
  (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html);
- `profile`: the named profile of the shared config files
  (https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-files.html);
- `admin_profile`: another named profile, that account's own administrators': with it, every
  write there goes through it, and `role_arn`/`profile` only read (`Clients.for_account`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import botocore.session
from botocore.credentials import RefreshableCredentials

from ..config.model import AccountSpec

SESSION_NAME = "s3-replication"
SESSION_SECONDS = 3600
# How a factory reaches an account: (the account, the caller's STS client) -> a session.
Reach = Callable[[AccountSpec, Any], boto3.Session]
# How a factory reaches an account's administrators (its admin_profile): the account -> a session.
AdminReach = Callable[[AccountSpec], boto3.Session]


def assumed_role_session(account: AccountSpec, sts: Any) -> boto3.Session:
    """A session acting as `account.role_arn`, its credentials renewed as they near expiry."""

    def fetch() -> dict[str, str]:
        answer = sts.assume_role(RoleArn=account.role_arn, RoleSessionName=SESSION_NAME,
                                 DurationSeconds=SESSION_SECONDS)["Credentials"]
        return {"access_key": answer["AccessKeyId"], "secret_key": answer["SecretAccessKey"],
                "token": answer["SessionToken"],
                "expiry_time": answer["Expiration"].isoformat()}

    credentials = RefreshableCredentials.create_from_metadata(
        metadata=fetch(), refresh_using=fetch, method="sts-assume-role")
    core = botocore.session.Session()
    core._credentials = credentials  # type: ignore[attr-defined]  # botocore has no setter
    return boto3.Session(botocore_session=core)


def reach(account: AccountSpec, sts: Any) -> boto3.Session:
    """The session for `account`, as ACCOUNTS says to reach it."""
    if account.profile:
        return boto3.Session(profile_name=account.profile)
    return assumed_role_session(account, sts)


def admin_session(account: AccountSpec) -> boto3.Session:
    """The session of `account.admin_profile`; botocore's ProfileNotFound when this machine
    has no such profile."""
    return boto3.Session(profile_name=account.admin_profile)
