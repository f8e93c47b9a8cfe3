"""The order of a run: which stages, in which order, for apply, plan and destroy.

apply/plan: KMS keys, then buckets (versioning before replication), then roles, then
replication rules, then monitoring, then forgetting removed rules. destroy goes the other way
and never touches keys or the settings that protect data.

Permissions are widened before use and narrowed after: the roles stage gives each role the
permissions of both the rules on the buckets now and the rules wanted, the replication stage
changes the rules, and only then does "role permissions" cut them to what the rules wanted
need. So at every moment each rule in a configuration is covered by its role.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..monitoring import lanes as monitoring
from ..resources import buckets, kms_keys, replication, roles
from . import scope
from .context import DESTROY, Context
from .items import Change, Item, RunFailed, run_lanes

log = logging.getLogger(__name__)
Stage = tuple[str, Callable[[], list[list[Item]]]]


def stages(ctx: Context) -> list[Stage]:
    found: dict[str, list] = {}

    def sources() -> list:
        if "sources" not in found:
            found["sources"] = scope.sources(ctx)
        return found["sources"]

    replication_stage = ("replication", lambda: [replication.replication_lane(ctx, s)
                                                 for s in sources()])
    ownership_stage = ("ownership", lambda: [replication.ownership_lane(ctx, s)
                                             for s in sources()])
    monitoring_stage = ("monitoring", lambda: monitoring.lanes(ctx, sources()))
    narrow_stage = ("role permissions", lambda: roles.narrow_lanes(ctx, sources()))
    if ctx.mode == DESTROY:
        return [
            monitoring_stage,
            replication_stage,
            narrow_stage,
            ("role removal", lambda: roles.removal_lanes(ctx, sources())),
            ownership_stage,
        ]
    return [
        ("keys", lambda: kms_keys.lanes(ctx)),
        ("buckets", lambda: buckets.lanes(ctx)),
        ("roles", lambda: roles.lanes(ctx, sources())),
        replication_stage,
        narrow_stage,
        monitoring_stage,
        ownership_stage,
    ]


def run(ctx: Context) -> list[Change]:
    """Plan (and with apply/destroy, carry out) every stage; stop after a stage that failed."""
    changes: list[Change] = []
    for name, build in stages(ctx):
        result = run_lanes(build(), apply=ctx.writes)
        changes.extend(result.changes)
        if result.errors:
            log.debug("stage %s failed", name)
            raise RunFailed(result.errors, changes)
    return changes
