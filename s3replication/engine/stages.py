"""The order of a run, as data: per command, which stages run in which order, and what the
command wants of them (`removing`). Every stage is one resource module's
`lanes(ctx, scope) -> list[list[Item]]`; its lanes run in parallel, the stages one after the
other.

apply/plan: KMS keys, then buckets (versioning before replication; report buckets too), then
inventory configurations (with INVENTORY), then roles, then replication rules, then role
permissions, then monitoring, then access points (cr_replication.py), then forgetting removed
rules. destroy goes the other way and keeps KMS keys, buckets, access points and the settings
that protect their data (it has no keys or buckets stage): it removes this script's rules
(`removing`: none is wanted), their alarms and the shared monitoring parts no rule uses any
more, its inventory configurations, its permissions, and roles the tool made that nothing else
uses; other scripts' and hand-made rules stay.

Permissions are widened before use and narrowed after: the roles stage gives each role the
permissions of both the rules on the buckets now and the rules wanted, the replication stage
changes the rules, and only then does "role permissions" cut them to what the rules wanted
need. So at every moment each rule in a configuration is covered by its role. A destination
in another account grants the role in its bucket and key policies the same way: widened
after the roles exist ("grants"), narrowed after the rules changed ("grants narrowed").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from ..monitoring import lanes as monitoring
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
from .items import Change, Item, RunFailed, run_lanes
from .scope import Scope

log = logging.getLogger(__name__)
Lanes = Callable[[Context, Scope], list[list[Item]]]


@dataclass(frozen=True)
class Stage:
    name: str
    lanes: Lanes


KEYS = Stage("keys", kms_keys.lanes)
BUCKETS = Stage("buckets", buckets.lanes)
INVENTORY = Stage("inventory", inventory.lanes)  # after the report buckets exist
ROLES = Stage("roles", roles.lanes)  # permissions widened: the rules now and those wanted
GRANTS = Stage("grants", account_grants.widened)  # other accounts' policies, widened
REPLICATION = Stage("replication", replication.lanes)
ROLE_PERMISSIONS = Stage("role permissions", role_permissions.lanes)  # narrowed to those wanted
GRANTS_NARROWED = Stage("grants narrowed", account_grants.narrowed)
MONITORING = Stage("monitoring", monitoring.lanes)
ROLE_REMOVAL = Stage("role removal", role_removal.lanes)
ACCESS_POINTS = Stage("access points", access_points.lanes)  # cr_replication.py only
OWNERSHIP = Stage("ownership", stale_records.lanes)


@dataclass(frozen=True)
class Command:
    stages: tuple[Stage, ...]
    removing: bool  # the script wants none of its rules, and removes those of its config


SETUP = Command((KEYS, BUCKETS, INVENTORY, ROLES, GRANTS, REPLICATION, ROLE_PERMISSIONS,
                 GRANTS_NARROWED, MONITORING, ACCESS_POINTS, OWNERSHIP), removing=False)
COMMANDS: dict[str, Command] = {
    APPLY: SETUP,
    PLAN: SETUP,
    DESTROY: Command((MONITORING, INVENTORY, REPLICATION, ROLE_PERMISSIONS, GRANTS_NARROWED,
                      ROLE_REMOVAL, OWNERSHIP), removing=True),
}


def reach_accounts(ctx: Context) -> None:
    """Reach every other account of the config's buckets before the first write, so that one
    that cannot be reached stops the run before anything changes anywhere."""
    one_per_account = {b.account: b for b in ctx.config.buckets.values() if b.account}
    for bucket in one_per_account.values():
        ctx.clients_of(bucket)


def run(ctx: Context) -> list[Change]:
    """Plan (and with apply/destroy, carry out) every stage; stop after a stage that failed."""
    command = COMMANDS[ctx.mode]
    scope = Scope.of(ctx, removing=command.removing)
    reach_accounts(ctx)
    changes: list[Change] = []
    for stage in command.stages:
        result = run_lanes(stage.lanes(ctx, scope), apply=ctx.writes)
        changes.extend(result.changes)
        if result.errors:
            log.debug("stage %s failed", stage.name)
            raise RunFailed(result.errors, changes)
    return changes
