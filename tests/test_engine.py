"""The engine on its own, with items over an in-memory store: no AWS, no emulator.

Gate semantics, a failing lane not stopping the others, plan and apply on the same items,
`desire` over `wanted`; and the stage table and scope as data (the stage graph of apply and
plan, and how it runs: tests/test_stage_graph.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from s3replication.config.model import CRR, BucketSpec, RuleSpec
from s3replication.engine import stages
from s3replication.engine.context import APPLY, DESTROY, PLAN
from s3replication.engine.items import Change, Item, run_lane, run_lanes
from s3replication.engine.scope import Scope

Store = dict[str, Any]


def stored(store: Store, key: str, wanted: Any, writes: list[str], gate: bool = False,
           desire: Callable[[Any], Any] | None = None) -> Item:
    """An item whose state is `store[key]` (absent: None); each write is logged in `writes`."""

    def write(_: Any) -> None:
        writes.append(key)
        store[key] = wanted

    return Item("thing t", key, wanted, lambda: store.get(key), write, gate=gate, desire=desire)


def unreadable(setting: str) -> Item:
    """An item that must not be read (nor written)."""

    def fail(*_: Any) -> Any:
        raise AssertionError(f"{setting} was touched")

    return Item("thing t", setting, "on", fail, fail)


def denied(operation: str) -> ClientError:
    return ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, operation)


# --- gate semantics --------------------------------------------------------------------------


def test_plan_reads_nothing_behind_an_absent_gate_and_shows_every_item_as_created() -> None:
    writes: list[str] = []
    lane = [stored({}, "exists", "yes", writes, gate=True), unreadable("versioning")]
    changes = run_lane(lane, apply=False)
    assert [c.as_dict() for c in changes] == [
        {"resource": "thing t", "setting": "exists", "action": "create", "current": None,
         "wanted": "yes"},
        {"resource": "thing t", "setting": "versioning", "action": "create", "current": None,
         "wanted": "on"},
    ]
    assert writes == []


def test_apply_creates_the_gate_then_reads_the_items_behind_it() -> None:
    store: Store = {}
    writes: list[str] = []
    lane = [stored(store, "exists", "yes", writes, gate=True),
            stored(store, "versioning", "on", writes)]
    run_lane(lane, apply=True)
    assert writes == ["exists", "versioning"]
    assert run_lane(lane, apply=False) == []


def test_what_the_gate_makes_is_no_change_of_its_own_in_plan_or_apply() -> None:
    """A setting the gate's write makes as wanted (Item.made_by_gate: a new key's rotation)
    is listed neither by the plan nor by the apply that makes the gate, which reads it after
    the gate's write: the two list the same changes (issue 23)."""
    store: Store = {}
    writes: list[str] = []

    def make(_: Any) -> None:  # the gate makes the thing with its rotation on
        writes.append("exists")
        store.update(exists="yes", rotation="on")

    gate = Item("thing t", "exists", "yes", lambda: store.get("exists"), make, gate=True)
    rotation = stored(store, "rotation", "on", writes)
    rotation.made_by_gate = True
    lane = [gate, rotation, stored(store, "tags", "t", writes)]
    planned = [(c.setting, c.action) for c in run_lane(lane, apply=False)]
    applied = [(c.setting, c.action) for c in run_lane(lane, apply=True)]
    assert planned == applied == [("exists", "create"), ("tags", "create")]
    assert writes == ["exists", "tags"]
    store["rotation"] = "off"  # then turned off by hand: a change like any other
    assert [(c.setting, c.action) for c in run_lane(lane, apply=False)] == [
        ("rotation", "update")]


def test_a_fresh_gate_once_it_made_its_resource_writes_the_items_behind_it_unread() -> None:
    """A gate that makes its resource with nothing set (Item.fresh: a new bucket has no
    policy or tags, https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html):
    apply writes what a plan showed, from nothing, reading nothing behind it."""
    store: Store = {}
    writes: list[str] = []
    gate = stored(store, "exists", "yes", writes, gate=True)
    gate.fresh = True

    def write_from_nothing(current: Any) -> None:
        assert current is None
        writes.append("versioning")

    behind = Item("thing t", "versioning", "on", unreadable("versioning").read,
                  write_from_nothing)
    planned = run_lane([gate, behind], apply=False)
    made = run_lane([gate, behind], apply=True)
    assert made == planned and writes == ["exists", "versioning"]


def test_behind_a_fresh_gate_a_document_an_item_before_wrote_is_read() -> None:
    """A new bucket's policy: the TLS statement written from nothing, then the inventory
    delivery statement merged with what is there now, not with nothing."""
    store: Store = {}
    gate = stored(store, "exists", "yes", [], gate=True)
    gate.fresh = True

    def add(statement: str) -> Callable[[Any], None]:
        def write(current: Any) -> None:
            store["policy"] = sorted({*(current or []), statement})
        return write

    first = Item("thing t", "tls", ["tls"], lambda: store.get("policy"), add("tls"),
                 project=lambda p: ["tls"] if p and "tls" in p else None, touches="policy")
    second = Item("thing t", "delivery", ["delivery"], lambda: store.get("policy"),
                  add("delivery"), project=lambda p: ["delivery"] if p and "delivery" in p
                  else None, touches="policy")
    run_lane([gate, first, second], apply=True)
    assert store["policy"] == ["delivery", "tls"]


def test_a_fresh_gate_already_there_lets_the_items_behind_it_be_read() -> None:
    store: Store = {"exists": "yes", "versioning": "off"}
    gate = stored(store, "exists", "yes", [], gate=True)
    gate.fresh = True
    lane = [gate, stored(store, "versioning", "on", [])]
    assert run_lane(lane, apply=True) == [Change("thing t", "versioning", "off", "on")]


def test_a_present_gate_lets_the_items_behind_it_be_read() -> None:
    store: Store = {"exists": "yes", "versioning": "off"}
    lane = [stored(store, "exists", "yes", []), stored(store, "versioning", "on", [])]
    assert run_lane(lane, apply=False) == [Change("thing t", "versioning", "off", "on")]


def test_an_absent_item_that_is_no_gate_hides_nothing() -> None:
    store: Store = {"versioning": "off"}
    lane = [stored(store, "policy", "p", []), stored(store, "versioning", "on", [])]
    assert [c.setting for c in run_lane(lane, apply=False)] == ["policy", "versioning"]
    assert run_lane(lane, apply=False)[1].current == "off"


# --- lanes fail alone ------------------------------------------------------------------------


def test_a_failing_lane_does_not_stop_the_others_and_its_error_is_reported() -> None:
    def read_denied() -> Any:
        raise denied("GetBucketVersioning")

    store: Store = {}
    writes: list[str] = []
    failing = [Item("bucket b1", "versioning", "on", read_denied, lambda _: None)]
    healthy = [stored(store, "encryption", "AES256", writes)]
    result = run_lanes([failing, healthy, []], apply=True)
    assert writes == ["encryption"]
    assert [c.setting for c in result.changes] == ["encryption"]
    assert [str(e) for e in result.errors] == [
        "reading versioning of bucket b1: access denied; the caller needs "
        "s3:GetBucketVersioning (no)"]


def test_a_failed_write_is_reported_with_the_change_it_was_making() -> None:
    def write_denied(_: Any) -> None:
        raise denied("PutBucketVersioning")

    lane = [Item("bucket b1", "versioning", "on", lambda: None, write_denied)]
    result = run_lanes([lane], apply=True)
    assert result.changes == []
    assert len(result.errors) == 1
    assert str(result.errors[0]).startswith("create versioning of bucket b1: access denied")


# --- plan and apply on the same items --------------------------------------------------------


def drifted() -> tuple[Store, list[str], list[Item]]:
    store: Store = {"versioning": "on", "encryption": "none", "tags": {"a": "1"}}
    writes: list[str] = []
    lane = [stored(store, "versioning", "on", writes),
            stored(store, "encryption", "AES256", writes),
            stored(store, "tags", {"a": "1"}, writes),
            stored(store, "policy", {"Sid": "TLS"}, writes)]
    return store, writes, lane


def test_plan_never_writes() -> None:
    store, writes, lane = drifted()
    before = dict(store)
    changes = run_lanes([lane], apply=False).changes
    assert [(c.setting, c.action) for c in changes] == [("encryption", "update"),
                                                        ("policy", "create")]
    assert writes == []
    assert store == before


def test_apply_writes_exactly_what_plan_showed_and_leaves_nothing_to_do() -> None:
    _, _, plan_lane = drifted()
    planned = run_lanes([plan_lane], apply=False).changes
    store, writes, lane = drifted()
    applied = run_lanes([lane], apply=True).changes
    assert applied == planned
    assert writes == [c.setting for c in planned]
    assert run_lanes([lane], apply=False).changes == []
    assert store["encryption"] == "AES256"


def test_project_limits_the_comparison_to_the_part_we_manage() -> None:
    store: Store = {"tags": {"ours": "1", "theirs": "x"}}
    item = Item("thing t", "tags", {"ours": "1"}, lambda: store["tags"], lambda _: None,
                project=lambda tags: {"ours": tags.get("ours")})
    assert run_lane([item], apply=False) == []


# --- desire ----------------------------------------------------------------------------------


def test_desire_overrides_wanted_with_what_depends_on_the_current_value() -> None:
    store: Store = {"ownership": "ObjectWriter (ACL grants others)"}
    writes: list[str] = []
    keep = stored(store, "ownership", "BucketOwnerEnforced", writes,
                  desire=lambda current: current if "ACL" in str(current) else None)
    assert run_lanes([[keep]], apply=True).changes == []
    assert writes == []


def test_desire_decides_the_change_plan_shows_and_apply_makes() -> None:
    store: Store = {"topic": "exists"}
    writes: list[str] = []
    delete = stored(store, "topic", "exists", writes, desire=lambda current: None)
    assert run_lane([delete], apply=False) == [Change("thing t", "topic", "exists", None)]
    assert run_lane([delete], apply=False)[0].action == "delete"
    run_lane([delete], apply=True)
    assert writes == ["topic"]


# --- the stage table and the scope -----------------------------------------------------------


def names(command: str) -> list[str]:
    return [stage.name for stage in stages.COMMANDS[command].stages]


def test_apply_and_plan_run_the_same_stages() -> None:
    assert stages.COMMANDS[APPLY] == stages.COMMANDS[PLAN]
    assert not stages.COMMANDS[APPLY].removing


def test_permissions_widen_before_the_rules_change_and_narrow_after() -> None:
    # apply/plan: a graph (tests/test_stage_graph.py has every edge); destroy: a sequence
    setup = stages.COMMANDS[APPLY]
    assert stages.ROLES in setup.waits_for(stages.REPLICATION)
    assert stages.GRANTS in setup.waits_for(stages.REPLICATION)
    assert stages.REPLICATION in setup.waits_for(stages.ROLE_PERMISSIONS)
    assert stages.REPLICATION in setup.waits_for(stages.GRANTS_NARROWED)
    order = names(APPLY)  # the written order, that of the changes, is one the graph allows
    assert order.index("roles") < order.index("replication") < order.index("role permissions")
    destroy = names(DESTROY)
    assert destroy.index("replication") < destroy.index("role permissions") \
        < destroy.index("role removal")


def test_destroy_removes_and_never_touches_keys_or_buckets() -> None:
    assert stages.COMMANDS[DESTROY].removing
    assert "keys" not in names(DESTROY) and "buckets" not in names(DESTROY)
    assert names(DESTROY)[0] == "monitoring" and names(DESTROY)[-1] == "ownership"


RULES = (RuleSpec("r1", CRR, "src", "dst"), RuleSpec("r2", CRR, "other", "dst"))
SRC = BucketSpec("src", "us-east-1", None, "src-replication")


@pytest.mark.parametrize("removing, wanted, without_record", [
    pytest.param(False, ["r1"], set(), id="apply: the config's rules on the source"),
    pytest.param(True, [], {"r1", "r2"}, id="destroy: none wanted, the config's removed"),
])
def test_scope_says_which_rules_are_wanted(removing: bool, wanted: list[str],
                                          without_record: set[str]) -> None:
    scope = Scope(RULES, (SRC,), removing, lambda: [SRC])
    assert [r.id for r in scope.wanted_rules("src")] == wanted
    assert scope.removed_without_record() == without_record


def test_scope_finds_its_sources_once_and_only_when_asked() -> None:
    found: list[int] = []

    def find() -> list[BucketSpec]:
        found.append(1)
        return [SRC]

    scope = Scope(RULES, (SRC,), False, find)
    assert found == []
    assert scope.sources == [SRC] and scope.sources == [SRC]
    assert found == [1]
