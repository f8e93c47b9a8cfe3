"""`restore` as text and as `--json` data (registered with the one renderer, render.py)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from . import plural
from .render import _head, data, text
from .restore_results import RestoreResult

UNDO = ("No version was deleted: undo this restore with a restore to the moment before it.")
GROUP_WORDS = {"unchanged": "unchanged", "overwritten": "overwritten since (copy back)",
               "deleted": "deleted since (copy back)", "created": "created since (hide)"}


@data.register
def _(result: RestoreResult) -> dict[str, Any]:
    found = {**_head(result.script, "restore", result.status), **asdict(result)}
    found.pop("script")
    found["archived"] = [{"key": k, "version_id": v} for k, v in result.archived]
    return found


@text.register
def _(result: RestoreResult) -> str:
    where = f"s3://{result.bucket}/{result.prefix}" + (f" (rule {result.rule})" if result.rule
                                                         else "")
    origin = f", versions read from {result.source_of_copies}" if result.source_of_copies else ""
    lines = [f"restore {where} to {result.to}{origin}"
             + (" (plan; nothing changed)" if result.dry_run else "")]
    for group, words in GROUP_WORDS.items():
        lines.append(f"  {result.counts[group]:>8,} {words}")
        lines += [f"             {key}" for key in result.samples.get(group, [])
                  if group != "unchanged"]
    if result.archived_count:
        versions = plural.noun(result.archived_count, "version is", "versions are")
        lines.append(f"  {result.archived_count:,} {versions} at that time archived in "
                     "GLACIER or DEEP_ARCHIVE: restore them first (RestoreObject), then re-run")
        lines += [f"             {key} (version {version})" for key, version in result.archived]
    changes = sum(result.counts[g] for g in ("overwritten", "deleted", "created"))
    if result.dry_run:
        lines.append("Run again with --yes to restore." if changes else "Nothing to restore.")
        return "\n".join(lines)
    if result.manifest:
        return "\n".join(lines + _batch_lines(result) + [UNDO])
    lines.append(f"  restored: {result.copied:,} copied back, {result.hidden:,} hidden with a "
                 f"delete marker, {result.failed:,} failed")
    if result.changes_file:
        lines.append(f"  list of changes (key, version before, version after): "
                     f"{result.changes_file}")
    lines.append(UNDO)
    return "\n".join(lines)


def _batch_lines(result: RestoreResult) -> list[str]:
    """`--inventory --yes`: the copy job started, the keys hidden here."""
    lines = [f"  manifest: {result.manifest}"]
    if result.job_id:
        lines += [f"  Batch Operations copy job {result.job_id} started: {result.job_copies:,} "
                  "version(s) to copy back",
                  f"  its completion report: {result.job_report}"]
    else:
        lines.append("  nothing to copy back: no job started")
    lines.append(f"  {result.hidden:,} {plural.noun(result.hidden, 'key')} hidden with a "
                 "delete marker")
    return lines
