"""`apply`, `plan` and `destroy`: the commands that compare and change."""

from __future__ import annotations

import argparse

from ..aws.naming import script_name
from ..engine import stages
from ..engine.context import APPLY, DESTROY, PLAN, Context
from ..engine.items import RunFailed
from ..errors import ExitStatus
from ..output.render import changes_text
from ..output.results import Outcome

KEPT_ON_DESTROY = (
    "kept: every bucket and its data, versioning, default encryption, public access blocks, "
    "the TLS-only policy and tags, and every KMS key. Delete them by hand if you mean to "
    "(aws s3 rb s3://BUCKET --force; aws kms schedule-key-deletion --key-id ARN)."
)


def _data(ctx: Context, changes: list, status: ExitStatus, **extra: object) -> dict:
    return {"script": script_name(ctx.kind), "command": ctx.mode, "status": int(status),
            "changes": [c.as_dict() for c in changes], "notes": list(ctx.notes), **extra}


def _with_notes(ctx: Context, text: str) -> str:
    if not ctx.notes:
        return text
    return text + "\nNotes:\n" + "\n".join(f"  ! {note}" for note in ctx.notes)


def _failed(ctx: Context, failed: RunFailed) -> Outcome:
    """What was done goes to stdout; each failure is one line for stderr. A re-run finishes."""
    errors = [str(e) for e in failed.errors]
    text = changes_text(failed.changes, f"Made {len(failed.changes)} changes before failing; "
                                        "fix the cause and run the same command again:")
    return Outcome(ExitStatus.FAILURE, _with_notes(ctx, text),
                   _data(ctx, failed.changes, ExitStatus.FAILURE, errors=errors), errors)


def apply(ctx: Context, args: argparse.Namespace) -> Outcome:
    ctx.mode = APPLY
    try:
        changes = stages.run(ctx)
    except RunFailed as failed:
        return _failed(ctx, failed)
    if not changes:
        return Outcome(ExitStatus.OK,
                       _with_notes(ctx, "No changes: everything matches the config."),
                       _data(ctx, changes, ExitStatus.OK))
    return Outcome(ExitStatus.OK,
                   _with_notes(ctx, changes_text(changes, f"Applied {len(changes)} changes:")),
                   _data(ctx, changes, ExitStatus.OK))


def plan(ctx: Context, args: argparse.Namespace) -> Outcome:
    ctx.mode = PLAN
    changes = stages.run(ctx)
    if not changes:
        return Outcome(ExitStatus.OK,
                       _with_notes(ctx, "No changes: everything matches the config."),
                       _data(ctx, changes, ExitStatus.OK))
    return Outcome(ExitStatus.ATTENTION,
                   _with_notes(ctx, changes_text(changes, f"{len(changes)} changes would be "
                                                          "made (run apply to make them):")),
                   _data(ctx, changes, ExitStatus.ATTENTION))


def destroy(ctx: Context, args: argparse.Namespace) -> Outcome:
    """Without --yes: the destroy plan, changing nothing (exit 3 when there is something)."""
    ctx.mode, ctx.dry_run = DESTROY, not args.yes
    try:
        changes = stages.run(ctx)
    except RunFailed as failed:
        return _failed(ctx, failed)
    if not changes:
        return Outcome(ExitStatus.OK, "Nothing to destroy.\n" + KEPT_ON_DESTROY,
                       _data(ctx, changes, ExitStatus.OK))
    if ctx.dry_run:
        text = changes_text(changes, f"destroy would make {len(changes)} changes "
                                     "(run destroy --yes to make them):")
        return Outcome(ExitStatus.ATTENTION, text + "\n" + KEPT_ON_DESTROY,
                       _data(ctx, changes, ExitStatus.ATTENTION, dry_run=True))
    text = changes_text(changes, f"Destroyed ({len(changes)} changes):")
    return Outcome(ExitStatus.OK, text + "\n" + KEPT_ON_DESTROY, _data(ctx, changes, ExitStatus.OK))
