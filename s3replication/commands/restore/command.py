"""`restore`: bring a bucket (under a prefix) or a rule's scope back to a moment in time.

Without `--yes` it plans: each key judged (plan.judge) into unchanged, overwritten, deleted and
created, counts and the first `--max-report` keys of each group; exit 3 when anything would
change, 0 when nothing. With `--yes` it applies (apply.py): no version is ever deleted, so a
restore is undone by a restore to the moment before it. A re-run changes only what still
differs: a key whose current version has the ETag and size of its version at TIME counts as
restored (the copy itself has a new version id and a LastModified after TIME).

`--from replica` reads the state at TIME from the rule's destination (where versions destroyed
in the source by a permanent delete still are: permanent deletes are not replicated,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html)
and copies from there into the source. `--inventory` plans from S3 Inventory reports
(inventory_plan), never listing the bucket; `--inventory --yes` writes the copies to a Batch
Operations manifest and starts an S3PutObjectCopy job over it (batch_copy), adding the delete
markers in-process.
"""

from __future__ import annotations

import argparse
import importlib
from typing import Any

from ...aws.calls import explain
from ...aws.naming import script_name
from ...engine.context import Context
from ...errors import ExitStatus, UsageError
from ...output.restore_results import RestoreResult
from . import listing
from .apply import apply
from .changes_log import earlier_copies
from .plan import RestorePlan, Scope, Version, judge


def restore(ctx: Context, args: argparse.Namespace) -> RestoreResult:
    scope: Scope = args.restore_scope
    if args.inventory:
        plan = _inventory_plan(ctx, scope, args)
    else:
        try:
            plan = listed_plan(ctx, scope, args)
        except Exception as exc:  # named in one line
            raise explain(exc, f"listing the versions of s3://{scope.read_bucket}/"
                               f"{scope.prefix}") from exc
    result = RestoreResult(
        script=script_name(ctx.kind), status=ExitStatus.OK, dry_run=not args.yes,
        bucket=plan.bucket, prefix=plan.prefix, to=plan.to.isoformat().replace("+00:00", "Z"),
        counts=plan.counts, samples=plan.samples, rule=scope.rule.id if scope.rule else "",
        source_of_copies=plan.source_of_copies, inventory=bool(args.inventory),
        archived=plan.archived[:args.max_report], archived_count=len(plan.archived))
    if args.yes and getattr(plan, "manifest", ""):
        _apply_batch(ctx, plan, result)
    elif args.yes:
        apply(ctx, scope, plan, result, args.max_report)
    result.status = _status(plan, result)
    return result


def _status(plan: RestorePlan, result: RestoreResult) -> ExitStatus:
    if result.failed:
        return ExitStatus.FAILURE
    if result.dry_run:
        return ExitStatus.ATTENTION if plan.changes else ExitStatus.OK
    return ExitStatus.ATTENTION if plan.archived else ExitStatus.OK


def _inventory_plan(ctx: Context, scope: Scope, args: argparse.Namespace) -> RestorePlan:
    try:
        module = importlib.import_module("s3replication.commands.restore.inventory_plan")
        plan_from_inventory = module.plan_from_inventory
    except (ImportError, AttributeError):
        raise UsageError("restore --inventory is not built yet: plan by listing "
                         "(without --inventory)") from None
    plan: RestorePlan = plan_from_inventory(ctx, scope, args.restore_to, args.max_report,
                                            args.engine, manifest=bool(args.yes))
    return plan


def _apply_batch(ctx: Context, plan: RestorePlan, result: RestoreResult) -> None:
    """`--inventory --yes`: the copies listed in the plan's manifest go to an S3 Batch
    Operations copy job (batch_copy); the created keys get their delete markers here."""
    from . import batch_copy
    from .inventory_plan import InventoryRestorePlan

    assert isinstance(plan, InventoryRestorePlan)
    done = batch_copy.apply_batch(ctx, plan)
    result.manifest = plan.manifest
    result.job_id = done.job_id or ""
    result.job_report = done.report
    result.job_copies = plan.copy_count if done.job_id else 0
    result.hidden = len(done.hidden)


def listed_plan(ctx: Context, scope: Scope, args: argparse.Namespace) -> RestorePlan:
    """The plan from ListObjectVersions of the scope (and of the replica with --from replica)."""
    s3 = ctx.s3_of(ctx.bucket(scope.bucket))
    stream = listing.versions(s3, scope.bucket, scope.prefix)
    reader = s3
    if scope.from_replica and scope.rule is not None:
        reader = ctx.s3_of(ctx.bucket(scope.rule.destination))
        stream = listing.merged(listing.versions(reader, scope.read_bucket, scope.prefix), stream)
    selected = _tag_filter(s3, reader, scope) if scope.rule and scope.rule.tags else None
    copies_of = earlier_copies(ctx.config.log_file.parent, scope.bucket)
    plan = judge(stream, args.restore_to, args.max_report, scope.bucket, scope.prefix, selected,
                 copies_of)
    if scope.from_replica:
        plan.source_of_copies = scope.read_bucket
    return plan


def _tag_filter(s3: Any, reader: Any, scope: Scope) -> Any:
    """The rule's tag filter, asked only of keys that would change: the tags of the version at
    TIME (copied back) or of the current one (hidden)."""
    assert scope.rule is not None
    wanted = set(scope.rule.tags)

    def selected(group: str, at: Version | None, current: Version | None) -> bool:
        version = current if group == "created" else at
        if version is None or version.is_delete_marker:
            return False
        client, bucket = (s3, scope.bucket) if group == "created" else (reader, scope.read_bucket)
        tags = client.get_object_tagging(Bucket=bucket, Key=version.key,
                                         VersionId=version.version_id).get("TagSet", [])
        return wanted <= {(t["Key"], t["Value"]) for t in tags}
    return selected
