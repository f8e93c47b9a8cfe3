"""Load `config/s3_config.py`, check every setting in one pass, and return frozen settings.

The dataclasses it returns are in `s3replication/config/model.py`.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import traceback
from pathlib import Path
from typing import Any

from s3replication.aws.naming import partition
from s3replication.config.model import (
    CRR,
    RULE_LISTS,
    SRR,
    BucketSpec,
    Config,
    Monitoring,
    RuleSpec,
)
from s3replication.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent  # the folder of the two scripts
DEFAULT_CONFIG_PATH = PROJECT_ROOT / "config" / "s3_config.py"
DEFAULT_LOG_FILE = "logs/replication_logs.txt"

REQUIRED_NAMES = ("BUCKETS", "CRR_RULES", "SRR_RULES")
OPTIONAL_NAMES = ("TAGS", "MONITORING", "LOG_FILE")
BUCKET_KEYS = ("region", "kms_key", "replication_role")
RULE_KEYS = ("id", "source", "destination", "prefix", "tags", "priority", "rtc",
             "delete_markers", "storage_class", "replica_modifications")
MONITORING_KEYS = ("sns_topic", "alert_emails", "latency_threshold_seconds", "dashboard")
STORAGE_CLASSES = ("STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA",
                   "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR")
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
_SNS_TOPIC = re.compile(r"[A-Za-z0-9_-]{1,256}")
_DASHBOARD = re.compile(r"[A-Za-z0-9_-]{1,255}")
_TAG_CHARS = re.compile(r"[\w\s.:/=+@-]*")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL = re.compile(rf"[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_LABEL}(?:\.{_LABEL})+")


def load_config(path: str | Path) -> Config:
    """Run the config file, check every setting, and return the frozen Config.

    Raises ConfigError listing every problem found, each naming the setting as written.
    """
    namespace = _execute(path)
    problems: list[str] = []
    _check_names(namespace, problems)
    declared, buckets = _buckets(namespace.get("BUCKETS", {}), problems)
    _check_one_partition(buckets, problems)
    crr = _rules(CRR, namespace.get("CRR_RULES", []), declared, buckets, problems)
    srr = _rules(SRR, namespace.get("SRR_RULES", []), declared, buckets, problems)
    _check_across_rules(crr + srr, buckets, problems)
    tags = _tags("TAGS", namespace.get("TAGS", {}), problems)
    monitoring = _monitoring(namespace.get("MONITORING", {}), problems)
    log_file = _log_file(namespace.get("LOG_FILE", DEFAULT_LOG_FILE), problems)
    if problems:
        raise ConfigError(str(path), problems)
    return Config(path=Path(path).resolve(), buckets=buckets, crr_rules=crr, srr_rules=srr,
                  tags=tags, monitoring=monitoring, log_file=log_file)


def _execute(path: str | Path) -> dict[str, Any]:
    """Run the file in a fresh namespace: it is never imported, nor put in sys.modules."""
    try:
        source = Path(path).read_text(encoding="utf-8")
        code = compile(source, str(path), "exec")
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read the file: {exc.strerror or exc}"]) from None
    except SyntaxError as exc:
        raise ConfigError(str(path), [f"line {exc.lineno}: syntax error: {exc.msg}"]) from None
    except ValueError as exc:  # not UTF-8, or a null byte (a ValueError before Python 3.12)
        raise ConfigError(str(path), [f"cannot read the file: {exc}"]) from None
    namespace: dict[str, Any] = {"__name__": "s3_config", "__file__": str(path)}
    try:
        exec(code, namespace)  # noqa: S102 - the config is the user's own Python, by design
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - any failure in it is a ConfigError
        lines = [n for f, n in traceback.walk_tb(exc.__traceback__)
                 if f.f_code.co_filename == str(path)]
        where = f"line {lines[-1]}: " if lines else ""
        raise ConfigError(str(path), [f"{where}{type(exc).__name__}: {exc}"]) from None
    return namespace


def _show(value: object) -> str:
    """A value as the user would have written it, strings in double quotes."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)


def _unknown_keys(setting: str, value: dict, known: tuple[str, ...], problems: list[str]) -> None:
    for key in value:
        if key not in known:
            hint = difflib.get_close_matches(str(key), known, n=1)
            also = f' (did you mean "{hint[0]}"?)' if hint else ""
            problems.append(f"{setting}: unknown key {_show(key)}{also}")


def _check_names(namespace: dict[str, Any], problems: list[str]) -> None:
    for name in REQUIRED_NAMES:
        if name not in namespace:
            rest = "" if name == "BUCKETS" else " (use [] for no rules)"
            problems.append(f"{name}: missing; it is required{rest}")
    known = REQUIRED_NAMES + OPTIONAL_NAMES
    for name in namespace:
        if name.isupper() and not name.startswith("_") and name not in known:
            hint = difflib.get_close_matches(name, known, n=1)
            rest = f" (did you mean {hint[0]}?)" if hint else ""
            problems.append(f"{name}: unknown setting{rest}")


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
        return f'{_show(region)} is not a Region name such as "us-east-1"'
    return None if region in REGIONS else f"unknown Region {_show(region)}"


def _buckets(value: object, problems: list[str]) -> tuple[set[str], dict[str, BucketSpec]]:
    """The names BUCKETS declares, and a spec for each one written as a dict."""
    if not isinstance(value, dict):
        problems.append(f"BUCKETS: must be a dict of bucket name to settings, "
                        f"not {type(value).__name__}")
        return set(), {}
    declared = {name for name in value if isinstance(name, str)}
    buckets: dict[str, BucketSpec] = {}
    for name, settings in value.items():
        setting = f"BUCKETS[{_show(name)}]"
        reason = (bucket_name_problem(name) if isinstance(name, str)
                  else f"must be a str, not {type(name).__name__}")
        if reason:
            problems.append(f"{setting}: invalid bucket name {_show(name)}: {reason}")
        if not isinstance(settings, dict):
            problems.append(f'{setting}: must be a dict such as {{"region": "us-east-1"}}, '
                            f"not {_show(settings)}")
            continue
        _unknown_keys(setting, settings, BUCKET_KEYS, problems)
        region = settings.get("region")
        if "region" not in settings:
            problems.append(f'{setting}: "region" is required')
        elif reason := region_problem(region):
            problems.append(f'{setting}["region"]: {reason}')
            region = None  # so that the checks across rules can skip it
        kms_key = settings.get("kms_key")
        if kms_key is not None:
            _check_kms_key(f'{setting}["kms_key"]', kms_key, region, problems)
        role = settings.get("replication_role", f"{name}-replication")
        if "replication_role" in settings and not (
                isinstance(role, str) and _IAM_ROLE_NAME.fullmatch(role)):
            problems.append(f'{setting}["replication_role"]: {_show(role)} is not an IAM '
                            "role name (1 to 64 letters, digits and +=,.@_-)")
        if isinstance(name, str):
            buckets[name] = BucketSpec(name, region, kms_key, role)
    return declared, buckets


def _check_one_partition(buckets: dict[str, BucketSpec], problems: list[str]) -> None:
    """All buckets in one AWS partition: credentials, IAM roles and replication do not cross
    partitions (https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/
    partitions.html)."""
    by_partition: dict[str, list[str]] = {}
    for name, spec in buckets.items():
        if spec.region:
            by_partition.setdefault(partition(spec.region), []).append(name)
    if len(by_partition) < 2:
        return
    first = next(iter(by_partition))
    for other, names in list(by_partition.items())[1:]:
        for name in names:
            problems.append(
                f'BUCKETS[{_show(name)}]["region"]: {buckets[name].region} is in partition '
                f"{other}, but {_show(by_partition[first][0])} is in {first}; one config "
                "cannot span partitions (IAM roles, credentials and replication stay within "
                "one)")


def _check_kms_key(setting: str, kms_key: object, region: object, problems: list[str]) -> None:
    match = _KMS_KEY_ARN.fullmatch(kms_key) if isinstance(kms_key, str) else None
    if match and region and match[2] != region:
        problems.append(f"{setting}: key ARN {_show(kms_key)} is in {match[2]}, "
                        f"not in the bucket's Region {region}")
    elif match and region and match[1] != partition(str(region)):
        problems.append(f"{setting}: key ARN {_show(kms_key)} names partition {match[1]}, but "
                        f"Region {region} is in partition {partition(str(region))}")
    elif not match and not (isinstance(kms_key, str) and _KMS_ALIAS.fullmatch(kms_key)):
        problems.append(f'{setting}: {_show(kms_key)} is neither an alias "alias/NAME" '
                        '(not "alias/aws/...") nor a key ARN "arn:aws:kms:REGION:ACCOUNT:key/ID"')


def _spec(buckets: dict[str, BucketSpec], name: object) -> BucketSpec | None:
    return buckets.get(name) if isinstance(name, str) else None


def _rules(kind: str, value: object, declared: set[str], buckets: dict[str, BucketSpec],
           problems: list[str]) -> tuple[RuleSpec, ...]:
    name = RULE_LISTS[kind]
    if not isinstance(value, (list, tuple)):
        problems.append(f"{name}: must be a list of rules, not {type(value).__name__}")
        return ()
    rules = []
    for index, rule in enumerate(value):
        if not isinstance(rule, dict):
            problems.append(f"{name}[{index}]: a rule must be a dict, not {_show(rule)}")
            continue
        rule_id = rule.get("id")
        label = f" {_show(rule_id)}" if isinstance(rule_id, str) else ""
        rules.append(_rule(kind, f"{name}[{index}]{label}", rule, declared, buckets, problems))
    return tuple(rules)


def _rule(kind: str, setting: str, rule: dict, declared: set[str],
          buckets: dict[str, BucketSpec], problems: list[str]) -> RuleSpec:
    _unknown_keys(setting, rule, RULE_KEYS, problems)
    for key in ("id", "source", "destination"):
        if key not in rule:
            problems.append(f'{setting}: "{key}" is required')
        elif not isinstance(rule[key], str):
            problems.append(f"{setting}: {key} must be a str, not {_show(rule[key])}")
    rule_id, source, destination = (rule.get(k) for k in ("id", "source", "destination"))
    if isinstance(rule_id, str) and not 1 <= len(rule_id) <= 255:
        problems.append(f"{setting}: id must be 1 to 255 characters long, not {len(rule_id)}")
    for key, bucket in (("source", source), ("destination", destination)):
        if isinstance(bucket, str) and bucket not in declared:
            problems.append(f"{setting}: {key} {_show(bucket)} is not in BUCKETS")
    if isinstance(source, str) and source == destination:
        problems.append(f"{setting}: source and destination are both {_show(source)}")
    elif (from_spec := _spec(buckets, source)) and (to_spec := _spec(buckets, destination)):
        from_region, to_region = from_spec.region, to_spec.region
        if from_region and to_region:
            if kind == CRR and from_region == to_region:
                problems.append(f"{setting}: destination region {to_region} equals source "
                                "region (same-Region rules belong in SRR_RULES)")
            if kind == SRR and from_region != to_region:
                problems.append(f"{setting}: destination region {to_region} differs from "
                                f"source region {from_region} (move the rule to CRR_RULES)")
    prefix = rule.get("prefix", "")
    if not isinstance(prefix, str):
        problems.append(f"{setting}: prefix must be a str, not {_show(prefix)}")
    tags = _tags(f"{setting} tags", rule.get("tags"), problems)
    priority = rule.get("priority")
    if priority is not None and (type(priority) is not int or priority < 0):
        problems.append(f"{setting}: priority must be a whole number, 0 or more, "
                        f"not {_show(priority)}")
    flags = {key: rule.get(key, default) for key, default in (
        ("rtc", True), ("delete_markers", not tags), ("replica_modifications", False))}
    for key, flag in flags.items():
        if not isinstance(flag, bool):
            problems.append(f"{setting}: {key} must be True or False, not {_show(flag)}")
    if tags and flags["delete_markers"] is True:
        problems.append(f"{setting}: delete_markers True with tags: S3 does not replicate "
                        "delete markers for rules that filter on tags")
    storage_class = rule.get("storage_class", "STANDARD")
    if storage_class not in STORAGE_CLASSES:
        problems.append(f"{setting}: storage_class {_show(storage_class)} is not one of "
                        + ", ".join(STORAGE_CLASSES))
    return RuleSpec(id=rule_id, kind=kind, source=source, destination=destination,
                    prefix=prefix, tags=tuple(sorted(tags.items())), priority=priority,
                    storage_class=storage_class, setting=setting, **flags)


def _check_across_rules(rules: tuple[RuleSpec, ...], buckets: dict[str, BucketSpec],
                        problems: list[str]) -> None:
    """Unique ids, unique priorities per source, SSE-KMS on both ends, one role per source."""
    ids: dict[str, RuleSpec] = {}
    priorities: dict[tuple[str, int], RuleSpec] = {}
    for rule in rules:
        if isinstance(rule.id, str) and ids.setdefault(rule.id, rule) is not rule:
            problems.append(f"{rule.setting}: id {_show(rule.id)} is also used by "
                            f"{ids[rule.id].setting}")
        if isinstance(rule.source, str) and type(rule.priority) is int:
            first = priorities.setdefault((rule.source, rule.priority), rule)
            if first is not rule:
                problems.append(f"{rule.setting}: priority {rule.priority} on source "
                                f"{_show(rule.source)} is also used by {first.setting}")
        source, destination = _spec(buckets, rule.source), _spec(buckets, rule.destination)
        if source and destination and source.kms_key and not destination.kms_key:
            problems.append(f"{rule.setting}: source {_show(source.name)} uses SSE-KMS but "
                            f"destination {_show(destination.name)} has no kms_key, so S3 "
                            "would silently skip the SSE-KMS objects")
    roles: dict[str, str] = {}
    for name in dict.fromkeys(r.source for r in rules if _spec(buckets, r.source)):
        role = buckets[name].replication_role
        setting = f'BUCKETS[{_show(name)}]["replication_role"]'
        if not isinstance(role, str):
            continue
        if len(role) > 64 and role == f"{name}-replication":  # a written one: checked above
            problems.append(f"{setting}: the default role name {_show(role)} is over 64 "
                            "characters; set a shorter replication_role")
        elif roles.setdefault(role, name) != name:
            problems.append(f"{setting}: role {_show(role)} is also the role of source "
                            f"{_show(roles[role])}; each source bucket needs its own role")


def _tags(setting: str, value: object, problems: list[str]) -> dict[str, str]:
    """Tags as dict of str to str, checked against S3's tag rules; {} when any is bad."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"{setting}: must be a dict of str to str, not {_show(value)}")
        return {}
    before = len(problems)
    for key, text in value.items():
        where = f"{setting}[{_show(key)}]"
        if not (isinstance(key, str) and 1 <= len(key) <= 128 and _TAG_CHARS.fullmatch(key)):
            problems.append(f"{where}: a tag key must be a str of 1 to 128 letters, digits, "
                            "spaces and _.:/=+-@")
        elif key.lower().startswith("aws:"):
            problems.append(f'{where}: tag keys beginning with "aws:" are reserved by AWS')
        if not (isinstance(text, str) and len(text) <= 256 and _TAG_CHARS.fullmatch(text)):
            problems.append(f"{where}: value {_show(text)} must be a str of at most 256 "
                            "letters, digits, spaces and _.:/=+-@")
    return dict(value) if len(problems) == before else {}


def _monitoring(value: object, problems: list[str]) -> Monitoring:
    if not isinstance(value, dict):
        problems.append(f"MONITORING: must be a dict, not {_show(value)}")
        return Monitoring()
    _unknown_keys("MONITORING", value, MONITORING_KEYS, problems)
    topic = value.get("sns_topic", Monitoring.sns_topic)
    if not (isinstance(topic, str) and _SNS_TOPIC.fullmatch(topic)):
        problems.append(f'MONITORING["sns_topic"]: {_show(topic)} is not an SNS topic name '
                        "(1 to 256 letters, digits, _ and -)")
    emails = value.get("alert_emails", ())
    if not isinstance(emails, (list, tuple)):
        problems.append(f'MONITORING["alert_emails"]: must be a list of e-mail addresses, '
                        f"not {_show(emails)}")
        emails = ()
    for index, email in enumerate(emails):
        if not (isinstance(email, str) and _EMAIL.fullmatch(email)):
            problems.append(f'MONITORING["alert_emails"][{index}]: {_show(email)} is not '
                            "an e-mail address")
    threshold = value.get("latency_threshold_seconds", Monitoring.latency_threshold_seconds)
    if (isinstance(threshold, bool) or not isinstance(threshold, (int, float))
            or not 0 <= threshold < math.inf):
        problems.append('MONITORING["latency_threshold_seconds"]: must be a number of '
                        f"seconds, 0 or more, not {_show(threshold)}")
    dashboard = value.get("dashboard")
    if dashboard is not None and not (isinstance(dashboard, str)
                                      and _DASHBOARD.fullmatch(dashboard)):
        problems.append(f'MONITORING["dashboard"]: {_show(dashboard)} is neither None nor a '
                        "dashboard name (1 to 255 letters, digits, _ and -)")
    return Monitoring(topic, tuple(emails), threshold, dashboard)


def _log_file(value: object, problems: list[str]) -> Path:
    """LOG_FILE; a relative path is relative to the project root (the folder of the two
    scripts), wherever the config file is."""
    if not isinstance(value, (str, Path)) or not str(value):
        problems.append(f"LOG_FILE: must be a non-empty path, not {_show(value)}")
        return PROJECT_ROOT / DEFAULT_LOG_FILE
    resolved = PROJECT_ROOT / value  # an absolute value stays as is
    if resolved.is_dir():
        problems.append(f"LOG_FILE: {_show(value)} is a folder; name a file in it")
    return resolved
