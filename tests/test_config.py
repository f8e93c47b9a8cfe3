"""Loading and checking config/s3_config.py: the shipped example, defaults, and every rule."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest

from s3replication.config import (
    CRR,
    DEFAULT_CONFIG_PATH,
    PROJECT_ROOT,
    SRR,
    AccountSpec,
    BucketSpec,
    Monitoring,
    load_config,
)
from s3replication.errors import ConfigError, ExitStatus

DELETE = object()  # an edit that removes the setting

# A small valid config; each bad case below changes one thing in a copy of it.
BASE: dict[str, object] = {
    "TAGS": {"project": "test"},
    "BUCKETS": {
        "src-use1": {"region": "us-east-1", "kms_key": "alias/test-use1"},
        "dst-usw2": {"region": "us-west-2", "kms_key": "alias/test-usw2"},
        "bak-use1": {"region": "us-east-1", "kms_key": "alias/test-use1"},
        "img-use1": {"region": "us-east-1", "kms_key": None},
        "img-euw1": {"region": "eu-west-1", "kms_key": None},
    },
    "CRR_RULES": [
        {"id": "r1", "source": "src-use1", "destination": "dst-usw2", "prefix": "a/"},
        {"id": "r2", "source": "img-use1", "destination": "img-euw1"},
    ],
    "SRR_RULES": [
        {"id": "r3", "source": "src-use1", "destination": "bak-use1", "prefix": "b/"},
    ],
    "MONITORING": {"sns_topic": "alerts", "alert_emails": ["ops@example.com"]},
    "LOG_FILE": "logs/test.log",
}
KEY_ARN = "arn:aws:kms:{}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def write_config(directory: Path, settings: dict[str, object], extra: str = "") -> Path:
    """Write settings as Python constants to DIRECTORY/config/s3_config.py."""
    path = directory / "config" / "s3_config.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{name} = {value!r}" for name, value in settings.items()]
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def edited(edits: dict[tuple, object]) -> dict[str, object]:
    """A copy of BASE with each (path to a setting) set to a value, or DELETEd."""
    settings = copy.deepcopy(BASE)
    for path, value in edits.items():
        parent = settings
        for step in path[:-1]:
            parent = parent[step]
        if value is DELETE:
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
    return settings


def config_error(tmp_path: Path, settings: dict[str, object], extra: str = "") -> ConfigError:
    path = write_config(tmp_path, settings, extra)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.exit_status == ExitStatus.BAD_INPUT
    assert str(path) in str(caught.value)
    return caught.value


@pytest.fixture
def shop_config():
    return load_config(DEFAULT_CONFIG_PATH)


def test_shipped_config_loads(shop_config):
    assert list(shop_config.buckets) == [
        "shopco-data-use1", "shopco-data-usw2", "shopco-data-use1-backup",
        "shopco-assets-use1", "shopco-assets-euw1", "shopco-logs-use1",
        "shopco-logs-use1-archive",
    ]
    assert shop_config.buckets["shopco-assets-use1"] == BucketSpec(
        "shopco-assets-use1", "us-east-1", None, "shopco-assets-replicator")
    assert shop_config.buckets["shopco-data-use1"].replication_role == (
        "shopco-data-use1-replication")
    assert [r.id for r in shop_config.crr_rules] == [
        "catalog-usw2", "orders-usw2", "inventory-usw2", "images-euw1"]
    assert [r.id for r in shop_config.srr_rules] == ["customers-backup", "transactions-archive"]
    orders = shop_config.crr_rules[1]
    assert (orders.kind, orders.tags, orders.priority, orders.delete_markers) == (
        CRR, (("retain", "7y"),), 50, False)
    assert orders.setting == 'CRR_RULES[1] "orders-usw2"'
    catalog = shop_config.crr_rules[0]
    assert (catalog.prefix, catalog.tags, catalog.priority, catalog.rtc, catalog.delete_markers,
            catalog.storage_class, catalog.replica_modifications) == (
        "catalog/", (), None, True, True, "STANDARD", False)
    assert shop_config.crr_rules[3].storage_class == "STANDARD_IA"
    assert shop_config.srr_rules[1].kind == SRR and shop_config.srr_rules[1].rtc is False
    assert shop_config.tags == {"project": "shopco", "owner": "platform-team"}
    assert shop_config.monitoring == Monitoring(
        "shopco-replication-alerts", (), 900, "shopco-replication")
    project_root = DEFAULT_CONFIG_PATH.parent.parent
    assert shop_config.log_file == project_root / "logs" / "replication_logs.txt"
    assert shop_config.path == DEFAULT_CONFIG_PATH


def test_defaults_for_everything_optional(tmp_path):
    settings = {
        "BUCKETS": {"a-use1": {"region": "us-east-1"}, "a-usw2": {"region": "us-west-2"}},
        "CRR_RULES": [
            {"id": "all", "source": "a-use1", "destination": "a-usw2"},
            {"id": "tagged", "source": "a-use1", "destination": "a-usw2",
             "tags": {"b": "2", "a": "1"}},
        ],
        "SRR_RULES": [],
    }
    config = load_config(write_config(tmp_path, settings))
    assert config.buckets["a-use1"] == BucketSpec("a-use1", "us-east-1", None,
                                                  "a-use1-replication")
    everything, tagged = config.crr_rules
    assert (everything.prefix, everything.tags, everything.priority, everything.rtc,
            everything.delete_markers, everything.storage_class,
            everything.replica_modifications) == ("", (), None, True, True, "STANDARD", False)
    assert tagged.tags == (("a", "1"), ("b", "2"))  # sorted by key
    assert tagged.delete_markers is False  # the default with tags
    assert config.srr_rules == ()
    assert config.tags == {}
    assert config.monitoring == Monitoring("replication-alerts", (), 900, None)
    assert config.log_file == PROJECT_ROOT / "logs" / "replication_logs.txt"


def test_log_file_relative_to_project_root_and_absolute_kept(tmp_path):
    """Relative to the folder of the two scripts, not to the config's folder's parent."""
    assert load_config(write_config(tmp_path, BASE)).log_file == PROJECT_ROOT / "logs" / "test.log"
    absolute = tmp_path / "elsewhere" / "run.log"
    config = load_config(write_config(tmp_path, edited({("LOG_FILE",): str(absolute)})))
    assert config.log_file == absolute


def test_private_and_lower_case_names_are_ignored_and_nothing_is_imported(tmp_path):
    extra = "import os\n_SPARE = 1\nhelper = os.sep\n"
    modules_before = set(sys.modules)
    config = load_config(write_config(tmp_path, BASE, extra))
    assert config.crr_rules[0].id == "r1"
    assert set(sys.modules) - modules_before == set()


def test_same_priority_on_different_sources_is_fine(tmp_path):
    settings = edited({("CRR_RULES", 0, "priority"): 7, ("CRR_RULES", 1, "priority"): 7})
    assert [r.priority for r in load_config(write_config(tmp_path, settings)).crr_rules] == [7, 7]


def test_two_way_replication_is_accepted(tmp_path):
    settings = edited({("CRR_RULES",): [
        {"id": "there", "source": "src-use1", "destination": "dst-usw2",
         "replica_modifications": True},
        {"id": "back", "source": "dst-usw2", "destination": "src-use1",
         "replica_modifications": True},
    ]})
    config = load_config(write_config(tmp_path, settings))
    assert [r.replica_modifications for r in config.crr_rules] == [True, True]


def test_key_arn_in_the_buckets_region_is_accepted(tmp_path):
    settings = edited({("BUCKETS", "dst-usw2", "kms_key"): KEY_ARN.format("us-west-2")})
    config = load_config(write_config(tmp_path, settings))
    assert config.buckets["dst-usw2"].kms_key == KEY_ARN.format("us-west-2")


BAD_CHARS = ("must hold only lowercase letters, digits, dots and hyphens, "
             "and begin and end with a letter or digit")
LONG_BUCKET = "b" * 60  # valid, but "<bucket>-replication" is over IAM's 64 characters

# (id, edits to BASE, the problems expected, in order, each naming the setting and value)
BAD_CASES = [
    # required and unknown top-level names
    ("missing-rules-list", {("SRR_RULES",): DELETE}, ["SRR_RULES: missing"]),
    ("missing-buckets", {("BUCKETS",): DELETE, ("CRR_RULES",): [], ("SRR_RULES",): []},
     ["BUCKETS: missing"]),
    ("unknown-top-level-name", {("BUCKET",): {}},
     ["BUCKET: unknown setting (did you mean BUCKETS?)"]),
    # unknown keys
    ("unknown-bucket-key", {("BUCKETS", "img-euw1", "kms"): None},
     ['BUCKETS["img-euw1"]: unknown key "kms" (did you mean "kms_key"?)']),
    ("unknown-rule-key", {("CRR_RULES", 0, "prefx"): "c/"},
     ['CRR_RULES[0] "r1": unknown key "prefx" (did you mean "prefix"?)']),
    ("unknown-monitoring-key", {("MONITORING", "email"): "x@example.com"},
     ['MONITORING: unknown key "email"']),
    # wrong types
    ("buckets-not-dict", {("BUCKETS",): [], ("CRR_RULES",): [], ("SRR_RULES",): []},
     ["BUCKETS: must be a dict of bucket name to settings, not list"]),
    ("bucket-settings-not-dict", {("BUCKETS", "img-euw1"): "eu-west-1"},
     ['BUCKETS["img-euw1"]: must be a dict such as {"region": "us-east-1"}, not "eu-west-1"']),
    ("rules-not-list", {("SRR_RULES",): {"id": "r3"}},
     ["SRR_RULES: must be a list of rules, not dict"]),
    ("rule-not-dict", {("SRR_RULES",): ["r3"]}, ['SRR_RULES[0]: a rule must be a dict, not "r3"']),
    ("id-not-str", {("SRR_RULES", 0, "id"): 3}, ["SRR_RULES[0]: id must be a str, not 3"]),
    ("source-missing", {("SRR_RULES", 0, "source"): DELETE},
     ['SRR_RULES[0] "r3": "source" is required']),
    ("priority-bool", {("CRR_RULES", 0, "priority"): True},
     ['CRR_RULES[0] "r1": priority must be a whole number, 0 or more, not True']),
    ("priority-str", {("CRR_RULES", 0, "priority"): "5"},
     ['CRR_RULES[0] "r1": priority must be a whole number, 0 or more, not "5"']),
    ("prefix-not-str", {("CRR_RULES", 0, "prefix"): ["a/"]},
     ['CRR_RULES[0] "r1": prefix must be a str, not [\'a/\']']),
    ("rtc-not-bool", {("CRR_RULES", 0, "rtc"): "yes"},
     ['CRR_RULES[0] "r1": rtc must be True or False, not "yes"']),
    ("replica-modifications-not-bool", {("CRR_RULES", 0, "replica_modifications"): 1},
     ['CRR_RULES[0] "r1": replica_modifications must be True or False, not 1']),
    ("rule-tags-not-dict", {("CRR_RULES", 0, "tags"): ["retain"]},
     ['CRR_RULES[0] "r1" tags: must be a dict of str to str, not [\'retain\']']),
    ("rule-tag-value-not-str", {("CRR_RULES", 0, "tags"): {"retain": 7}},
     ['CRR_RULES[0] "r1" tags["retain"]: value 7 must be a str']),
    ("rule-tag-key-empty", {("CRR_RULES", 0, "tags"): {"": "x"}},
     ['CRR_RULES[0] "r1" tags[""]: a tag key must be a str of 1 to 128']),
    ("monitoring-not-dict", {("MONITORING",): ["alerts"]},
     ["MONITORING: must be a dict, not ['alerts']"]),
    ("alert-emails-not-list", {("MONITORING", "alert_emails"): "ops@example.com"},
     ['MONITORING["alert_emails"]: must be a list of e-mail addresses, not "ops@example.com"']),
    # bucket names (S3's rules)
    *[(f"bucket-name-{case}", {("BUCKETS", name): {"region": "us-east-1"}},
       [f'BUCKETS["{name}"]: invalid bucket name "{name}": {reason}']) for case, name, reason in [
        ("uppercase-underscore", "Bad_Name", BAD_CHARS),
        ("too-short", "ab", "must be 3 to 63 characters long, not 2"),
        ("too-long", "a" * 64, "must be 3 to 63 characters long, not 64"),
        ("hyphen-first", "-abc", BAD_CHARS),
        ("dot-last", "abc.", BAD_CHARS),
        ("adjacent-dots", "a..b", "must not hold two adjacent dots"),
        ("ip-address", "192.168.5.4", "must not be formatted as an IP address"),
        ("xn", "xn--abc", 'must not begin with "xn--"'),
        ("sthree", "sthree-abc", 'must not begin with "sthree-"'),
        ("demo", "amzn-s3-demo-abc", 'must not begin with "amzn-s3-demo-"'),
        ("s3alias", "abc-s3alias", 'must not end with "-s3alias"'),
        ("ol-s3", "abc--ol-s3", 'must not end with "--ol-s3"'),
        ("mrap", "abc.mrap", 'must not end with ".mrap"'),
        ("x-s3", "abc--x-s3", 'must not end with "--x-s3"'),
        ("table-s3", "abc--table-s3", 'must not end with "--table-s3"'),
    ]],
    # Regions
    ("region-unknown", {("BUCKETS", "img-euw1", "region"): "eu-west-9"},
     ['BUCKETS["img-euw1"]["region"]: unknown Region "eu-west-9"']),
    ("region-format", {("BUCKETS", "img-euw1", "region"): "EU-WEST-1"},
     ['BUCKETS["img-euw1"]["region"]: "EU-WEST-1" is not a Region name']),
    ("region-missing", {("BUCKETS", "img-euw1", "region"): DELETE},
     ['BUCKETS["img-euw1"]: "region" is required']),
    # rules against buckets
    ("bucket-not-in-buckets", {("CRR_RULES", 1, "destination"): "img-apne1"},
     ['CRR_RULES[1] "r2": destination "img-apne1" is not in BUCKETS']),
    ("crr-same-region", {("CRR_RULES", 0, "destination"): "bak-use1"},
     ['CRR_RULES[0] "r1": destination region us-east-1 equals source region']),
    ("srr-other-region", {("SRR_RULES", 0, "destination"): "dst-usw2"},
     ['SRR_RULES[0] "r3": destination region us-west-2 differs from source region us-east-1']),
    ("source-is-destination", {("SRR_RULES", 0, "destination"): "src-use1"},
     ['SRR_RULES[0] "r3": source and destination are both "src-use1"']),
    # ids and priorities
    ("duplicate-id-across-lists", {("SRR_RULES", 0, "id"): "r1"},
     ['SRR_RULES[0] "r1": id "r1" is also used by CRR_RULES[0] "r1"']),
    ("id-empty", {("SRR_RULES", 0, "id"): ""},
     ['SRR_RULES[0] "": id must be 1 to 255 characters long, not 0']),
    ("id-too-long", {("SRR_RULES", 0, "id"): "r" * 256},
     ["id must be 1 to 255 characters long, not 256"]),
    ("duplicate-priority-one-source", {("CRR_RULES", 0, "priority"): 5,
                                       ("SRR_RULES", 0, "priority"): 5},
     ['SRR_RULES[0] "r3": priority 5 on source "src-use1" is also used by CRR_RULES[0] "r1"']),
    ("priority-negative", {("CRR_RULES", 0, "priority"): -1},
     ['CRR_RULES[0] "r1": priority must be a whole number, 0 or more, not -1']),
    # filter, delete markers, storage class
    ("delete-markers-with-tags", {("CRR_RULES", 0, "tags"): {"retain": "7y"},
                                  ("CRR_RULES", 0, "delete_markers"): True},
     ['CRR_RULES[0] "r1": delete_markers True with tags']),
    ("storage-class-unknown", {("CRR_RULES", 1, "storage_class"): "FSX_OPENZFS"},
     ['CRR_RULES[1] "r2": storage_class "FSX_OPENZFS" is not one of STANDARD,']),
    ("storage-class-lower-case", {("CRR_RULES", 1, "storage_class"): "standard_ia"},
     ['CRR_RULES[1] "r2": storage_class "standard_ia" is not one of']),
    # KMS
    *[(f"kms-key-{case}", {("BUCKETS", "dst-usw2", "kms_key"): key},
       [f'BUCKETS["dst-usw2"]["kms_key"]: {shown} is neither an alias']) for case, key, shown in [
        ("bare-name", "test-usw2", '"test-usw2"'),
        ("aws-managed", "alias/aws/s3", '"alias/aws/s3"'),
        ("alias-space", "alias/my key", '"alias/my key"'),
        ("not-str", 42, "42"),
        ("short-account", "arn:aws:kms:us-west-2:1234:key/abc",
         '"arn:aws:kms:us-west-2:1234:key/abc"'),
        ("alias-arn", "arn:aws:kms:us-west-2:123456789012:alias/x",
         '"arn:aws:kms:us-west-2:123456789012:alias/x"'),
    ]],
    ("kms-key-arn-other-region", {("BUCKETS", "dst-usw2", "kms_key"): KEY_ARN.format("us-east-1")},
     [(f'BUCKETS["dst-usw2"]["kms_key"]: key ARN "{KEY_ARN.format("us-east-1")}" is in '
      "us-east-1, not in the bucket's Region us-west-2")]),
    ("kms-source-plain-destination", {("BUCKETS", "dst-usw2", "kms_key"): None},
     [('CRR_RULES[0] "r1": source "src-use1" uses SSE-KMS but destination "dst-usw2" '
      "has no kms_key")]),
    # IAM role
    ("role-invalid-chars", {("BUCKETS", "img-use1", "replication_role"): "images role!"},
     ['BUCKETS["img-use1"]["replication_role"]: "images role!" is not an IAM role name']),
    ("role-too-long", {("BUCKETS", "img-use1", "replication_role"): "r" * 65},
     [f'BUCKETS["img-use1"]["replication_role"]: "{"r" * 65}" is not an IAM role name']),
    ("role-default-too-long", {("BUCKETS", LONG_BUCKET): {"region": "us-east-1"},
                               ("CRR_RULES", 1, "source"): LONG_BUCKET},
     [(f'BUCKETS["{LONG_BUCKET}"]["replication_role"]: the default role name '
      f'"{LONG_BUCKET}-replication" is over 64 characters')]),
    ("role-shared-by-sources",
     {("BUCKETS", "img-use1", "replication_role"): "src-use1-replication"},
     [('BUCKETS["img-use1"]["replication_role"]: role "src-use1-replication" is also the role '
      'of source "src-use1"')]),
    # MONITORING
    ("email-invalid", {("MONITORING", "alert_emails"): ["ops@example.com", "ops(at)example.com"]},
     ['MONITORING["alert_emails"][1]: "ops(at)example.com" is not an e-mail address']),
    ("email-no-domain-dot", {("MONITORING", "alert_emails"): ["ops@localhost"]},
     ['MONITORING["alert_emails"][0]: "ops@localhost" is not an e-mail address']),
    ("threshold-negative", {("MONITORING", "latency_threshold_seconds"): -1},
     ['MONITORING["latency_threshold_seconds"]: must be a number of seconds, 0 or more, not -1']),
    ("threshold-str", {("MONITORING", "latency_threshold_seconds"): "900"},
     [('MONITORING["latency_threshold_seconds"]: must be a number of seconds, 0 or more, '
      'not "900"')]),
    ("threshold-bool", {("MONITORING", "latency_threshold_seconds"): True},
     [('MONITORING["latency_threshold_seconds"]: must be a number of seconds, 0 or more, '
      "not True")]),
    ("sns-topic-invalid", {("MONITORING", "sns_topic"): "ops alerts"},
     ['MONITORING["sns_topic"]: "ops alerts" is not an SNS topic name']),
    ("sns-topic-empty", {("MONITORING", "sns_topic"): ""},
     ['MONITORING["sns_topic"]: "" is not an SNS topic name']),
    ("dashboard-invalid", {("MONITORING", "dashboard"): "shop dashboard"},
     ['MONITORING["dashboard"]: "shop dashboard" is neither None nor a dashboard name']),
    # TAGS and LOG_FILE
    ("tags-not-dict", {("TAGS",): [("project", "x")]},
     ["TAGS: must be a dict of str to str, not [('project', 'x')]"]),
    ("tag-key-aws", {("TAGS",): {"aws:createdBy": "me"}},
     ['TAGS["aws:createdBy"]: tag keys beginning with "aws:" are reserved by AWS']),
    ("tag-key-too-long", {("TAGS",): {"k" * 129: "v"}},
     [f'TAGS["{"k" * 129}"]: a tag key must be a str of 1 to 128']),
    ("tag-key-not-str", {("TAGS",): {1: "v"}}, ["TAGS[1]: a tag key must be a str"]),
    ("tag-value-too-long", {("TAGS",): {"k": "v" * 257}},
     [f'TAGS["k"]: value "{"v" * 257}" must be a str of at most 256']),
    ("tag-value-not-str", {("TAGS",): {"k": None}}, ['TAGS["k"]: value None must be a str']),
    ("log-file-empty", {("LOG_FILE",): ""}, ['LOG_FILE: must be a non-empty path, not ""']),
    ("log-file-not-str", {("LOG_FILE",): 5}, ["LOG_FILE: must be a non-empty path, not 5"]),
]


@pytest.mark.parametrize(
    ("edits", "expected"), [pytest.param(e, x, id=i) for i, e, x in BAD_CASES])
def test_bad_setting_is_named_with_its_value(tmp_path, edits, expected):
    error = config_error(tmp_path, edited(edits))
    assert len(error.problems) == len(expected), error.problems
    for problem, fragment in zip(error.problems, expected, strict=True):
        assert fragment in problem


def test_every_problem_is_reported_in_one_pass(tmp_path):
    error = config_error(tmp_path, edited({
        ("BUCKETS", "Bad_Name"): {"region": "us-east-1"},
        ("BUCKETS", "img-euw1", "region"): "us-east-1",
        ("CRR_RULES", 0, "prefx"): "c/",
        ("CRR_RULES", 1, "storage_class"): "FSX_OPENZFS",
        ("SRR_RULES", 0, "id"): "r1",
        ("MONITORING", "latency_threshold_seconds"): -5,
        ("LOG_FILES",): "x.log",
    }))
    assert error.problems == [
        "LOG_FILES: unknown setting (did you mean LOG_FILE?)",
        ('BUCKETS["Bad_Name"]: invalid bucket name "Bad_Name": must hold only lowercase letters, '
        "digits, dots and hyphens, and begin and end with a letter or digit"),
        'CRR_RULES[0] "r1": unknown key "prefx" (did you mean "prefix"?)',
        ('CRR_RULES[1] "r2": destination region us-east-1 equals source region '
        "(same-Region rules belong in SRR_RULES)"),
        ('CRR_RULES[1] "r2": storage_class "FSX_OPENZFS" is not one of STANDARD, '
        "REDUCED_REDUNDANCY, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER, "
        "DEEP_ARCHIVE, GLACIER_IR"),
        'SRR_RULES[0] "r1": id "r1" is also used by CRR_RULES[0] "r1"',
        'MONITORING["latency_threshold_seconds"]: must be a number of seconds, 0 or more, not -5',
    ]
    assert str(error).splitlines()[0].endswith(": 7 problems:")


def test_syntax_error_names_file_and_line(tmp_path):
    path = write_config(tmp_path, BASE, extra='\nBROKEN = {"a": 1\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.exit_status == ExitStatus.BAD_INPUT
    assert caught.value.problems[0].startswith("line 8: syntax error")
    assert str(caught.value).startswith(f"{path}: 1 problem:")


def test_error_while_running_names_file_line_and_exception(tmp_path):
    error = config_error(tmp_path, BASE, extra="\nTIMEOUT = 1 / 0\n")
    assert error.problems == ["line 8: ZeroDivisionError: division by zero"]


def test_missing_file_is_a_config_error(tmp_path):
    path = tmp_path / "config" / "nope.py"
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.exit_status == ExitStatus.BAD_INPUT
    assert caught.value.problems == ["cannot read the file: No such file or directory"]
    assert str(path) in str(caught.value)


def all_paths(value: object, path: tuple = ()) -> list[tuple]:
    """The path of every setting in BASE, containers and leaves."""
    children = (value.items() if isinstance(value, dict)
                else enumerate(value) if isinstance(value, list) else ())
    return [path] * bool(path) + [p for k, v in children for p in all_paths(v, (*path, k))]


def test_any_value_anywhere_gives_a_config_error_never_a_traceback(tmp_path):
    odd_values = [None, True, -1, 1.5, "", "x", [], ["x"], {}, {"x": 1}, {1: [2]}, [[]]]
    for path in all_paths(BASE):
        for value in odd_values:
            settings = edited({path: value})
            try:
                load_config(write_config(tmp_path, settings))
            except ConfigError as error:
                assert error.problems, (path, value)


def test_log_file_that_is_a_folder_is_a_config_error(tmp_path):
    settings = edited({("LOG_FILE",): str(tmp_path)})
    error = config_error(tmp_path, settings)
    assert error.problems == [f'LOG_FILE: "{tmp_path}" is a folder; name a file in it']


# Cross-account destinations (ACCOUNTS). A rule into another account names that account and
# takes its own role there by AssumeRole or a named profile
# (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html,
# https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-files.html); an AWS account id
# is 12 digits (https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-identifiers.html)
# and a role ARN names its account (https://docs.aws.amazon.com/IAM/latest/UserGuide/
# reference_identifiers.html#identifiers-arns). The source bucket's owner configures
# replication, and the destination bucket may belong to another account
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-walkthrough-2.html): the
# tool runs as the sources' account, so only destinations may name another one.
BACKUP = {"account_id": "222222222222", "role_arn": "arn:aws:iam::222222222222:role/backup-admin"}
VAULT = {"account_id": "333333333333", "profile": "vault-admin"}
ONE_OF = ('give exactly one of "role_arn" (a role to assume in that account) or "profile" '
          "(a named AWS profile)")


def cross_account(edits: dict[tuple, object]) -> dict[str, object]:
    """BASE with a destination in each of two other accounts, then `edits` (DELETE of one
    of those settings: it is not added)."""
    added = {("ACCOUNTS",): copy.deepcopy({"backup": BACKUP, "vault": VAULT}),
             ("BUCKETS", "dst-usw2", "account"): "backup",
             ("BUCKETS", "img-euw1", "account"): "vault"}
    gone = {path for path, value in edits.items() if value is DELETE and path in added}
    return edited({path: value for path, value in {**added, **edits}.items()
                   if path not in gone})


CROSS_ACCOUNT = cross_account({})


def test_accounts_are_loaded_and_buckets_name_them(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, CROSS_ACCOUNT))
    assert config.accounts == {
        "backup": AccountSpec("backup", "222222222222",
                              "arn:aws:iam::222222222222:role/backup-admin", None),
        "vault": AccountSpec("vault", "333333333333", None, "vault-admin"),
    }
    assert config.buckets["dst-usw2"].account == "backup"
    assert config.account_of(config.buckets["dst-usw2"]) == config.accounts["backup"]
    assert config.buckets["src-use1"].account is None
    assert config.account_of(config.buckets["src-use1"]) is None


def test_no_accounts_is_the_callers_account_only(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, BASE))
    assert config.accounts == {}
    assert {b.account for b in config.buckets.values()} == {None}


def test_key_arn_of_the_buckets_account_is_accepted(tmp_path: Path) -> None:
    key = "arn:aws:kms:us-west-2:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    settings = cross_account({("BUCKETS", "dst-usw2", "kms_key"): key})
    assert load_config(write_config(tmp_path, settings)).buckets["dst-usw2"].kms_key == key


def test_every_cross_account_problem_is_reported_in_one_pass(tmp_path: Path) -> None:
    error = config_error(tmp_path, cross_account({
        ("ACCOUNTS", "short"): {"account_id": "2222", "profile": "p"},
        ("ACCOUNTS", "crossed"): {"account_id": "333333333333",
                                  "role_arn": "arn:aws:iam::444444444444:role/x"},
        ("ACCOUNTS", "both"): {"account_id": "555555555555", "profile": "p",
                               "role_arn": "arn:aws:iam::555555555555:role/x"},
        ("ACCOUNTS", "neither"): {"account_id": "666666666666"},
        ("BUCKETS", "dst-usw2", "kms_key"): KEY_ARN.format("us-west-2"),
        ("BUCKETS", "img-euw1", "account"): "bakup",
        ("BUCKETS", "img-use1", "account"): "backup",
    }))
    assert error.problems == [
        ('ACCOUNTS["short"]["account_id"]: "2222" is not an AWS account id (12 digits, as a '
         'str such as "222222222222")'),
        ('ACCOUNTS["crossed"]["role_arn"]: the role is in account 444444444444, but '
         '"account_id" is "333333333333"'),
        f'ACCOUNTS["both"]: {ONE_OF}',
        f'ACCOUNTS["neither"]: {ONE_OF}',
        ('BUCKETS["dst-usw2"]["kms_key"]: the key is in account 123456789012, but the bucket '
         'is in account "backup" (222222222222); name a key of that account'),
        ('BUCKETS["img-euw1"]["account"]: unknown account "bakup" (did you mean "backup"?); '
         'ACCOUNTS has "backup", "vault", "short", "crossed", "both", "neither"'),
        ('CRR_RULES[1] "r2": source "img-use1" is in account "backup"; a rule\'s source must be '
         "in the caller's account (only destinations may be in another account)"),
    ]
    assert str(error).splitlines()[0].endswith(": 7 problems:")


# (id, edits to CROSS_ACCOUNT, the problems expected, in order)
CROSS_ACCOUNT_CASES = [
    ("accounts-not-dict", {("ACCOUNTS",): ["backup"]},
     ["ACCOUNTS: must be a dict of account name to settings, not list",
      'BUCKETS["dst-usw2"]["account"]: unknown account "backup"; ACCOUNTS has none',
      'BUCKETS["img-euw1"]["account"]: unknown account "vault"; ACCOUNTS has none']),
    ("account-not-dict", {("ACCOUNTS", "vault"): "333333333333"},
     ['ACCOUNTS["vault"]: must be a dict such as {"account_id": "222222222222", "role_arn": '
      '"arn:aws:iam::222222222222:role/NAME"}, not "333333333333"',
      'BUCKETS["img-euw1"]["account"]: unknown account "vault"; ACCOUNTS has "backup"']),
    ("account-name-empty", {("ACCOUNTS", ""): VAULT},
     ['ACCOUNTS[""]: the name must be a non-empty str']),
    ("account-id-missing", {("ACCOUNTS", "vault", "account_id"): DELETE},
     ['ACCOUNTS["vault"]: "account_id" is required']),
    ("account-id-int", {("ACCOUNTS", "vault", "account_id"): 333333333333},
     ['ACCOUNTS["vault"]["account_id"]: 333333333333 is not an AWS account id']),
    ("account-id-13-digits", {("ACCOUNTS", "vault", "account_id"): "3333333333333"},
     ['ACCOUNTS["vault"]["account_id"]: "3333333333333" is not an AWS account id']),
    ("account-unknown-key", {("ACCOUNTS", "vault", "rolearn"): "x"},
     ['ACCOUNTS["vault"]: unknown key "rolearn" (did you mean "role_arn"?)']),
    ("role-arn-not-a-role", {("ACCOUNTS", "backup", "role_arn"):
                             "arn:aws:iam::222222222222:user/backup-admin"},
     ['ACCOUNTS["backup"]["role_arn"]: "arn:aws:iam::222222222222:user/backup-admin" is not '
      'an IAM role ARN "arn:aws:iam::ACCOUNT:role/NAME"']),
    ("role-arn-other-account", {("ACCOUNTS", "backup", "role_arn"):
                                "arn:aws:iam::999999999999:role/backup-admin"},
     ['ACCOUNTS["backup"]["role_arn"]: the role is in account 999999999999, but "account_id" '
      'is "222222222222"']),
    ("profile-and-role", {("ACCOUNTS", "vault", "role_arn"):
                          "arn:aws:iam::333333333333:role/vault"},
     [f'ACCOUNTS["vault"]: {ONE_OF}']),
    ("neither-profile-nor-role", {("ACCOUNTS", "backup", "role_arn"): DELETE},
     [f'ACCOUNTS["backup"]: {ONE_OF}']),
    ("profile-empty", {("ACCOUNTS", "vault", "profile"): ""},
     ['ACCOUNTS["vault"]["profile"]: must be a non-empty str, not ""']),
    ("bucket-account-unknown", {("BUCKETS", "dst-usw2", "account"): "backups"},
     ['BUCKETS["dst-usw2"]["account"]: unknown account "backups" (did you mean "backup"?); '
      'ACCOUNTS has "backup", "vault"']),
    ("bucket-account-not-str", {("BUCKETS", "dst-usw2", "account"): 222222222222},
     ['BUCKETS["dst-usw2"]["account"]: must be a name from ACCOUNTS, not 222222222222']),
    ("bucket-account-without-accounts", {("ACCOUNTS",): DELETE,
                                         ("BUCKETS", "img-euw1", "account"): DELETE},
     ['BUCKETS["dst-usw2"]["account"]: unknown account "backup"; ACCOUNTS has none: '
      "ACCOUNTS is empty"]),
    ("key-arn-of-another-account", {("BUCKETS", "dst-usw2", "kms_key"):
                                    KEY_ARN.format("us-west-2").replace("123456789012",
                                                                        "333333333333")},
     ['BUCKETS["dst-usw2"]["kms_key"]: the key is in account 333333333333, but the bucket is '
      'in account "backup" (222222222222)']),
    ("srr-source-in-other-account", {("BUCKETS", "src-use1", "account"): "backup"},
     ['CRR_RULES[0] "r1": source "src-use1" is in account "backup"',
      'SRR_RULES[0] "r3": source "src-use1" is in account "backup"']),
]


@pytest.mark.parametrize(
    ("edits", "expected"), [pytest.param(e, x, id=i) for i, e, x in CROSS_ACCOUNT_CASES])
def test_bad_cross_account_setting_is_named_with_its_value(
        tmp_path: Path, edits: dict[tuple, object], expected: list[str]) -> None:
    error = config_error(tmp_path, cross_account(edits))
    assert len(error.problems) == len(expected), error.problems
    for problem, fragment in zip(error.problems, expected, strict=True):
        assert fragment in problem


def test_any_value_in_accounts_gives_a_config_error_never_a_traceback(tmp_path: Path) -> None:
    odd_values: list[object] = [None, True, -1, 1.5, "", "x", [], ["x"], {}, {"x": 1},
                                {1: [2]}, [[]]]
    paths = [p for p in all_paths(CROSS_ACCOUNT) if p[0] == "ACCOUNTS" or "account" in p]
    for path in paths:
        for value in odd_values:
            try:
                load_config(write_config(tmp_path, cross_account({path: value})))
            except ConfigError as error:
                assert error.problems, (path, value)


# ACCESS_POINTS: Multi-Region Access Points over buckets of the config, one per Region, named
# with 3 to 50 lowercase letters, digits and hyphens
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointRestrictions.html,
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/multi-region-access-point-buckets.html);
# "active" buckets get traffic dial 100 at first, the others 0 (passive)
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingFailover.html). The bad cases are
# in test_access_points_unit.py.
def with_access_points(points: object) -> dict[str, object]:
    return {**edited({}), "ACCESS_POINTS": points}


def test_access_points_are_loaded_with_their_active_buckets(tmp_path):
    from s3replication.config.model import AccessPointSpec

    points = {"shop": {"buckets": ["src-use1", "dst-usw2", "img-euw1"], "active": ["dst-usw2"]}}
    config = load_config(write_config(tmp_path, with_access_points(points)))
    assert config.access_points == {"shop": AccessPointSpec(
        "shop", ("src-use1", "dst-usw2", "img-euw1"), ("dst-usw2",), 'ACCESS_POINTS["shop"]')}
    assert load_config(write_config(tmp_path, edited({}))).access_points == {}


def test_access_point_without_active_starts_with_every_bucket_active(tmp_path):
    points = {"shop": {"buckets": ["src-use1", "dst-usw2"]}}
    config = load_config(write_config(tmp_path, with_access_points(points)))
    assert config.access_points["shop"].active == ("src-use1", "dst-usw2")


@pytest.mark.parametrize("name", ["abc", "a" * 50, "shop-2", "9lives"])
def test_access_point_names_within_the_rules_are_accepted(tmp_path, name):
    points = {name: {"buckets": ["src-use1", "dst-usw2"], "active": ["src-use1"]}}
    config = load_config(write_config(tmp_path, with_access_points(points)))
    assert list(config.access_points) == [name]


def test_any_value_in_access_points_gives_a_config_error_never_a_traceback(tmp_path):
    odd_values = [None, True, -1, 1.5, "", "x", [], ["x"], {}, {"x": 1}, {1: [2]}, [[]]]
    points = {"shop": {"buckets": ["src-use1", "dst-usw2"], "active": ["src-use1"]}}
    for path in all_paths(with_access_points(points)):
        if path[0] != "ACCESS_POINTS":
            continue
        for value in odd_values:
            settings = with_access_points(copy.deepcopy(points))
            parent = settings
            for step in path[:-1]:
                parent = parent[step]
            parent[path[-1]] = value
            try:
                load_config(write_config(tmp_path, settings))
            except ConfigError as error:
                assert error.problems, (path, value)


def test_a_value_with_a_line_separator_is_shown_on_one_line() -> None:
    """str.splitlines() splits at U+0085 and U+2028 too: such a character in a value must not
    break a problem's one line (found by test_properties' random configs)."""
    from s3replication.config.messages import show

    for value in ("\x85", "a\u2028b", "tab\there", "é"):
        shown = show(value)
        assert len(shown.splitlines()) == 1 and shown.isprintable(), shown
    assert show("é") == '"é"' and show("\x85") == '"\\u0085"'
