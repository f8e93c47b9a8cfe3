"""BUCKETS: bucket names, Regions, KMS keys and role names, all in one partition."""

from __future__ import annotations

import re
from typing import Any

from s3replication.aws.naming import partition
from s3replication.config.messages import show, unknown_keys
from s3replication.config.model import LOCK_MODES, BucketSpec, ObjectLockSpec

BUCKET_KEYS = ("region", "kms_key", "replication_role", "account", "object_lock")
OBJECT_LOCK_KEYS = ("mode", "days", "years")
# Commercial, GovCloud and China Regions, as in botocore's endpoints data; AWS is never asked.
REGIONS = frozenset((
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "ca-west-1",
    "mx-central-1", "sa-east-1", "eu-central-1", "eu-central-2", "eu-west-1", "eu-west-2",
    "eu-west-3", "eu-north-1", "eu-south-1", "eu-south-2", "af-south-1", "il-central-1",
    "me-central-1", "me-south-1", "ap-east-1", "ap-east-2", "ap-south-1", "ap-south-2",
    "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
    "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
    "us-gov-east-1", "us-gov-west-1", "cn-north-1", "cn-northwest-1",
))

_REGION_FORMAT = re.compile(r"[a-z]{2}(-gov)?-[a-z]+-\d{1,2}")
_BUCKET_CHARS = re.compile(r"[a-z0-9][a-z0-9.-]*[a-z0-9]")
_IP_ADDRESS = re.compile(r"\d{1,3}(\.\d{1,3}){3}")
_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_KMS_ALIAS = re.compile(r"alias/(?!aws/)[A-Za-z0-9/_-]{1,250}")
_KMS_KEY_ARN = re.compile(r"arn:(aws[-a-z]*):kms:([a-z0-9-]+):\d{12}:key/[A-Za-z0-9-]+")
_IAM_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)


def bucket_name_problem(name: str) -> str | None:
    """Why S3 would refuse `name` for a general purpose bucket, or None if it is valid."""
    if not 3 <= len(name) <= 63:
        return f"must be 3 to 63 characters long, not {len(name)}"
    if not _BUCKET_CHARS.fullmatch(name):
        return ("must hold only lowercase letters, digits, dots and hyphens, "
                "and begin and end with a letter or digit")
    if ".." in name:
        return "must not hold two adjacent dots"
    if _IP_ADDRESS.fullmatch(name):
        return "must not be formatted as an IP address"
    prefix = next((p for p in _BUCKET_PREFIXES if name.startswith(p)), None)
    suffix = next((s for s in _BUCKET_SUFFIXES if name.endswith(s)), None)
    return (f'must not begin with "{prefix}"' if prefix
            else f'must not end with "{suffix}"' if suffix else None)


def region_problem(region: object) -> str | None:
    """Why `region` is not a known AWS Region name, or None if it is one."""
    if not (isinstance(region, str) and _REGION_FORMAT.fullmatch(region)):
        return f'{show(region)} is not a Region name such as "us-east-1"'
    return None if region in REGIONS else f"unknown Region {show(region)}"


def buckets(value: object, problems: list[str]) -> tuple[set[str], dict[str, BucketSpec]]:
    """The names BUCKETS declares, and a spec for each one written as a dict."""
    if not isinstance(value, dict):
        problems.append(f"BUCKETS: must be a dict of bucket name to settings, "
                        f"not {type(value).__name__}")
        return set(), {}
    declared = {name for name in value if isinstance(name, str)}
    specs: dict[str, BucketSpec] = {}
    for name, settings in value.items():
        setting = f"BUCKETS[{show(name)}]"
        reason = (bucket_name_problem(name) if isinstance(name, str)
                  else f"must be a str, not {type(name).__name__}")
        if reason:
            problems.append(f"{setting}: invalid bucket name {show(name)}: {reason}")
        if not isinstance(settings, dict):
            problems.append(f'{setting}: must be a dict such as {{"region": "us-east-1"}}, '
                            f"not {show(settings)}")
            continue
        spec = _bucket(setting, name, settings, problems)
        if isinstance(name, str):
            specs[name] = spec
    return declared, specs


def _bucket(setting: str, name: object, settings: dict[Any, Any],
            problems: list[str]) -> BucketSpec:
    """One bucket's settings as written (Any: a ConfigError is raised before a wrong one is
    used); a Region that is not one becomes None, so that the checks across rules skip it."""
    unknown_keys(setting, settings, BUCKET_KEYS, problems)
    region: Any = settings.get("region")
    if "region" not in settings:
        problems.append(f'{setting}: "region" is required')
    elif reason := region_problem(region):
        problems.append(f'{setting}["region"]: {reason}')
        region = None
    kms_key = settings.get("kms_key")
    if kms_key is not None:
        _check_kms_key(f'{setting}["kms_key"]', kms_key, region, problems)
    role = settings.get("replication_role", f"{name}-replication")
    if "replication_role" in settings and not (
            isinstance(role, str) and _IAM_ROLE_NAME.fullmatch(role)):
        problems.append(f'{setting}["replication_role"]: {show(role)} is not an IAM '
                        "role name (1 to 64 letters, digits and +=,.@_-)")
    lock = (_object_lock(f'{setting}["object_lock"]', settings["object_lock"], problems)
            if "object_lock" in settings else None)
    return BucketSpec(str(name), region, kms_key, role, settings.get("account"), lock)


def _object_lock(setting: str, value: object, problems: list[str]) -> ObjectLockSpec | None:
    """`{"mode": "COMPLIANCE" | "GOVERNANCE", "days": N}` or `"years": N`: Object Lock's
    default retention, in whole days or years, at least 1 (S3's DefaultRetention takes one of
    the two, https://docs.aws.amazon.com/AmazonS3/latest/API/API_DefaultRetention.html)."""
    example = '{"mode": "COMPLIANCE", "days": 30}'
    if not isinstance(value, dict):
        problems.append(f"{setting}: must be a dict such as {example}, not {show(value)}")
        return None
    count = len(problems)
    unknown_keys(setting, value, OBJECT_LOCK_KEYS, problems)
    mode = value.get("mode")
    if "mode" not in value:
        problems.append(f'{setting}: "mode" is required ("COMPLIANCE" or "GOVERNANCE")')
    elif mode not in LOCK_MODES:
        problems.append(f'{setting}["mode"]: must be "COMPLIANCE" or "GOVERNANCE", '
                        f"not {show(mode)}")
    periods = [key for key in ("days", "years") if key in value]
    if len(periods) != 1:
        problems.append(f'{setting}: needs exactly one of "days" and "years", '
                        f"not {'both' if periods else 'neither'}")
    for key in periods:
        period = value[key]
        if type(period) is not int or period < 1:
            problems.append(f'{setting}["{key}"]: must be a whole number of {key}, 1 or more, '
                            f"not {show(period)}")
    if len(problems) > count:
        return None
    return ObjectLockSpec(str(mode), value.get("days"), value.get("years"))


def check_one_partition(specs: dict[str, BucketSpec], problems: list[str]) -> None:
    """All buckets in one AWS partition: credentials, IAM roles and replication do not cross
    partitions (https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/
    partitions.html)."""
    by_partition: dict[str, list[str]] = {}
    for name, spec in specs.items():
        if spec.region:
            by_partition.setdefault(partition(spec.region), []).append(name)
    if len(by_partition) < 2:
        return
    first = next(iter(by_partition))
    for other, names in list(by_partition.items())[1:]:
        for name in names:
            problems.append(
                f'BUCKETS[{show(name)}]["region"]: {specs[name].region} is in partition '
                f"{other}, but {show(by_partition[first][0])} is in {first}; one config "
                "cannot span partitions (IAM roles, credentials and replication stay within "
                "one)")


def _check_kms_key(setting: str, kms_key: object, region: object, problems: list[str]) -> None:
    match = _KMS_KEY_ARN.fullmatch(kms_key) if isinstance(kms_key, str) else None
    if match and region and match[2] != region:
        problems.append(f"{setting}: key ARN {show(kms_key)} is in {match[2]}, "
                        f"not in the bucket's Region {region}")
    elif match and region and match[1] != partition(str(region)):
        problems.append(f"{setting}: key ARN {show(kms_key)} names partition {match[1]}, but "
                        f"Region {region} is in partition {partition(str(region))}")
    elif not match and not (isinstance(kms_key, str) and _KMS_ALIAS.fullmatch(kms_key)):
        problems.append(f'{setting}: {show(kms_key)} is neither an alias "alias/NAME" '
                        '(not "alias/aws/...") nor a key ARN "arn:aws:kms:REGION:ACCOUNT:key/ID"')


def spec_of(specs: dict[str, BucketSpec], name: object) -> BucketSpec | None:
    """The spec of bucket `name`, if it is a declared one written as a dict."""
    return specs.get(name) if isinstance(name, str) else None
