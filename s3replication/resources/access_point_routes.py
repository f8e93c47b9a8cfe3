"""Reading and changing a Multi-Region Access Point's routes (its failover controls).

AWS takes route calls in five Regions only, and advises trying the next one when a call
fails, so that a failover works while a Region is down
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingFailover.html,
https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_SubmitMultiRegionAccessPointRoutes.html).
Routes take effect within about two minutes; `submit_routes` reads them back until they hold.
A Region this run found unreachable (readiness, failover and failback run in fail-fast mode,
aws/clients.py) is skipped without a call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from ..aws.calls import explain, is_transient
from ..engine import interrupt
from ..engine.context import Context
from ..errors import AwsError, RegionUnreachable
from ..output.progress import waiting

log = logging.getLogger(__name__)
T = TypeVar("T")
ROUTE_REGIONS = ("us-east-1", "us-west-2", "ap-southeast-2", "ap-northeast-1", "eu-west-1")
ROUNDS = 3  # passes over the five Regions
HOLD_TIMEOUT = 300.0  # seconds for routes read back to match what was submitted


def _in_any_route_region(ctx: Context, what: str, call: Callable[[Any], T]) -> T:
    """`call(s3control client)` in the first route Region that answers. Each Region gets one
    attempt per round (no botocore retries: a Region that is down must not hold up the next),
    and the rounds repeat with a pause while every Region fails with a transient error."""
    failures: list[str] = []
    for round_ in range(ROUNDS):
        if round_:
            interrupt.pause(2.0**round_)
        failures = []
        for region in ROUTE_REGIONS:
            if _known_down(ctx, region):
                failures.append(f"{region}: unreachable")
                continue
            try:
                return call(ctx.clients.single_attempt("s3control", region))
            except Exception as exc:  # the next Region is tried, as AWS advises
                if not (is_transient(exc) or _unreachable(exc)):
                    raise explain(exc, what) from exc
                log.warning("%s in %s failed (%s); trying the next Region", what, region, exc)
                failures.append(f"{region}: {exc}")
    raise AwsError(f"{what}: no route Region answered ({'; '.join(failures)})")


def _unreachable(exc: BaseException) -> bool:
    from ..aws.region_watch import is_unreachable

    return is_unreachable(exc) or isinstance(exc, RegionUnreachable)


def _known_down(ctx: Context, region: str) -> bool:
    is_down = getattr(ctx.clients, "is_down", None)
    return bool(is_down and is_down(region))


def read_routes(ctx: Context, arn: str) -> dict[str, int]:
    """Bucket -> traffic dial percentage."""
    routes = _in_any_route_region(
        ctx, f"reading the routes of {arn}",
        lambda control: control.get_multi_region_access_point_routes(
            AccountId=ctx.account, Mrap=arn)["Routes"])
    return {r["Bucket"]: int(r.get("TrafficDialPercentage", 0)) for r in routes}


def submit_routes(ctx: Context, arn: str, updates: list[dict[str, Any]],
                  timeout: float = HOLD_TIMEOUT) -> dict[str, int]:
    """Submit `updates` ([{Bucket, TrafficDialPercentage}]) and return the routes once they
    read back as submitted."""
    _in_any_route_region(
        ctx, f"changing the routes of {arn}",
        lambda control: control.submit_multi_region_access_point_routes(
            AccountId=ctx.account, Mrap=arn, RouteUpdates=updates))
    wanted = {u["Bucket"]: int(u["TrafficDialPercentage"]) for u in updates}
    deadline = time.monotonic() + timeout
    with waiting(f"routes of {arn.rsplit('/', 1)[-1]}: taking effect", timeout):
        while True:
            now = read_routes(ctx, arn)
            if all(now.get(b) == dial for b, dial in wanted.items()):
                log.info("routes of %s now %s", arn, now)
                return now
            if time.monotonic() > deadline:
                raise AwsError(f"routes of {arn}: still {now} after {timeout:.0f} s, not "
                               f"{wanted}; read them again with status, and re-run if they do "
                               "not change")
            interrupt.pause(5.0)


def active_buckets(routes: dict[str, int]) -> list[str]:
    return sorted(b for b, dial in routes.items() if dial > 0)
