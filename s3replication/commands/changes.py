"""`apply`, `plan` and `destroy`: the commands that compare and change."""

from __future__ import annotations

import argparse

from ..aws.naming import script_name
from ..engine import stages
from ..engine.context import APPLY, DESTROY, PLAN, Context
from ..engine.items import Change, RunFailed
from ..errors import ExitStatus
from ..output.results import ChangesResult


def _result(ctx: Context, changes: list[Change], status: ExitStatus,
            errors: list[str] | None = None) -> ChangesResult:
    return ChangesResult(script=script_name(ctx.kind), command=ctx.mode, status=status,
                         changes=list(changes), notes=list(ctx.notes), errors=errors,
                         dry_run=ctx.dry_run)


def _failed(ctx: Context, failed: RunFailed) -> ChangesResult:
    """What was done, and each failure (one line each for stderr). A re-run finishes."""
    return _result(ctx, failed.changes, ExitStatus.FAILURE, [str(e) for e in failed.errors])


def apply(ctx: Context, args: argparse.Namespace) -> ChangesResult:
    ctx.mode = APPLY
    try:
        changes = stages.run(ctx)
    except RunFailed as failed:
        return _failed(ctx, failed)
    return _result(ctx, changes, ExitStatus.OK)


def plan(ctx: Context, args: argparse.Namespace) -> ChangesResult:
    ctx.mode = PLAN
    changes = stages.run(ctx)
    return _result(ctx, changes, ExitStatus.ATTENTION if changes else ExitStatus.OK)


def destroy(ctx: Context, args: argparse.Namespace) -> ChangesResult:
    """Without --yes: the destroy plan, changing nothing (exit 3 when there is something)."""
    ctx.mode, ctx.dry_run = DESTROY, not args.yes
    try:
        changes = stages.run(ctx)
    except RunFailed as failed:
        return _failed(ctx, failed)
    return _result(ctx, changes, ExitStatus.ATTENTION if changes and ctx.dry_run
                   else ExitStatus.OK)
