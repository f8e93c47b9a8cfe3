"""What a run's resources look at, and what the command wants of them: the `Scope` every
resource module's `lanes(ctx, scope)` receives.

The buckets a script looks at are those its rules name, and those whose tags say it created
rules there earlier (rules since removed from the config are removed by apply). Finding the
latter reads every bucket's tags, so it happens once, when a stage first needs it (stages that
run at once and ask together wait for the one finding).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from ..aws.calls import error_code, explain
from ..config.model import BucketSpec, RuleSpec
from ..resources import ownership
from ..resources.bucket_tags import read_tags
from .context import Context
from .parallel import parallel_map

log = logging.getLogger(__name__)


@dataclass
class Scope:
    """The run's buckets and rules, and whether the command sets them up or removes them."""

    rules: tuple[RuleSpec, ...]  # this script's rules in the config
    touched: tuple[BucketSpec, ...]  # sources and destinations of `rules`, in BUCKETS order
    removing: bool  # destroy: the script wants none of its rules, and removes its config's
    find_sources: Callable[[], list[BucketSpec]] = field(repr=False)
    _sources: list[BucketSpec] | None = field(default=None, repr=False)
    # stages running at once may ask together; the sources are found once
    _finding: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @classmethod
    def of(cls, ctx: Context, removing: bool = False) -> Scope:
        return cls(ctx.rules, tuple(ctx.touched_buckets()), removing, lambda: sources(ctx))

    @property
    def sources(self) -> list[BucketSpec]:
        """Sources of this script's rules, then buckets holding its ownership records."""
        with self._finding:
            if self._sources is None:
                self._sources = self.find_sources()
            return self._sources

    def wanted_rules(self, source: str) -> list[RuleSpec]:
        """This script's config rules on `source`; none when removing."""
        if self.removing:
            return []
        return [r for r in self.rules if r.source == source]

    def removed_without_record(self) -> set[str]:
        """Rule ids this script removes even where no ownership record names them: its config
        rules when removing (apply removes only rules its records name)."""
        return {r.id for r in self.rules} if self.removing else set()


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

    buckets = [b for b in ctx.config.buckets.values() if not b.account]  # sources are ours
    owned = parallel_map(owns_any, buckets)
    return [b for b, owns in zip(buckets, owned, strict=True) if owns]


def sources(ctx: Context) -> list[BucketSpec]:
    """Sources of this script's rules, then buckets holding its ownership records."""
    named = {r.source for r in ctx.rules}
    found = [b for n, b in ctx.config.buckets.items() if n in named]
    return found + [b for b in owned_sources(ctx) if b.name not in named]
