"""The one place that makes boto3 clients: one per (service, Region), cached, one retry policy.

Nothing else in the project calls `boto3.client()`. The endpoint is decided here once: an
explicit `endpoint_url` (the sandbox), else boto3's own handling of the standard
`AWS_ENDPOINT_URL` variables, else AWS.

An account of ACCOUNTS with an `admin_profile` is reached two ways: its clients read through
`role_arn`/`profile` (production's way in) and send every other call (a write) through the
admin profile's session, made on the first write (admin_access.py, used only from here).
"""

from __future__ import annotations

import os
import platform
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast, overload

import botocore
import botocore.session
from botocore.config import Config

from ..errors import AwsError
from .admin_access import TwoWayClient, admin_available, admin_factory
from .client_events import attach_failed_request, remember_request, strip_account_host

if TYPE_CHECKING:  # the boto3-stubs packages of requirements-dev.txt
    import boto3
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3control import S3ControlClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sts import STSClient

    from ..config.model import AccountSpec
    from .accounts import AdminReach, Reach
    from .region_watch import RegionWatch

# (service, operation name, Region), called before every API call (not per retry attempt).
CallHook = Callable[[str, str, str], None]

# Every request names the tool: CloudTrail records it as the event's userAgent, so the changes
# the scripts made can be told from others
# (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html).
# Set whole, it is also made once, where botocore's own would be built anew for each request
# (about 5 % of a no-change run's time, measured).
USER_AGENT = (f"ecommerce-s3-replication Botocore/{botocore.__version__} "
              f"Python/{platform.python_version()}")
BASE_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 10},
    connect_timeout=5,
    read_timeout=30,
    max_pool_connections=128,  # the engine's 64 lanes and 64 early reads (engine/items.py)
    user_agent=USER_AGENT,
)
# For calls that must not be repeated blindly (KMS CreateKey makes a new key each time): the
# caller checks what a failed attempt may have done before it tries again.
SINGLE_ATTEMPT = Config(retries={"mode": "standard", "total_max_attempts": 1})
# Emulators serve every bucket at one host; virtual-host addressing would need DNS for
# BUCKET.localhost, so path addressing whenever the endpoint is not AWS.
PATH_STYLE = Config(s3={"addressing_style": "path"})
ENDPOINT_ENV_VARS = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3")


def is_custom_endpoint(endpoint_url: str | None) -> bool:
    """Whether calls go somewhere other than AWS's own endpoints: an explicit endpoint (the
    sandbox) or the standard AWS_ENDPOINT_URL variables (an emulator)."""
    return bool(endpoint_url) or any(os.environ.get(name) for name in ENDPOINT_ENV_VARS)


class Clients:
    """Makes and caches the clients; safe to share between threads."""

    def __init__(self, endpoint_url: str | None = None, session: boto3.Session | None = None,
                 verify: bool | str | None = None, reach: Reach | None = None,
                 reach_admin: AdminReach | None = None):
        """`verify`: botocore's TLS check (False, or a CA bundle path, for a server with a
        self-signed certificate); None keeps botocore's default. `reach`: how to get a session
        for another account of ACCOUNTS (default: its role or profile; the sandbox uses the
        account's own keys); `reach_admin`: for its admin_profile (default: that profile)."""
        self.endpoint_url = endpoint_url
        self.verify = verify
        self._session = session
        # Without a session given: botocore's default one (the default credential chain),
        # under the boto3 session made on first use (`session`).
        self._core = botocore.session.Session() if session is None else None
        self.reach = reach
        self.reach_admin = reach_admin
        # An account with an admin_profile: its admin's factory (or why there is none),
        # made on the first write; None for any other factory.
        self._admin: Callable[[], Clients] | None = None
        self._lock = threading.Lock()
        self._session_lock = threading.Lock()
        self._account_lock = threading.Lock()
        self._clients: dict[tuple[str, str, bool], Any] = {}
        self._accounts: dict[str, Clients] = {}
        self._hooks: list[CallHook] = []
        self._account_id: str | None = None
        self._config = BASE_CONFIG
        self.regions: RegionWatch | None = None  # fail-fast mode only

    def fail_fast(self) -> None:
        """Short timeouts, and no call to a Region found unreachable (aws/region_watch.py),
        for the commands run during an outage; called before the first call."""
        from . import region_watch

        with self._lock:
            self._config = BASE_CONFIG.merge(region_watch.FAIL_FAST)
            self.regions = region_watch.RegionWatch()
            self._clients.clear()

    def is_down(self, region: str) -> bool:  # found unreachable in this run (fail-fast mode)
        return self.regions is not None and self.regions.is_down(region)

    # Typed per service (boto3-stubs) for the services the tool calls; any other is Any.
    @overload
    def get(self, service: Literal["s3"], region: str) -> S3Client: ...
    @overload
    def get(self, service: Literal["iam"], region: str) -> IAMClient: ...
    @overload
    def get(self, service: Literal["kms"], region: str) -> KMSClient: ...
    @overload
    def get(self, service: Literal["sts"], region: str) -> STSClient: ...
    @overload
    def get(self, service: Literal["sns"], region: str) -> SNSClient: ...
    @overload
    def get(self, service: Literal["cloudwatch"], region: str) -> CloudWatchClient: ...
    @overload
    def get(self, service: Literal["s3control"], region: str) -> S3ControlClient: ...
    @overload
    def get(self, service: str, region: str) -> Any: ...
    def get(self, service: str, region: str) -> Any:
        """The client for `service` in `region`, made on first use."""
        return self._cached(service, region, retries=True)

    def single_attempt(self, service: str, region: str) -> Any:
        """A client that makes each call once, without botocore's retries: for calls that are
        not idempotent, where a retry after a lost response would do the thing twice."""
        return self._cached(service, region, retries=False)

    def _cached(self, service: str, region: str, retries: bool) -> Any:
        key = (service, region, retries)
        # boto3 sessions are not thread-safe when making clients: make them under the lock.
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._make(service, region, retries)
                admin = self._admin
                if admin is not None:
                    client = TwoWayClient(
                        client, lambda: admin()._cached(service, region, retries))
                self._clients[key] = client
            return client

    def _make(self, service: str, region: str, retries: bool = True) -> Any:
        config = self._config if retries else self._config.merge(SINGLE_ATTEMPT)
        if service == "s3" and self.custom_endpoint():
            config = config.merge(PATH_STYLE)
        # boto3-stubs type client() per service name literal; ours is a str chosen at run time.
        if self._session is None and self._core is not None and service != "s3":
            # botocore alone: of boto3, the tool uses only S3's managed transfers
            # (upload_fileobj), and importing it takes about a tenth of a second, so the run's
            # first call (STS) is sent before boto3 is imported, with its first S3 client.
            client = self._core.create_client(
                service, region_name=region, endpoint_url=self.endpoint_url, config=config,
                verify=self.verify)
        else:
            client = self.session.client(
                cast(Any, service), region_name=region, endpoint_url=self.endpoint_url,
                config=config, verify=self.verify)
        if service == "s3control" and self.custom_endpoint():
            client.meta.events.register("before-send.s3-control.*", strip_account_host,
                                        unique_id="s3replication-strip-account-host")
        client.meta.events.register("before-parameter-build", remember_request)
        client.meta.events.register("after-call", attach_failed_request)

        def emit(model: Any, **_: Any) -> None:  # returns None: never short-circuits the call
            for hook in list(self._hooks):
                hook(service, model.name, region)

        client.meta.events.register("before-call", emit)
        if self.regions is not None:
            self.regions.attach(client, service, region)
        return client

    def custom_endpoint(self) -> bool:
        """Whether this factory's clients talk to an emulator rather than to AWS."""
        return is_custom_endpoint(self.endpoint_url)

    def on_call(self, callback: CallHook) -> None:
        """Call `callback(service, operation_name, region)` before every API call of every
        client of this factory, those already made included. An exception it raises aborts
        the call (tests use this to simulate a crash before the k-th call)."""
        self._hooks.append(callback)

    def account_id(self, region: str = "us-east-1") -> str:
        """The caller's account, from STS in `region` (the global Region of the partition).

        The run's first call: made once without retries, so that an endpoint that refuses the
        connection or does not resolve (a mistyped AWS_ENDPOINT_URL, no network) is reported
        at once rather than after botocore's ten attempts; any other failure (throttling, a
        5xx) is retried as usual."""
        if self._account_id is None:
            from botocore.exceptions import EndpointConnectionError

            try:
                identity = self.single_attempt("sts", region).get_caller_identity()
            except EndpointConnectionError:
                raise
            except Exception:  # noqa: BLE001 - retried with the patient client below
                identity = self.get("sts", region).get_caller_identity()
            self._account_id = str(identity["Account"])
        return self._account_id

    def account_id_from(self, regions: Sequence[str]) -> str:
        """The caller's account, from STS in `regions` at once (region_watch.first_account)."""
        regions = list(dict.fromkeys(regions))
        if self._account_id is None and len(regions) > 1:
            from .region_watch import first_account

            self._account_id = first_account(self, regions)
        return self.account_id(regions[0])

    def for_account(self, account: AccountSpec | None, region: str) -> Clients:
        """The factory for another account of ACCOUNTS (this one for None), made on first use
        and checked: its credentials must act in `account.account_id`. `region` is the global
        Region of the partition, where STS is called."""
        if account is None:
            return self
        with self._account_lock:
            made = self._accounts.get(account.name)
            if made is None:
                made = self._reach(account, region)
                self._accounts[account.name] = made
            return made

    def _reach(self, account: AccountSpec, region: str) -> Clients:
        from .accounts import reach

        sts = self.get("sts", region)
        try:
            made = self.sibling((self.reach or reach)(account, sts))
            actual = made.account_id(region)
        except Exception as exc:
            from .calls import explain

            how = (f"assuming {account.role_arn}" if account.role_arn
                   else f"with profile {account.profile}")
            raise explain(exc, f'reaching account "{account.name}" ({account.account_id}) '
                               f"{how}") from exc
        if actual != account.account_id:
            raise AwsError(f'ACCOUNTS["{account.name}"]: the credentials reach account {actual}, '
                           f"not {account.account_id}; fix its account_id, role_arn or profile")
        if account.admin_profile:
            made._admin = admin_factory(made, account, region)
        return made

    def sibling(self, session: boto3.Session) -> Clients:
        """A factory over another account's `session` that shares this one's endpoint, TLS
        check, ways into accounts, call callbacks (every account's calls are seen) and view
        of Regions."""
        made = Clients(self.endpoint_url, session, self.verify, self.reach, self.reach_admin)
        made._hooks = self._hooks
        made._config, made.regions = self._config, self.regions
        return made

    def admin_available(self) -> bool:
        """For a factory of an account with an admin_profile: whether its administrators'
        profile can be used here (reached now); an admin profile that reaches another
        account raises. True for any other factory (its own credentials write)."""
        return admin_available(self._admin)

    def require_admin(self) -> None:
        """AdminUnavailable (nothing sent) where admin_available is False."""
        admin_available(self._admin, require=True)

    @property
    def session(self) -> boto3.Session:
        """The boto3 session: the one given, else one over botocore's default session."""
        with self._session_lock:
            if self._session is None:
                import boto3

                self._session = boto3.Session(botocore_session=self._core)
            return self._session

    @session.setter
    def session(self, session: boto3.Session) -> None:
        """Another session, for the clients made from now on."""
        with self._session_lock:
            self._session = session

    def has_credentials(self) -> bool:
        source = self._session if self._session is not None else self._core
        return source is not None and source.get_credentials() is not None
