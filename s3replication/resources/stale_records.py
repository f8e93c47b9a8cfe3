"""After the rules are written: forget, in the source buckets' ownership records
(ownership.py), the rules this script has removed."""

from __future__ import annotations

from typing import Any

from ..config.model import BucketSpec
from ..engine.context import Context
from ..engine.items import Item
from ..engine.scope import Scope
from . import ownership
from .bucket_tags import read_tags, write_tags


def records_lane(ctx: Context, scope: Scope, source: BucketSpec) -> list[Item]:
    keep = {ownership.rule_hash(r.id) for r in scope.wanted_rules(source.name)}
    with ctx.lock:
        known = {r.id for r in ctx.config.all_rules()} | ctx.rule_ids_seen
    names = {ownership.rule_hash(rule_id): rule_id for rule_id in known}

    def project(tags: Any) -> Any:
        stale = ownership.owned_hashes(ctx.kind, tags or {}) - keep
        return sorted(names.get(h, f"#{h}") for h in stale)

    def write(tags: Any) -> None:
        write_tags(ctx, source, ownership.with_owned(
            ctx.kind, tags, ownership.owned_hashes(ctx.kind, tags) & keep))

    resource = f"bucket {source.name} ({source.region})"
    return [Item(resource, "stale ownership records", [], lambda: read_tags(ctx, source), write,
                 project=project)]


def lanes(ctx: Context, scope: Scope) -> list[list[Item]]:
    """One lane per source bucket: its record of this script's rules, cut to those wanted."""
    return [records_lane(ctx, scope, source) for source in scope.sources]
