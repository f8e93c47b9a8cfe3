"""The order of a run, as data: per command, its stages and which stages each waits for
(`Step.after`), and what the command wants of them (`removing`). Every stage is one resource
module's `lanes(ctx, scope) -> list[list[Item]]`; its lanes run in parallel (items.py), and a
stage starts, in a thread of its own, as soon as every stage it waits for has finished without
error (graph.py). After a failure nothing new starts; the stages running finish.

apply/plan make the resources in the order they need each other; each edge and why:

- keys: none.
- buckets after keys: default encryption names the key's ARN, which the keys stage finds or
  creates (`ctx.key_arns`).
- roles after keys, beside buckets: a role's policies name key ARNs (made by the keys stage,
  read when the stage lists its lanes) and bucket ARNs, which need no bucket. With apply it
  reads each source's replication configuration and tags (to widen to the rules there now):
  a bucket not made yet reads as having neither (NoSuchBucket: None and no tags, as plan reads
  a bucket it would create), and the only tags the buckets stage adds meanwhile are records
  of the script's config rules, which roles.py counts as the script's whatever the tags say.
- inventory after buckets: its configurations sit on the buckets and deliver into the report
  buckets, both made by the buckets stage.
- grants after buckets, inventory and roles: a policy naming a role is refused while the role
  does not exist; the destination bucket (and its key, made before it) must exist; and the
  buckets stage writes the same bucket policies (the TLS-only statement). Inventory: see
  replication.
- replication after buckets, inventory, roles and grants: S3 takes rules only between
  versioned buckets that exist; the buckets stage records the rules as the script's before
  they exist (ownership.py); each rule's role must exist with its widened permissions, and
  another account's grants must be widened. A rule needs nothing of the inventory stage, but
  S3 refuses configuration writes that overlap on one bucket (OperationAborted, "a
  conflicting conditional operation is currently in progress",
  https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html), and the inventory
  configurations sit on the same buckets as the rules, the grants and the notifications
  (monitoring, after replication): so it runs before them, beside the roles stage (IAM only).
- role permissions and grants narrowed after replication: cut to the rules wanted only once
  those are the rules on the buckets (below).
- monitoring after replication: we do not rely on S3 accepting replication event
  notifications and alarms for rules that do not exist yet. It runs beside the narrowing:
  alarms, the dashboard and notification configurations are written by no other stage (nor
  topics, once the topics stage has ended), and the buckets it writes (sources, the
  caller's) are not those whose policies "grants narrowed" writes (in other accounts);
  "role permissions" writes IAM only.
- topics first, beside the keys and buckets: a topic wanted is made before the rules, with
  the policy that lets the source buckets publish to it; it needs no key, bucket, role or
  rule (its policy names the buckets, which S3 does not check exist), and writes only SNS.
  Monitoring waits for it (an entry is written only once S3 may publish to the topic); a
  topic going away stays in monitoring, after the entries that use it.
- access points (cr_replication.py) after buckets: an access point is made over its buckets;
  it names no rule, role or key; on the buckets it writes only a tag recording its alias (for
  failover while us-west-2 is down), once the buckets stage is done with their tags.
- ownership after every other stage: it forgets removed rules in the source buckets' tags,
  which the buckets stage writes too (two stages writing one bucket's tags at once would lose
  a write); the rule ids it names are those every configuration read by the run held
  (`ctx.rule_ids_seen`, from the roles and replication stages); and a record is cleared only
  after its rule is gone.

So the topics run beside keys and buckets, the roles stage beside buckets and then beside
inventory, access points beside
everything after buckets, and after replication the narrowing beside monitoring; no two
stages that may run at once write one bucket's configuration or one policy. Stages running
at once share the run's facts in `Context` (key ARNs, bucket tags, rule ids seen, what was
made new), each written under `ctx.lock`; bucket tags only the buckets, access points and
ownership stages write, never at once, and a read never replaces tags written meanwhile
(bucket_tags.py). Each stage notes on a view of the context of its own, and the notes are
gathered in the order of the steps, as the changes.

destroy goes the other way, one stage after the other, and keeps KMS keys, buckets, access
points and the settings that protect their data (it has no keys or buckets stage): it removes
this script's rules (`removing`: none is wanted), their alarms and the shared monitoring parts
no rule uses any more, its inventory configurations, its permissions, and roles the tool made
that nothing else uses; other scripts' and hand-made rules stay.

Before the first stage of any command, the monitoring's account-wide names are checked
(monitoring/names.py): a run that would write an alarm, topic or dashboard another config
uses is refused with nothing changed.

Permissions are widened before use and narrowed after: the roles stage gives each role the
permissions of both the rules on the buckets now and the rules wanted, the replication stage
changes the rules, and only then does "role permissions" cut them to what the rules wanted
need. So at every moment each rule in a configuration is covered by its role. A destination
in another account grants the role in its bucket and key policies the same way: widened
after the roles exist ("grants"), narrowed after the rules changed ("grants narrowed"). A
plan shows the end state of both where apply first writes them (roles, grants) and nothing
in the narrowing stages: so plan lists the changes apply makes, in apply's order.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass

from ..aws.calls import explain
from ..errors import ReplicationToolError
from ..monitoring import lanes as monitoring
from ..monitoring import names as monitoring_names
from ..resources import (
    access_points,
    account_grants,
    buckets,
    inventory,
    kms_keys,
    replication,
    role_permissions,
    role_removal,
    roles,
    stale_records,
)
from .context import APPLY, DESTROY, PLAN, Context
from .graph import Step, chain, check_order, run_graph
from .items import Change, Item, RunFailed, StageResult, run_lanes
from .scope import Scope

log = logging.getLogger(__name__)
Lanes = Callable[[Context, Scope], list[list[Item]]]


@dataclass(frozen=True)
class Stage:
    name: str
    lanes: Lanes

    def __str__(self) -> str:
        return self.name


KEYS = Stage("keys", kms_keys.lanes)
BUCKETS = Stage("buckets", buckets.lanes)
INVENTORY = Stage("inventory", inventory.lanes)  # after the report buckets exist
ROLES = Stage("roles", roles.lanes)  # permissions widened: the rules now and those wanted
GRANTS = Stage("grants", account_grants.widened)  # other accounts' policies, widened
REPLICATION = Stage("replication", replication.lanes)
ROLE_PERMISSIONS = Stage("role permissions", role_permissions.lanes)  # narrowed to those wanted
GRANTS_NARROWED = Stage("grants narrowed", account_grants.narrowed)
TOPICS = Stage("topics", monitoring.topic_lanes)  # the SNS topics wanted, made early
MONITORING = Stage("monitoring", monitoring.lanes)
ROLE_REMOVAL = Stage("role removal", role_removal.lanes)
ACCESS_POINTS = Stage("access points", access_points.lanes)  # cr_replication.py only
OWNERSHIP = Stage("ownership", stale_records.lanes)


@dataclass(frozen=True)
class Command:
    steps: tuple[Step[Stage], ...]  # in the order their changes are listed
    removing: bool  # the script wants none of its rules, and removes those of its config

    def __post_init__(self) -> None:
        check_order(self.steps)

    @property
    def stages(self) -> tuple[Stage, ...]:
        return tuple(step.stage for step in self.steps)

    def waits_for(self, stage: Stage) -> tuple[Stage, ...]:
        return next(step.after for step in self.steps if step.stage == stage)


SETUP = Command((
    Step(KEYS),
    Step(BUCKETS, (KEYS,)),
    Step(INVENTORY, (BUCKETS,)),
    Step(ROLES, (KEYS,)),
    Step(GRANTS, (BUCKETS, INVENTORY, ROLES)),
    Step(REPLICATION, (BUCKETS, INVENTORY, ROLES, GRANTS)),
    Step(ROLE_PERMISSIONS, (REPLICATION,)),
    Step(GRANTS_NARROWED, (REPLICATION,)),
    Step(TOPICS),
    Step(MONITORING, (REPLICATION, TOPICS)),
    Step(ACCESS_POINTS, (BUCKETS,)),
    Step(OWNERSHIP, (KEYS, BUCKETS, INVENTORY, ROLES, GRANTS, REPLICATION, ROLE_PERMISSIONS,
                     GRANTS_NARROWED, TOPICS, MONITORING, ACCESS_POINTS)),
), removing=False)
COMMANDS: dict[str, Command] = {
    APPLY: SETUP,
    PLAN: SETUP,
    DESTROY: Command(chain(MONITORING, INVENTORY, REPLICATION, ROLE_PERMISSIONS,
                           GRANTS_NARROWED, ROLE_REMOVAL, OWNERSHIP), removing=True),
}


def reach_accounts(ctx: Context) -> None:
    """Reach every other account of the config's buckets before the first write, so that one
    that cannot be reached stops the run before anything changes anywhere; and, for a run that
    writes, each one's admin_profile: one reaching another account stops it too, one not
    available here leaves that account's changes pending (items.py)."""
    one_per_account = {b.account: b for b in ctx.config.buckets.values() if b.account}
    for bucket in one_per_account.values():
        clients = ctx.clients_of(bucket)
        if ctx.writes and not clients.admin_available():
            log.warning("account %s: admin_profile not available, its changes stay pending",
                        bucket.account)


def run_stage(ctx: Context, scope: Scope, stage: Stage) -> StageResult:
    """The stage's lanes, listed and run. A failure while listing them that the tool can name
    (an AWS error, say) fails the stage like a failed lane; anything else is raised."""
    try:
        lanes = stage.lanes(ctx, scope)
    except Exception as exc:
        error = explain(exc, f"preparing the {stage.name} stage")
        if not isinstance(error, ReplicationToolError):
            raise
        log.error("failed: %s", error)
        log.debug("details", exc_info=exc)
        return StageResult(errors=[error])
    return run_lanes(lanes, apply=ctx.writes)


def run_steps(ctx: Context, scope: Scope, steps: tuple[Step[Stage], ...]) -> list[Change]:
    """Every stage of `steps` as a graph (graph.py); its changes, errors and notes in the
    order of `steps`."""
    views = {step.stage: dataclasses.replace(ctx, notes=[]) for step in steps}
    try:
        results = run_graph(steps, lambda stage: run_stage(views[stage], scope, stage))
    finally:
        for view in views.values():
            for text in sorted(view.notes):  # a stage's lanes note in no fixed order
                if text not in ctx.notes:
                    ctx.notes.append(text)
    changes = _once([change for _, result in results for change in result.changes])
    errors = [error for _, result in results for error in result.errors]
    if errors:
        log.debug("stages failed: %s", ", ".join(str(s) for s, r in results if r.errors))
        raise RunFailed(errors, changes)
    return changes


def _once(changes: list[Change]) -> list[Change]:
    """Each change left pending listed once: the widening and the narrowing stages both find
    a permission or grant that another account's administrators must make first (nothing
    was written in between), as the plan lists it once."""
    found: list[Change] = []
    for change in changes:
        if change.pending is None or change not in found:
            found.append(change)
    return found


def run(ctx: Context) -> list[Change]:
    """Plan (and with apply/destroy, carry out) every stage, each once those it waits for
    are done; after a stage failed, start no other."""
    command = COMMANDS[ctx.mode]
    scope = Scope.of(ctx, removing=command.removing)
    reach_accounts(ctx)
    monitoring_names.check(ctx, scope)  # before the first write: refused, nothing changed
    return run_steps(ctx, scope, command.steps)
