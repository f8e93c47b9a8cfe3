"""After the replication stage: each script's inline policy on each role cut to exactly what
the rules it wants need (roles.py widened it before the rules changed; engine/stages.py says
why)."""

from __future__ import annotations

from ..engine.context import PLAN, Context
from ..engine.items import Item
from ..engine.scope import Scope
from .roles import by_role, policy_for, policy_item


def lanes(ctx: Context, scope: Scope) -> list[list[Item]]:
    """One lane per role: this script's permissions, exactly those its rules need. A plan
    lists none here: it shows the end state where apply first writes them (roles.py)."""
    if ctx.mode == PLAN:
        return []
    return [[policy_item(ctx, name, policy_for(ctx, scope, group))]
            for name, group in by_role(scope.sources).items()]
