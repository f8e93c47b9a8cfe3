"""Random and mutated configs (hypothesis): the tool either accepts them, or exits 2 with a
message naming the problems, without a traceback and before any client or API call. Never a
crash. (Each validation rule has its own test in test_config.py.)"""

from __future__ import annotations

import io
import json
import tempfile
import urllib.request
from pathlib import Path
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from s3replication import cli
from s3replication.config import ConfigError, load_config
from tests.converged import run
from tests.shop import SHIPPED_CONFIG

NAMES = ("TAGS", "BUCKETS", "CRR_RULES", "SRR_RULES", "MONITORING", "LOG_FILE")
SHIPPED: dict[str, Any] = {}
# our own shipped config
exec(compile(SHIPPED_CONFIG.read_text(), str(SHIPPED_CONFIG), "exec"), SHIPPED)
SHIPPED = {name: SHIPPED[name] for name in NAMES}

# Values near the valid ones, so that many mutated configs are still accepted.
PLAUSIBLE = st.sampled_from([
    "", "us-east-1", "us-west-2", "eu-west-1", "mars-1", "alias/shopco-use1", "alias/aws/s3",
    "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "shopco-data-use1", "shopco-data-usw2", "shopco-assets-euw1", "Bad_Bucket", "STANDARD",
    "GLACIER", "catalog/", "ops@example.com", "not-an-email", 0, 1, -1, 50, 900, True, False,
    None, [], {}, {"retain": "7y"}, {"aws:x": "y"},
])
SCALARS = (st.none() | st.booleans() | st.integers(-2**40, 2**40)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=24) | PLAUSIBLE)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=12) | PLAUSIBLE.filter(
                          lambda v: isinstance(v, str)), inner, max_size=4), max_leaves=10)
JUNK_NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True).filter(
    lambda n: n not in NAMES and not n.startswith("__"))


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place inside a value: dict keys and list indexes, nested."""
    found = [prefix]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += paths(inner, prefix + (key,))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += paths(inner, prefix + (index,))
    return found


def parent_and_key(namespace: dict, path: tuple) -> tuple[Any, Any]:
    parent: Any = namespace
    for step in path[:-1]:
        parent = parent[step]
    return parent, path[-1]


@st.composite
def mutated_configs(draw: Any) -> dict[str, Any]:
    namespace = json.loads(json.dumps(SHIPPED))  # a deep copy
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(paths(namespace)[1:]))
        parent, key = parent_and_key(namespace, where)
        how = draw(st.sampled_from(["replace", "replace", "delete", "add", "rename", "junk"]))
        if how == "replace":
            parent[key] = draw(VALUES)
        elif how == "delete":
            del parent[key]
        elif how == "add" and isinstance(parent[key], dict):
            parent[key][draw(st.text(max_size=12))] = draw(VALUES)
        elif how == "add" and isinstance(parent[key], list):
            parent[key].append(draw(VALUES))
        elif how == "rename" and isinstance(parent, dict):
            parent[f"{key}{draw(st.text(min_size=1, max_size=2))}"] = parent.pop(key)
        elif how == "junk":
            namespace[draw(JUNK_NAMES)] = draw(VALUES)
        paths(namespace)  # still walkable after the change
    return namespace


def as_python(namespace: dict[str, Any]) -> str:
    return "".join(f"{name} = {value!r}\n" for name, value in namespace.items())


def check_rejected_cleanly(path: Path) -> None:
    """main() exits 2 with a message, no traceback, and never makes a client."""
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.object(cli, "_clients", side_effect=AssertionError("made clients")) as made:
        status = cli.main("crr", ["apply", "--config", str(path)], stdout=out, stderr=err)
    assert (status, out.getvalue(), made.call_count) == (2, "", 0), err.getvalue()
    message = err.getvalue()
    assert message.startswith(f"error: {path}: ") and "Traceback" not in message
    problems = message.splitlines()[1:]
    assert problems and all(line.startswith("  - ") and line[4:].strip() for line in problems)


def accepted_or_rejected_cleanly(text: str) -> bool:
    """True when the config is accepted; when not, checks the rejection is clean."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s3_config.py"
        path.write_text(text, encoding="utf-8")
        try:
            load_config(path)
        except ConfigError:
            check_rejected_cleanly(path)
            event("rejected")
            return False
        event("accepted")
        return True


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(mutated_configs())
def test_mutated_config_is_accepted_or_rejected_cleanly(namespace):
    accepted_or_rejected_cleanly(as_python(namespace))


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(st.dictionaries(JUNK_NAMES | st.sampled_from(NAMES), VALUES, max_size=6))
def test_random_config_is_accepted_or_rejected_cleanly(namespace):
    accepted_or_rejected_cleanly(as_python(namespace))


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(st.data())
def test_edited_config_file_is_accepted_or_rejected_cleanly(data):
    """Lines of the shipped file deleted, repeated or swapped: syntax errors included."""
    lines = SHIPPED_CONFIG.read_text().splitlines()
    for _ in range(data.draw(st.integers(1, 3))):
        n = data.draw(st.integers(0, len(lines) - 1))
        edit = data.draw(st.sampled_from(["delete", "repeat", "swap"]))
        if edit == "delete":
            del lines[n]
        elif edit == "repeat":
            lines.insert(n, lines[n])
        else:
            m = data.draw(st.integers(0, len(lines) - 1))
            lines[n], lines[m] = lines[m], lines[n]
    accepted_or_rejected_cleanly("\n".join(lines) + "\n")


def test_shipped_config_is_accepted():
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s3_config.py"
        path.write_text(as_python(SHIPPED))
        assert load_config(path).crr_rules


# Valid values for the settings of a rule, to make configs that are accepted.
TEXT = st.text(st.characters(codec="ascii", categories=["L", "N", "P"]), max_size=16)
RULE_SETTINGS = {
    "prefix": TEXT,
    "priority": st.integers(0, 1000),
    "rtc": st.booleans(),
    "storage_class": st.sampled_from(["STANDARD", "STANDARD_IA", "ONEZONE_IA", "GLACIER_IR",
                                      "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE"]),
    "tags": st.dictionaries(st.from_regex(r"[a-z][a-z0-9-]{0,9}", fullmatch=True),
                            st.from_regex(r"[a-z0-9]{0,8}", fullmatch=True),
                            min_size=1, max_size=2),
    "replica_modifications": st.booleans(),
}


@st.composite
def valid_variations(draw: Any) -> dict[str, Any]:
    """The shipped config with rules dropped and rule settings changed to valid values."""
    namespace = json.loads(json.dumps(SHIPPED))
    for name in ("CRR_RULES", "SRR_RULES"):
        rules = namespace[name]
        for rule in draw(st.lists(st.sampled_from(rules), unique_by=id, max_size=2)):
            rules.remove(rule)
        for rule in rules:
            for key in draw(st.lists(st.sampled_from(sorted(RULE_SETTINGS)), unique=True,
                                     max_size=2)):
                rule[key] = draw(RULE_SETTINGS[key])
                if key == "tags":
                    rule["delete_markers"] = False
    return namespace


@settings(max_examples=10, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(valid_variations())
def test_accepted_config_applies_and_converges(ministack_endpoint, namespace):
    """Any accepted variation of the config applies on an empty MiniStack, and then both
    plans are clean."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s3_config.py"
        path.write_text(as_python({**namespace, "LOG_FILE": str(Path(folder) / "log.txt")}))
        try:
            load_config(path)
        except ConfigError as error:
            event("rejected")  # e.g. two rules of a bucket given one priority
            assert "priorit" in str(error), str(error)
            return
        reset = urllib.request.Request(ministack_endpoint + "/_ministack/reset", method="POST")
        urllib.request.urlopen(reset, timeout=30).close()
        for kind in ("crr", "srr"):
            applied = run(ministack_endpoint, kind, "apply", "--config", str(path))
            assert applied.status == 0, applied.stdout + applied.stderr
        for kind in ("crr", "srr"):
            planned = run(ministack_endpoint, kind, "plan", "--config", str(path))
            assert planned.status == 0, planned.stdout + planned.stderr
