"""`apply`, `plan` and `destroy`: the commands that compare and change."""

from __future__ import annotations

import argparse
import contextlib
import logging
from pathlib import Path

from ..aws.naming import script_name
from ..engine import stages
from ..engine.context import APPLY, DESTROY, PLAN, Context
from ..engine.items import Change, RunFailed
from ..errors import ExitStatus
from ..output.results import ChangesResult
from . import saved_plan

log = logging.getLogger(__name__)


def _result(ctx: Context, changes: list[Change], status: ExitStatus,
            errors: list[str] | None = None) -> ChangesResult:
    return ChangesResult(script=script_name(ctx.kind), command=ctx.mode, status=status,
                         changes=list(changes), notes=list(ctx.notes), errors=errors,
                         dry_run=ctx.dry_run, waiting=waiting(ctx, changes))


def waiting(ctx: Context, changes: list[Change]) -> list[str]:
    """Who must run what, one line per account of ACCOUNTS whose changes this run left
    pending (its admin_profile is not available here)."""
    lines = []
    for name in dict.fromkeys(c.pending for c in changes if c.pending is not None):
        account = ctx.config.accounts[name]
        path = ctx.config.path
        with contextlib.suppress(ValueError):
            path = path.relative_to(Path.cwd())
        lines.append(
            f'the "{name}" account\'s administrators ({account.account_id}) must run: python '
            f"{script_name(ctx.kind)}.py --config {path} {ctx.mode}, with the AWS profile "
            f'"{account.admin_profile}" (ACCOUNTS["{name}"]["admin_profile"]) configured; '
            "until they do, replication into that account's buckets may fail (then: audit, "
            "and backfill what it finds)")
    return lines


def _failed(ctx: Context, failed: RunFailed) -> ChangesResult:
    """What was done, and each failure (one line each for stderr). A re-run finishes."""
    return _result(ctx, failed.changes, ExitStatus.FAILURE, [str(e) for e in failed.errors])


def apply(ctx: Context, args: argparse.Namespace) -> ChangesResult:
    """Exit 3 when changes in another account were left to its administrators (no
    admin_profile here): the caller's side is done, theirs is shown as pending. With a saved
    plan (`apply FILE`), only once AWS is as it was when the plan was made (saved_plan.py)."""
    if getattr(args, "plan_file", None) is not None:
        ctx, to_make = _as_planned(ctx, Path(args.plan_file))
        if not to_make:  # the plan has no change, and AWS none either: nothing to do
            ctx.mode = APPLY
            return _result(ctx, [], ExitStatus.OK)
    ctx.mode = APPLY
    try:
        changes = stages.run(ctx)
    except RunFailed as failed:
        return _failed(ctx, failed)
    pending = any(c.pending is not None for c in changes)
    return _result(ctx, changes, ExitStatus.ATTENTION if pending else ExitStatus.OK)


def plan(ctx: Context, args: argparse.Namespace) -> ChangesResult:
    """With --out FILE, the plan is saved there too, for `apply FILE` (saved_plan.py)."""
    ctx.mode = PLAN
    changes = stages.run(ctx)
    result = _result(ctx, changes, ExitStatus.ATTENTION if changes else ExitStatus.OK)
    if getattr(args, "out", None) is not None:
        saved_plan.write(Path(args.out), ctx.config, ctx.kind, ctx.account, changes)
        result.saved_to = str(args.out)
    return result


def _as_planned(ctx: Context, path: Path) -> tuple[Context, bool]:
    """The saved plan's account checked and AWS read again: refused (PlanMoved, exit 3) when
    any change differs from the plan's. The context for the apply that follows, a fresh one
    when there is something to make (the facts a plan learns are not those of a run that
    writes), and whether there is."""
    saved = saved_plan.read(path)
    saved_plan.check_account(saved, ctx.account)
    log.info("saved plan %s: %d changes; reading AWS again", path, len(saved.changes))
    ctx.mode = PLAN
    now = stages.run(ctx)
    saved_plan.refuse_if_moved(saved, now)
    if not now:
        return ctx, False
    return Context(config=ctx.config, kind=ctx.kind, clients=ctx.clients,
                   account=ctx.account), True


def destroy(ctx: Context, args: argparse.Namespace) -> ChangesResult:
    """Without --yes: the destroy plan, changing nothing (exit 3 when there is something);
    with --yes, exit 3 when changes in another account were left to its administrators."""
    ctx.mode, ctx.dry_run = DESTROY, not args.yes
    try:
        changes = stages.run(ctx)
    except RunFailed as failed:
        return _failed(ctx, failed)
    pending = any(c.pending is not None for c in changes)
    return _result(ctx, changes, ExitStatus.ATTENTION if (changes and ctx.dry_run) or pending
                   else ExitStatus.OK)
