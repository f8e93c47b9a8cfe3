"""ACCESS_POINTS: the Multi-Region Access Points over the config's buckets, and which of their
buckets start active (https://docs.aws.amazon.com/AmazonS3/latest/userguide/
MultiRegionAccessPointRestrictions.html)."""

from __future__ import annotations

import re
from typing import Any

from s3replication.config.messages import show, unknown_keys
from s3replication.config.model import AccessPointSpec, BucketSpec

ACCESS_POINT_KEYS = ("buckets", "active", "alias")
# CreateMultiRegionAccessPoint's Name pattern
# (https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_CreateMultiRegionAccessPointInput.html)
_MRAP_NAME = re.compile(r"[a-z0-9][-a-z0-9]{1,48}[a-z0-9]")
# The alias AWS gives an access point at creation, e.g. mfzwi23gnjvgw.mrap
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointRequests.html):
# optional, for failover and failback while us-west-2 (GetMultiRegionAccessPoint) is down.
_MRAP_ALIAS = re.compile(r"[a-z][a-z0-9]*\.mrap")


def access_points(value: object, specs: dict[str, BucketSpec],
                  problems: list[str]) -> dict[str, AccessPointSpec]:
    if not isinstance(value, dict):
        problems.append(f"ACCESS_POINTS: must be a dict of access point name to settings, "
                        f"not {type(value).__name__}")
        return {}
    found: dict[str, AccessPointSpec] = {}
    for name, settings in value.items():
        setting = f"ACCESS_POINTS[{show(name)}]"
        if not (isinstance(name, str) and _MRAP_NAME.fullmatch(name)):
            problems.append(f"{setting}: {show(name)} is not a Multi-Region Access Point name "
                            "(3 to 50 lowercase letters, digits and hyphens, beginning and "
                            "ending with a letter or digit)")
        if not isinstance(settings, dict):
            problems.append(f'{setting}: must be a dict such as {{"buckets": ["a", "b"], '
                            f'"active": ["a"]}}, not {show(settings)}')
            continue
        found[str(name)] = _access_point(setting, str(name), settings, specs, problems)
    return found


def _names(setting: str, value: Any, problems: list[str]) -> tuple[str, ...]:
    if not (isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)):
        problems.append(f"{setting}: must be a list of bucket names, not {show(value)}")
        return ()
    if len(set(value)) != len(value):
        problems.append(f"{setting}: names a bucket twice")
    return tuple(value)


def _access_point(setting: str, name: str, settings: dict[Any, Any],
                  specs: dict[str, BucketSpec], problems: list[str]) -> AccessPointSpec:
    unknown_keys(setting, settings, ACCESS_POINT_KEYS, problems)
    members = _names(f'{setting}["buckets"]', settings.get("buckets"), problems)
    active = (_names(f'{setting}["active"]', settings["active"], problems)
              if "active" in settings else ())  # default: every bucket active
    known = [specs[b] for b in members if b in specs]
    for bucket in members:
        if bucket not in specs:
            problems.append(f'{setting}["buckets"]: {show(bucket)} is not in BUCKETS')
        elif specs[bucket].account:
            problems.append(f'{setting}["buckets"]: {show(bucket)} is in account '
                            f"{show(specs[bucket].account)}; the buckets of an access point "
                            "must be the caller's")
    if len(members) < 2:
        problems.append(f'{setting}["buckets"]: needs 2 or more buckets, in different Regions')
    regions: dict[str, str] = {}
    for spec in known:
        if spec.region and regions.setdefault(spec.region, spec.name) != spec.name:
            problems.append(f'{setting}["buckets"]: {show(spec.name)} and '
                            f"{show(regions[spec.region])} are both in {spec.region}; an access "
                            "point takes one bucket per Region")
    for bucket in active:
        if bucket not in members:
            problems.append(f'{setting}["active"]: {show(bucket)} is not one of its "buckets"')
    if "active" in settings and not active:
        problems.append(f'{setting}["active"]: name at least one bucket, or no request '
                        "would be served")
    alias = settings.get("alias")
    if alias is not None and not (isinstance(alias, str) and _MRAP_ALIAS.fullmatch(alias)):
        problems.append(f'{setting}["alias"]: {show(alias)} is not a Multi-Region Access Point '
                        "alias (as AWS shows it, e.g. \"mfzwi23gnjvgw.mrap\"; s3control "
                        "get-multi-region-access-point --region us-west-2 prints it)")
        alias = None
    return AccessPointSpec(name, members, active or members, setting,
                           str(alias) if alias else None)
