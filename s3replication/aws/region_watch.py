"""Fail-fast mode for the commands run while a Region may be down (readiness, failover,
failback): short timeouts and few retries (`FAIL_FAST`), a Region that does not answer called
no more (`RegionWatch`), and the caller's account asked of several Regions at once
(`first_account`). Clients.fail_fast turns it on (aws/clients.py)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from botocore.config import Config

from ..errors import RegionUnreachable

if TYPE_CHECKING:
    from .clients import Clients

# readiness, failover and failback run while a Region may be down: a Region that does not
# answer must cost seconds, not BASE_CONFIG's minutes (10 attempts of up to 5 + 30 s each).
# Their calls are small (a bucket's settings, a canary of a few bytes, a metric query), so a
# Region that has not answered one in 10 s is treated as unreachable (`RegionWatch`).
FAIL_FAST_CONNECT, FAIL_FAST_READ = 3, 10  # seconds
FAIL_FAST = Config(retries={"mode": "standard", "total_max_attempts": 2},
                   connect_timeout=FAIL_FAST_CONNECT, read_timeout=FAIL_FAST_READ)

log = logging.getLogger(__name__)


def is_unreachable(exc: BaseException | None) -> bool:
    """No connection to the endpoint, or no answer in time: what a Region that is down does."""
    from botocore.exceptions import (
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    return isinstance(exc, (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError))


class RegionWatch:
    """Which Regions answered during this run, and which did not (fail-fast mode).

    Until a Region has answered, one request at a time goes to it (the first is the probe;
    the others wait for its outcome, at most `PROBE_WAIT` seconds); once a request to it found
    no connection or no answer in time, every later call to it, of any service, fails at once
    with RegionUnreachable, its retries included. So a Region that is down receives one
    request, and costs one timeout, in the whole run."""

    PROBE_WAIT = 15.0  # seconds; more than FAIL_FAST's connect and read timeouts together

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._down: dict[str, str] = {}  # Region -> what it did
        self._live: set[str] = set()
        self._probing: dict[str, threading.Event] = {}

    def is_down(self, region: str) -> bool:
        with self._lock:
            return region in self._down

    @property
    def down(self) -> dict[str, str]:
        with self._lock:
            return dict(self._down)

    def attach(self, client: Any, service: str, region: str) -> None:
        """Watch every request `client` (of `service` in `region`) sends."""
        client.meta.events.register(
            "before-send", lambda **_: self.before_send(region),
            unique_id=f"s3replication-region-watch-before-{service}-{region}")
        client.meta.events.register(
            "response-received", lambda exception=None, **_: self.outcome(region, exception),
            unique_id=f"s3replication-region-watch-after-{service}-{region}")

    def before_send(self, region: str) -> None:
        """Called before each HTTP request (each attempt) to `region`."""
        while True:
            with self._lock:
                if region in self._down:
                    raise RegionUnreachable(region, self._down[region])
                if region in self._live:
                    return
                probing = self._probing.get(region)
                if probing is None:
                    self._probing[region] = threading.Event()
                    return  # this request is the probe
            from ..output.progress import waiting

            with waiting(f"{region}: its first request, still unanswered", self.PROBE_WAIT):
                answered = probing.wait(self.PROBE_WAIT)
            if not answered:
                return  # the probe is still out: go on rather than wait longer

    def outcome(self, region: str, exception: BaseException | None) -> None:
        """Called after each HTTP request (each attempt) to `region`."""
        if isinstance(exception, RegionUnreachable):
            return
        with self._lock:
            if is_unreachable(exception):
                detail = _unreachable_detail(exception)
                first = region not in self._down
                self._down[region] = detail
                self._live.discard(region)
            else:
                first = False
                if exception is None or not _is_connection_error(exception):
                    self._live.add(region)  # it answered (an error answer is an answer)
            probing = self._probing.pop(region, None)
        if first:
            log.warning("%s unreachable (%s): no further call goes to it in this run",
                        region, detail)
        if probing is not None:
            probing.set()


def _is_connection_error(exc: BaseException) -> bool:
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import HTTPClientError

    return isinstance(exc, (BotoConnectionError, HTTPClientError))


def _unreachable_detail(exc: BaseException | None) -> str:
    from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

    if isinstance(exc, ReadTimeoutError):
        return f"no answer within {FAIL_FAST_READ} s"
    if isinstance(exc, ConnectTimeoutError):
        return f"no connection within {FAIL_FAST_CONNECT} s"
    return f"cannot connect: {exc}"


def first_account(clients: Clients, regions: Sequence[str]) -> str:
    """The caller's account, from STS GetCallerIdentity sent at once to each of `regions`:
    the first answer wins, so that no one Region (us-east-1 included) has to answer.

    botocore sends an STS client's calls to the Regional endpoint of its Region
    (`sts_regional_endpoints` defaults to "regional" in the botocore this tool pins,
    https://docs.aws.amazon.com/sdkref/latest/guide/feature-sts-regionalized-endpoints.html).
    Each request is made once; when none answered and not every Region was unreachable
    (throttling, a 5xx), one Region that did answer is asked again with retries."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    pool = ThreadPoolExecutor(max_workers=len(regions), thread_name_prefix="s3replication-sts")
    asked = {pool.submit(_identity, clients, region): region for region in regions}
    pool.shutdown(wait=False)  # the Regions that do not answer end on their own
    failures: dict[str, BaseException] = {}
    for future in as_completed(asked):
        error = future.exception()
        if error is None:
            return str(future.result()["Account"])
        failures[asked[future]] = error
    answering = [r for r in regions if not is_unreachable(failures[r])
                 and not isinstance(failures[r], RegionUnreachable)]
    if not answering:
        raise failures[regions[0]]
    return str(clients.get("sts", answering[0]).get_caller_identity()["Account"])


def _identity(clients: Clients, region: str) -> Any:
    return clients.single_attempt("sts", region).get_caller_identity()
