"""Multi-Region Access Points (cr_replication.py only: an access point spans Regions).

`apply` creates each one of ACCESS_POINTS that is missing, over its buckets, with every public
access block on, and then sets its first routes: the `active` buckets at traffic dial 100, the
others 0 (passive). The control calls go to us-west-2, where AWS takes them
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointRequestRouting.html);
creation is asynchronous (a request token, followed until it SUCCEEDED).

After creation the routes are operational state: `failover` and `failback` change them, and a
plan never undoes a failover; it shows the active buckets as a note. The buckets of an
access point cannot change (AWS fixes them at creation,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointRestrictions.html):
a config that changes them is refused with the way to replace the access point. `destroy`
keeps access points: the shop's readers and writers may be using them.

A crash between creation and the first routes is caught by a marker file beside the log
(`.access-point-<name>.pending`): written before the create request, removed once the routes
hold, so the next run sets the routes it missed.

`GetMultiRegionAccessPoint` is served in us-west-2 only (botocore's s3control model: "will
always be routed to the US West (Oregon) Region"), so `failover` and `failback` must know the
access point's alias (the route calls name it) without it while us-west-2 is down: `apply`
records it in a tag on each member bucket (`ALIAS_TAG_PREFIX` + name), which `find_alias`
reads from a bucket in a Region that answers; the config may also name it (`"alias"`).
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..aws.calls import read_or_none
from ..config.model import CRR, AccessPointSpec
from ..engine import interrupt
from ..engine.context import Context
from ..engine.items import Item
from ..engine.scope import Scope
from ..errors import AwsError, RegionUnreachable
from ..output.progress import waiting
from .bucket_settings import PUBLIC_ACCESS_BLOCK
from .bucket_tags import MAX_BUCKET_TAGS, read_tags, write_tags
from .settings import Setting

log = logging.getLogger(__name__)
CONTROL_REGION = "us-west-2"  # CreateMultiRegionAccessPoint and its reads are served there
EXISTS = "exists"
CREATE_TIMEOUT = 1800.0  # seconds; AWS says creation can take up to 24 hours in rare cases
MISSING = "NoSuchMultiRegionAccessPoint"
ALIAS_TAG_PREFIX = "s3replication:access-point:"  # + name: the access point's alias
UNKNOWN_ALIAS = "(the access point's alias, known after apply)"


@dataclass(frozen=True)
class AccessPointTarget:
    ctx: Context
    spec: AccessPointSpec

    @property
    def resource(self) -> str:
        return f"access point {self.spec.name}"

    @property
    def control(self) -> Any:
        return self.ctx.clients.get("s3control", CONTROL_REGION)

    @property
    def pending_marker(self) -> Path:
        return self.ctx.config.log_file.parent / f".access-point-{self.spec.name}.pending"

    def describe(self) -> dict[str, Any] | None:
        return read_access_point(self.ctx, self.spec.name)


def read_access_point(ctx: Context, name: str) -> dict[str, Any] | None:
    """GetMultiRegionAccessPoint's AccessPoint (Alias, Status, Regions), None if missing."""
    control = ctx.clients.get("s3control", CONTROL_REGION)
    found = read_or_none(lambda: control.get_multi_region_access_point(
        AccountId=ctx.account, Name=name), MISSING)
    return None if found is None else dict(found["AccessPoint"])


def alias_tag(name: str) -> str:
    return f"{ALIAS_TAG_PREFIX}{name}"


def find_alias(ctx: Context, spec: AccessPointSpec) -> str | None:
    """The access point's alias without depending on us-west-2: the config's `"alias"`, else
    the tag `apply` put on its buckets, read from the first bucket whose Region answers (those
    this run found unreachable are skipped), else GetMultiRegionAccessPoint (us-west-2).
    None when the access point does not exist."""
    if spec.alias:
        return spec.alias
    failures: list[str] = []
    for name in spec.buckets:
        bucket = ctx.bucket(name)
        if ctx.clients.is_down(bucket.region):
            failures.append(f"{bucket.region} unreachable")
            continue
        try:
            alias = read_tags(ctx, bucket).get(alias_tag(spec.name))
        except Exception as exc:  # noqa: BLE001 - the next bucket, then us-west-2
            log.info("access point %s: alias tag of %s not read: %s", spec.name, name, exc)
            failures.append(str(exc))
            continue
        if alias:
            return alias
    if ctx.clients.is_down(CONTROL_REGION):
        raise RegionUnreachable(CONTROL_REGION, (
            f"GetMultiRegionAccessPoint is served there only; the alias of access point "
            f"{spec.name} is in no tag of its buckets that could be read "
            f"({'; '.join(failures) or 'no tag'}): name it in ACCESS_POINTS[{spec.name!r}]"
            '["alias"]'))
    found = read_access_point(ctx, spec.name)
    return None if found is None else str(found["Alias"])


def access_point_arn(ctx: Context, alias: str) -> str:
    """The ARN the route calls take (`Mrap`): arn:PARTITION:s3::ACCOUNT:accesspoint/ALIAS."""
    from ..aws.naming import partition

    return f"arn:{partition(ctx.global_region)}:s3::{ctx.account}:accesspoint/{alias}"


def initial_routes(spec: AccessPointSpec) -> list[dict[str, Any]]:
    return [{"Bucket": b, "TrafficDialPercentage": 100 if b in spec.active else 0}
            for b in spec.buckets]


def _wait_for_request(on: AccessPointTarget, token: str) -> None:
    with waiting(f"{on.resource}: its creation", CREATE_TIMEOUT):  # minutes, shown on stderr
        _poll_request(on, token)


def _poll_request(on: AccessPointTarget, token: str) -> None:
    deadline, delay = time.monotonic() + CREATE_TIMEOUT, 1.0
    while True:
        operation = on.control.describe_multi_region_access_point_operation(
            AccountId=on.ctx.account, RequestTokenARN=token)["AsyncOperation"]
        status = operation.get("RequestStatus")
        if status == "SUCCEEDED":
            return
        if status == "FAILED":
            error = operation.get("ResponseDetails", {}).get("ErrorDetails", {})
            raise AwsError(f"{on.resource}: AWS could not create it: "
                           f"{error.get('Code', '')} {error.get('Message', '')}".rstrip(),
                           str(error.get("Code", "")))
        if time.monotonic() + delay > deadline:
            raise AwsError(f"{on.resource}: still {status} after {CREATE_TIMEOUT:.0f} s; re-run "
                           "apply later to finish (it waits for the same request)")
        log.info("%s: creation %s, waiting", on.resource, status)
        interrupt.pause(delay)
        delay = min(delay * 2, 15.0)


def _wait_ready(on: AccessPointTarget) -> dict[str, Any]:
    with waiting(f"{on.resource}: READY", CREATE_TIMEOUT):
        return _poll_ready(on)


def _poll_ready(on: AccessPointTarget) -> dict[str, Any]:
    deadline = time.monotonic() + CREATE_TIMEOUT
    while True:
        found = on.describe()
        if found is not None and found.get("Status") == "READY":
            return found
        if time.monotonic() > deadline:
            raise AwsError(f"{on.resource}: not READY after {CREATE_TIMEOUT:.0f} s")
        interrupt.pause(2.0)


def create(on: AccessPointTarget, _: Any) -> None:
    on.pending_marker.parent.mkdir(parents=True, exist_ok=True)
    on.pending_marker.write_text(uuid.uuid4().hex)
    token = on.control.create_multi_region_access_point(
        AccountId=on.ctx.account, ClientToken=on.pending_marker.read_text(),
        Details={"Name": on.spec.name, "PublicAccessBlock": dict(PUBLIC_ACCESS_BLOCK),
                 "Regions": [{"Bucket": b} for b in on.spec.buckets]})["RequestTokenARN"]
    _wait_for_request(on, token)
    set_first_routes(on, None)


def read_first_routes(on: AccessPointTarget) -> Any:
    """Whether the first routes are still to be set: only after a crash right after creation."""
    return "pending" if on.pending_marker.exists() else "set"


def set_first_routes(on: AccessPointTarget, _: Any) -> None:
    from .access_point_routes import submit_routes

    found = _wait_ready(on)
    submit_routes(on.ctx, access_point_arn(on.ctx, found["Alias"]), initial_routes(on.spec))
    on.pending_marker.unlink(missing_ok=True)


def read_buckets(on: AccessPointTarget) -> Any:
    found = on.describe()
    return None if found is None else sorted(r["Bucket"] for r in found.get("Regions", []))


def read_alias_tags(on: AccessPointTarget) -> Any:
    """The alias (from S3 Control) and each member's alias tag (None where absent)."""
    found = on.describe()
    tag = alias_tag(on.spec.name)
    return {"alias": None if found is None else found.get("Alias"),
            "tags": {b: read_tags(on.ctx, on.ctx.bucket(b)).get(tag) for b in on.spec.buckets}}


def project_alias_tags(on: AccessPointTarget, current: Any) -> Any:
    """Each member's alias tag; None (absent) while no member has one, as a plan shows it
    behind an access point it would create."""
    if current is None or not any(current["tags"].values()):
        return None
    return current["tags"]


def wanted_alias_tags(on: AccessPointTarget, current: Any) -> Any:
    alias = (current or {}).get("alias") or UNKNOWN_ALIAS
    return {b: alias for b in on.spec.buckets}


def write_alias_tags(on: AccessPointTarget, current: Any) -> None:
    """The alias tag on each member, every other tag kept."""
    alias = (current or {}).get("alias") or (on.describe() or {}).get("Alias")
    if not alias:
        raise AwsError(f"{on.resource}: no alias to record (it does not exist yet)")
    tag = alias_tag(on.spec.name)
    for name in on.spec.buckets:
        bucket = on.ctx.bucket(name)
        tags = read_tags(on.ctx, bucket)
        if tags.get(tag) == alias:
            continue
        if tag not in tags and len(tags) >= MAX_BUCKET_TAGS:
            on.ctx.note(f"bucket {name} has {len(tags)} tags, the most S3 allows: the alias of "
                        f"{on.resource} is not recorded on it; failover finds it there only "
                        f'while us-west-2 answers, or from ACCESS_POINTS["{on.spec.name}"]'
                        '["alias"]')
            continue
        tags[tag] = alias
        write_tags(on.ctx, bucket, tags)


def refuse_bucket_change(on: AccessPointTarget, current: Any) -> None:
    raise AwsError(
        f"{on.resource}: its buckets are {', '.join(current or [])} and AWS cannot change them. "
        f"To serve {', '.join(on.spec.buckets)}, add a new access point under another name to "
        "ACCESS_POINTS, apply, move the shop's clients to its alias, then delete this one "
        f"(aws s3control delete-multi-region-access-point --region {CONTROL_REGION} "
        f"--account-id ACCOUNT --details Name={on.spec.name}) and remove it from ACCESS_POINTS")


def read_existence(on: AccessPointTarget) -> Any:
    """Whether it exists; when it does, its routes as a note (operational state, never drift)."""
    from .access_point_routes import active_buckets, read_routes

    found = on.describe()
    if found is None:
        return None
    if found.get("Status") != "READY":
        on.ctx.note(f"{on.resource}: status {found.get('Status')}")
    elif not on.pending_marker.exists():
        routes = read_routes(on.ctx, access_point_arn(on.ctx, found["Alias"]))
        on.ctx.note(f"{on.resource} ({found['Alias']}): active "
                    f"{', '.join(active_buckets(routes)) or 'none'}; passive "
                    f"{', '.join(sorted(set(routes) - set(active_buckets(routes)))) or 'none'} "
                    "(failover and failback change this; apply never does)")
    return EXISTS


ACCESS_POINT_SETTINGS: tuple[Setting[AccessPointTarget], ...] = (
    Setting("access point", ("s3:GetMultiRegionAccessPoint", "s3:CreateMultiRegionAccessPoint",
                             "s3:DescribeMultiRegionAccessPointOperation",
                             "s3:GetMultiRegionAccessPointRoutes",
                             "s3:SubmitMultiRegionAccessPointRoutes"),
            read_existence, lambda on: EXISTS, create, gate=True),
    Setting("buckets (fixed at creation)", ("s3:GetMultiRegionAccessPoint",),
            read_buckets, lambda on: sorted(on.spec.buckets), refuse_bucket_change,
            made_by_gate=True),
    Setting("first routes", ("s3:SubmitMultiRegionAccessPointRoutes",),
            read_first_routes, lambda on: "set", set_first_routes, made_by_gate=True),
    # failover and failback read it there while us-west-2 is down (find_alias)
    Setting("alias tags on its buckets", ("s3:GetBucketTagging", "s3:PutBucketTagging"),
            read_alias_tags, lambda on: None, write_alias_tags, project=project_alias_tags,
            desire=wanted_alias_tags),
)


def lanes(ctx: Context, scope: Scope) -> list[list[Item]]:
    """One lane per access point, for cr_replication.py's apply and plan (destroy keeps them)."""
    if ctx.kind != CRR or scope.removing:
        return []
    return [[row.item(f"access point {spec.name}", AccessPointTarget(ctx, spec))
             for row in ACCESS_POINT_SETTINGS]
            for spec in ctx.config.access_points.values()]
