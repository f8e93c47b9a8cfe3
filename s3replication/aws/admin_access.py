"""The second way into an account of ACCOUNTS that has an `admin_profile`: reads go through
production's way in (`role_arn`/`profile`), writes through the account's own administrators.

Used only by clients.py (the one place that makes clients): `TwoWayClient` routes each call of
a client by whether its operation reads, and `admin_factory` makes the administrators' client
factory on the first write. Where their profile is not available here (no such profile, no
credentials, keys STS refuses), a write raises AdminUnavailable before anything is sent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import AdminUnavailable, AwsError

if TYPE_CHECKING:
    from ..config.model import AccountSpec
    from .clients import Clients

# The operations that only read, by name: every other one writes (S3, KMS, IAM, STS... name
# their reads so: https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
# lists them under the access level Read or List).
READ_PREFIXES = ("Get", "List", "Head", "Describe")
# What a profile whose credentials cannot be had or fail raises (botocore) or answers (STS).
UNUSABLE_CREDENTIALS = ("InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken",
                        "ExpiredTokenException", "UnrecognizedClientException",
                        "InvalidAccessKeyId")


def is_read(operation: str) -> bool:
    """Whether the API operation (its name, such as "GetBucketPolicy") only reads."""
    return operation.startswith(READ_PREFIXES)


class TwoWayClient:
    """A client of an account with an admin_profile: each read operation is the reader's
    (role_arn or profile), each write the admin's, whose client is made on the first write.
    Everything else (meta, paginators, waiters) is the reader's."""

    def __init__(self, reader: Any, writer: Callable[[], Any]):
        self._reader, self._writer = reader, writer

    def __getattr__(self, name: str) -> Any:
        operation = self._reader.meta.method_to_api_mapping.get(name)
        if operation is not None and not is_read(operation):
            return getattr(self._writer(), name)
        return getattr(self._reader, name)


def admin_available(admin: Callable[[], Clients] | None, require: bool = False) -> bool:
    """Whether the administrators' factory `admin` (None: the account has no admin_profile,
    its own credentials write) can be had here; with `require`, AdminUnavailable where not."""
    if admin is None:
        return True
    try:
        admin()
    except AdminUnavailable:
        if require:
            raise
        return False
    return True


def admin_factory(reader: Clients, account: AccountSpec, region: str) -> Callable[[], Clients]:
    """The administrators' factory for `account` (whose reader's factory is `reader`), reached
    once on first use; the reason it cannot be is raised again on every use."""
    lock = threading.Lock()
    found: list[Clients | AwsError] = []

    def admin() -> Clients:
        with lock:
            if not found:
                try:
                    found.append(_reach_admin(reader, account, region))
                except AwsError as error:
                    found.append(error)
        if isinstance(found[0], AwsError):
            raise found[0]
        return found[0]

    return admin


def _reach_admin(reader: Clients, account: AccountSpec, region: str) -> Clients:
    from botocore.exceptions import BotoCoreError, ClientError

    from .accounts import admin_session

    profile = str(account.admin_profile)
    try:
        made = reader.sibling((reader.reach_admin or admin_session)(account))
        actual = made.account_id(region)
    except BotoCoreError as exc:  # no such profile, no credentials, an SSO token expired
        if "Endpoint" in type(exc).__name__:
            raise _explained(exc, account) from exc
        raise AdminUnavailable(account.name, account.account_id, profile, str(exc)) from exc
    except ClientError as exc:  # keys STS does not take
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code not in UNUSABLE_CREDENTIALS:
            raise _explained(exc, account) from exc
        raise AdminUnavailable(account.name, account.account_id, profile,
                               f"its credentials fail: {code}") from exc
    if actual != account.account_id:
        raise AwsError(f'ACCOUNTS["{account.name}"]["admin_profile"]: the profile '
                       f'"{profile}" reaches account {actual}, not {account.account_id}; '
                       "fix its account_id or admin_profile")
    return made


def _explained(exc: Exception, account: AccountSpec) -> Exception:
    from .calls import explain

    return explain(exc, f'reaching account "{account.name}" ({account.account_id}) with '
                        f"admin_profile {account.admin_profile}")
