"""The stages of apply/plan as a dependency graph (issue 15: "writes wait only for what they
depend on"): the edges as data, and a run of fake stages over the same edges showing that
stages run at once where the graph lets them, never before what they wait for, that a failure
starts nothing new, and that changes, errors and notes come out in the written order.

The fake stages log each stage's start (when its lanes are listed) and end (its last item's
write) in one ordered list, so "starts after" is read from that list, not from clocks."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from s3replication.config.model import CRR, BucketSpec, Config, RuleSpec
from s3replication.engine import stages
from s3replication.engine.context import APPLY, DESTROY, PLAN, Context
from s3replication.engine.graph import Step, chain, check_order
from s3replication.engine.items import Item, RunFailed
from s3replication.engine.scope import Scope
from s3replication.errors import AwsError
from s3replication.resources import replication, roles
from s3replication.resources.bucket_tags import read_tags, write_tags
from s3replication.resources.iam_policy import normalize_document

S = stages
SETUP = stages.COMMANDS[APPLY]


def waits_for(command: stages.Command, stage: stages.Stage) -> set[stages.Stage]:
    """Every stage `stage` waits for, directly or through others."""
    found: set[stages.Stage] = set()
    todo = list(command.waits_for(stage))
    while todo:
        other = todo.pop()
        if other not in found:
            found.add(other)
            todo.extend(command.waits_for(other))
    return found


def at_once(command: stages.Command, a: stages.Stage, b: stages.Stage) -> bool:
    """Whether the graph lets `a` and `b` run at the same time."""
    return a not in waits_for(command, b) and b not in waits_for(command, a)


# --- the edges, as data ----------------------------------------------------------------------


def test_apply_and_plan_run_the_same_graph() -> None:
    assert stages.COMMANDS[PLAN] == SETUP and not SETUP.removing
    assert [s.name for s in SETUP.stages] == [
        "keys", "buckets", "inventory", "roles", "grants", "replication", "role permissions",
        "grants narrowed", "topics", "monitoring", "access points", "ownership"]


@pytest.mark.parametrize("stage, after", [
    (S.KEYS, set()),
    (S.BUCKETS, {S.KEYS}),
    (S.ROLES, {S.KEYS}),
    (S.INVENTORY, {S.KEYS, S.BUCKETS}),
    (S.GRANTS, {S.KEYS, S.BUCKETS, S.INVENTORY, S.ROLES}),
    (S.REPLICATION, {S.KEYS, S.BUCKETS, S.INVENTORY, S.ROLES, S.GRANTS}),
    (S.ROLE_PERMISSIONS, {S.KEYS, S.BUCKETS, S.INVENTORY, S.ROLES, S.GRANTS, S.REPLICATION}),
    (S.GRANTS_NARROWED, {S.KEYS, S.BUCKETS, S.INVENTORY, S.ROLES, S.GRANTS, S.REPLICATION}),
    (S.TOPICS, set()),
    (S.MONITORING, {S.KEYS, S.BUCKETS, S.INVENTORY, S.ROLES, S.GRANTS, S.REPLICATION,
                    S.TOPICS}),
    (S.ACCESS_POINTS, {S.KEYS, S.BUCKETS}),
    (S.OWNERSHIP, set(SETUP.stages) - {S.OWNERSHIP}),
], ids=lambda value: value.name if isinstance(value, stages.Stage) else "")
def test_each_stage_waits_for_exactly_what_it_needs(stage: stages.Stage,
                                                   after: set[stages.Stage]) -> None:
    assert waits_for(SETUP, stage) == after


def test_stages_that_write_the_same_documents_never_run_at_once() -> None:
    writers = {
        "bucket tags": [S.BUCKETS, S.OWNERSHIP],
        "bucket policies": [S.BUCKETS, S.GRANTS, S.GRANTS_NARROWED],
        "role policies": [S.ROLES, S.ROLE_PERMISSIONS],
        "SNS topics": [S.TOPICS, S.MONITORING],
        # S3 answers OperationAborted to configuration writes overlapping on one bucket
        "the caller's buckets": [S.BUCKETS, S.INVENTORY, S.REPLICATION, S.MONITORING,
                                 S.OWNERSHIP],
        "other accounts' buckets": [S.BUCKETS, S.INVENTORY, S.GRANTS, S.GRANTS_NARROWED],
    }
    for document, these in writers.items():
        for n, a in enumerate(these):
            for b in these[n + 1:]:
                assert not at_once(SETUP, a, b), (document, a.name, b.name)


def test_permissions_widen_before_the_rules_change_and_narrow_after() -> None:
    assert S.ROLES in waits_for(SETUP, S.REPLICATION)
    assert S.GRANTS in waits_for(SETUP, S.REPLICATION)
    for narrowing in (S.ROLE_PERMISSIONS, S.GRANTS_NARROWED):
        assert S.REPLICATION in waits_for(SETUP, narrowing)


def test_what_runs_at_once() -> None:
    assert at_once(SETUP, S.BUCKETS, S.ROLES)
    assert at_once(SETUP, S.INVENTORY, S.ROLES)
    assert at_once(SETUP, S.ACCESS_POINTS, S.REPLICATION)
    assert at_once(SETUP, S.MONITORING, S.ROLE_PERMISSIONS)
    assert at_once(SETUP, S.MONITORING, S.GRANTS_NARROWED)
    assert at_once(SETUP, S.TOPICS, S.KEYS) and at_once(SETUP, S.TOPICS, S.BUCKETS)


def test_destroy_keeps_its_sequence() -> None:
    destroy = stages.COMMANDS[DESTROY]
    assert destroy.steps == chain(S.MONITORING, S.INVENTORY, S.REPLICATION, S.ROLE_PERMISSIONS,
                                  S.GRANTS_NARROWED, S.ROLE_REMOVAL, S.OWNERSHIP)
    assert destroy.waits_for(S.MONITORING) == ()
    assert destroy.waits_for(S.ROLE_REMOVAL) == (S.GRANTS_NARROWED,)


@pytest.mark.parametrize("steps, problem", [
    ((Step("a", ("b",)), Step("b")), "waits for ['b'], not listed before it"),
    ((Step("a"), Step("b", ("c",))), "waits for ['c']"),
    ((Step("a"), Step("a")), "listed twice"),
])
def test_a_step_waits_only_for_steps_listed_before_it(steps: tuple[Step[str], ...],
                                                      problem: str) -> None:
    with pytest.raises(ValueError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        check_order(steps)


# --- a run of fake stages over the same edges ------------------------------------------------

CONFIG = Config(Path("s3_config.py"), {}, crr_rules=(), srr_rules=())


class Log:
    """("start" | "end", stage name), in the order they happened."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def add(self, what: str, name: str) -> None:
        with self.lock:
            self.events.append((what, name))

    def index(self, what: str, name: str) -> int:
        return self.events.index((what, name))

    def started(self) -> list[str]:
        return [name for what, name in self.events if what == "start"]


def fake_lanes(log: Log, name: str, pause: float = 0.0, fail: bool = False,
               meet: threading.Barrier | None = None, note: str | None = None) -> stages.Lanes:
    """Two lanes of one item each, changed by apply: the second (its write is the stage's
    last) ends the stage in the log."""

    def lanes(ctx: Context, scope: Scope) -> list[list[Item]]:
        log.add("start", name)
        if note:
            ctx.note(note)

        def read() -> Any:
            if meet is not None:
                meet.wait()  # both stages of the barrier run at once, or this times out
            time.sleep(pause)
            return None

        def write(_: Any) -> None:
            if fail:
                raise AwsError(f"{name}: refused", "AccessDenied")
            log.add("end", name)

        return [[Item(name, "first", "on", lambda: None, lambda _: None)],
                [Item(name, "second", "on", read, write)]]

    return lanes


def fake_command(log: Log, given: dict[str, stages.Lanes] | None = None,
                 **options: dict[str, Any]) -> stages.Command:
    """SETUP's graph over fake stages of the same names: the lanes `given` by name, else
    fake_lanes with `options[name]` (spaces in the name as underscores)."""

    def lanes(stage: stages.Stage) -> stages.Lanes:
        if given and stage.name in given:
            return given[stage.name]
        return fake_lanes(log, stage.name, **options.get(stage.name.replace(" ", "_"), {}))

    fake = {s: dataclasses.replace(s, lanes=lanes(s)) for s in SETUP.stages}
    return stages.Command(tuple(Step(fake[s.stage], tuple(fake[d] for d in s.after))
                                for s in SETUP.steps), removing=False)


def run(command: stages.Command) -> tuple[Context, list[str]]:
    ctx = Context(CONFIG, CRR, None, "000000000000", mode=APPLY)
    changes = stages.run_steps(ctx, Scope.of(ctx), command.steps)
    return ctx, [f"{c.resource}/{c.setting}" for c in changes]


def written_order() -> list[str]:
    return [f"{s.name}/{lane}" for s in SETUP.stages for lane in ("first", "second")]


def test_buckets_and_roles_run_at_once() -> None:
    log, meet = Log(), threading.Barrier(2, timeout=5)
    run(fake_command(log, buckets={"meet": meet}, roles={"meet": meet}))
    assert log.index("start", "roles") < log.index("end", "buckets")
    assert log.index("start", "buckets") < log.index("end", "roles")


def test_each_stage_starts_only_once_all_it_waits_for_ended() -> None:
    log = Log()
    # the slow ones would be overtaken by any stage that does not wait for them
    slow = {"pause": 0.2}
    run(fake_command(log, roles=slow, grants=slow, buckets={"pause": 0.1}, replication=slow,
                     monitoring=slow, inventory=slow, access_points=slow))
    for step in SETUP.steps:
        for before in step.after:
            assert log.index("end", before.name) < log.index("start", step.stage.name), (
                step.stage.name, before.name)
    replication = log.index("start", "replication")
    assert all(log.index("end", n) < replication for n in ("roles", "buckets", "grants"))
    assert log.started()[-1] == "ownership"
    assert len(log.started()) == len(SETUP.steps)


def test_changes_come_in_the_written_order_whatever_finishes_first() -> None:
    # buckets ends after roles, inventory after access points, monitoring after the narrowing
    log = Log()
    _, changes = run(fake_command(log, buckets={"pause": 0.2}, inventory={"pause": 0.3},
                                  monitoring={"pause": 0.2}))
    assert log.index("end", "roles") < log.index("end", "buckets")
    assert log.index("end", "access points") < log.index("end", "inventory")
    assert changes == written_order()
    assert run(fake_command(Log(), roles={"pause": 0.2}))[1] == written_order()


def test_notes_come_in_the_written_order() -> None:
    log = Log()
    ctx, _ = run(fake_command(log, buckets={"pause": 0.2, "note": "from buckets"},
                              roles={"note": "from roles"}, monitoring={"note": "from roles"}))
    assert log.index("end", "roles") < log.index("end", "buckets")
    assert ctx.notes == ["from buckets", "from roles"]


def test_after_a_failure_nothing_that_waits_for_it_starts() -> None:
    log = Log()
    with pytest.raises(RunFailed) as failed:
        run(fake_command(log, buckets={"fail": True, "pause": 0.1}, roles={"pause": 0.2}))
    # roles started beside buckets and finished, topics at the start; nothing after buckets
    assert log.started()[0] in ("keys", "topics")
    assert sorted(log.started()) == ["buckets", "keys", "roles", "topics"]
    assert ("end", "roles") in log.events
    assert [str(e) for e in failed.value.errors] == ["buckets: refused"]
    changes = [f"{c.resource}/{c.setting}" for c in failed.value.changes]
    assert changes == ["keys/first", "keys/second", "buckets/first", "roles/first",
                       "roles/second", "topics/first", "topics/second"]


def test_after_a_failure_no_other_stage_starts_either() -> None:
    """Inventory and access points do not wait for roles, but once roles failed they do not
    start when the buckets (still running then) end."""
    log = Log()
    with pytest.raises(RunFailed) as failed:
        run(fake_command(log, roles={"fail": True}, buckets={"pause": 0.3}))
    assert sorted(log.started()) == ["buckets", "keys", "roles", "topics"]
    assert log.index("end", "buckets") > log.index("start", "roles")  # it finished
    assert [str(e) for e in failed.value.errors] == ["roles: refused"]


def test_every_failure_of_stages_running_at_once_is_listed() -> None:
    log = Log()
    with pytest.raises(RunFailed) as failed:
        run(fake_command(log, buckets={"fail": True}, roles={"fail": True, "pause": 0.1}))
    assert [str(e) for e in failed.value.errors] == ["buckets: refused", "roles: refused"]


def test_an_aws_error_while_a_stage_lists_its_lanes_fails_the_stage() -> None:
    log = Log()

    def denied(ctx: Context, scope: Scope) -> list[list[Item]]:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}},
                          "GetBucketReplication")

    with pytest.raises(RunFailed) as failed:
        run(fake_command(log, {"roles": denied}))
    assert [str(e) for e in failed.value.errors] == [
        "preparing the roles stage: access denied; the caller needs "
        "s3:GetReplicationConfiguration (no)"]
    assert "replication" not in log.started()


def test_a_bug_in_a_stage_is_raised_once_the_others_finished() -> None:
    log = Log()

    def broken(ctx: Context, scope: Scope) -> list[list[Item]]:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        run(fake_command(log, {"roles": broken}, buckets={"pause": 0.2}))
    assert ("end", "buckets") in log.events
    assert "grants" not in log.started()


# --- roles beside buckets: a bucket not there yet has no configuration -----------------------


class MissingBuckets:
    """S3 and IAM of an account where no bucket exists yet (as the buckets stage may not have
    made them when the roles stage reads)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def get(self, service: str, region: str) -> Any:
        return self

    def __getattr__(self, operation: str) -> Any:
        def call(**_: Any) -> Any:
            self.calls.append(operation)
            raise ClientError({"Error": {"Code": "NoSuchBucket", "Message": "none"}},
                              operation)

        return call


def test_roles_beside_buckets_read_a_missing_bucket_as_no_configuration() -> None:
    source = BucketSpec("src", "us-east-1", None, "src-replication")
    destination = BucketSpec("dst", "us-west-2", None, "dst-replication")
    config = Config(Path("s3_config.py"), {"src": source, "dst": destination},
                    crr_rules=(RuleSpec("r1", CRR, "src", "dst"),), srr_rules=())
    clients = MissingBuckets()
    ctx = Context(config, CRR, clients, "000000000000", mode=APPLY)
    assert replication.read_configuration(ctx, source) is None
    assert not replication.under_foreign_role(ctx, source,
                                              replication.read_configuration(ctx, source))
    [lane] = roles.lanes(ctx, Scope.of(ctx))
    assert [item.setting for item in lane] == ["trust (s3.amazonaws.com)",
                                               "permissions (s3-replication-crr)"]
    # widened by nothing: no rule is live on a bucket that does not exist
    assert lane[1].wanted == normalize_document(roles.policy_for(ctx, Scope.of(ctx), [source]))
    assert set(clients.calls) <= {"get_bucket_replication", "get_bucket_tagging"}


# --- what stages running at once share -------------------------------------------------------


class SlowTags:
    """A bucket's tags whose read answers what was there when it was sent, once released."""

    def __init__(self, tags: dict[str, str]) -> None:
        self.tags, self.sent, self.release = dict(tags), threading.Event(), threading.Event()

    def get(self, service: str, region: str) -> Any:
        return self

    def get_bucket_tagging(self, Bucket: str) -> dict[str, Any]:
        answer = [{"Key": k, "Value": v} for k, v in self.tags.items()]
        self.sent.set()
        assert self.release.wait(5)
        return {"TagSet": answer}

    def put_bucket_tagging(self, Bucket: str, Tagging: dict[str, Any]) -> None:
        self.tags = {t["Key"]: t["Value"] for t in Tagging["TagSet"]}


def test_a_tag_read_never_replaces_tags_written_meanwhile() -> None:
    """The roles stage reading a bucket's tags while the buckets stage writes them: the write
    is what the run keeps, whichever ends last."""
    bucket = BucketSpec("src", "us-east-1", None, "src-replication")
    s3 = SlowTags({"old": "1"})
    ctx = Context(CONFIG, CRR, s3, "000000000000", mode=APPLY)
    found: list[dict[str, str]] = []
    reader = threading.Thread(target=lambda: found.append(read_tags(ctx, bucket)))
    reader.start()
    assert s3.sent.wait(5)
    write_tags(ctx, bucket, {"old": "1", "new": "2"})
    s3.release.set()
    reader.join(5)
    assert found == [{"old": "1", "new": "2"}]
    assert read_tags(ctx, bucket) == {"old": "1", "new": "2"}


def test_stages_asking_for_the_sources_at_once_find_them_once() -> None:
    found: list[int] = []
    source = BucketSpec("src", "us-east-1", None, "src-replication")

    def find() -> list[BucketSpec]:
        found.append(1)
        time.sleep(0.1)
        return [source]

    scope = Scope((), (), False, find)
    answers: list[list[BucketSpec]] = []
    askers = [threading.Thread(target=lambda: answers.append(scope.sources)) for _ in range(4)]
    for asker in askers:
        asker.start()
    for asker in askers:
        asker.join(5)
    assert found == [1] and answers == [[source]] * 4


def test_the_notes_of_one_stage_come_in_a_fixed_order_whichever_lane_noted_first() -> None:
    """The lanes of a stage run at once: their notes are listed sorted, not in the order the
    lanes happened to note them, so that plan and apply print the same notes (issue 23)."""

    def buckets(ctx: Context, scope: Scope) -> list[list[Item]]:
        def noting(text: str, pause: float) -> Callable[[], Any]:
            def read() -> Any:
                time.sleep(pause)
                ctx.note(text)
                return "on"
            return read

        return [[Item("bucket a", "x", "on", noting("a: noted last", 0.3), lambda _: None)],
                [Item("bucket b", "x", "on", noting("b: noted first", 0.0), lambda _: None)]]

    ctx, _ = run(fake_command(Log(), given={"buckets": buckets}))
    assert ctx.notes == ["a: noted last", "b: noted first"]
