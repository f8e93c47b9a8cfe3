"""Which source buckets a script must look at: those its rules name, and those whose tags say
it created rules there earlier (rules since removed from the config are removed by apply)."""

from __future__ import annotations

import logging

from ..aws.calls import error_code, explain
from ..config.model import BucketSpec
from ..resources import ownership
from ..resources.buckets import read_tags
from .context import Context
from .items import parallel_map

log = logging.getLogger(__name__)


def owned_sources(ctx: Context) -> list[BucketSpec]:
    def owns_any(bucket: BucketSpec) -> bool:
        try:
            return bool(ownership.owned_hashes(ctx.kind, read_tags(ctx, bucket)))
        except Exception as exc:
            # a bucket of someone else's (or in no Region we can read) holds nothing of ours;
            # any other failure stops the run rather than leave a removed rule in place
            if error_code(exc) not in ("AccessDenied", "403", "PermanentRedirect", "301"):
                raise explain(exc, f"reading the tags of bucket {bucket.name}") from exc
            log.debug("cannot read tags of %s: %s", bucket.name, exc)
            return False

    buckets = list(ctx.config.buckets.values())
    owned = parallel_map(owns_any, buckets)
    return [b for b, owns in zip(buckets, owned, strict=True) if owns]


def sources(ctx: Context) -> list[BucketSpec]:
    """Sources of this script's rules, then buckets holding its ownership records."""
    named = {r.source for r in ctx.rules}
    found = [b for n, b in ctx.config.buckets.items() if n in named]
    return found + [b for b in owned_sources(ctx) if b.name not in named]


def own_rules_from(ctx: Context, source: str) -> list:
    """This script's config rules on `source`; none when destroying."""
    if ctx.mode == "destroy":
        return []
    return [r for r in ctx.rules if r.source == source]
