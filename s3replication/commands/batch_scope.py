"""Which objects a Batch Replication job of one source bucket selects (its generated manifest's
`ObjectReplicationStatuses`), and why; and the group no batch job can repair.

What AWS documents for the filter
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-batch-replication-batch.html,
"Filters for a Batch Replication job"):
- `NONE` (never attempted: objects older than their rule) and `FAILED`: always;
- `COMPLETED`: "If you want to back-fill a destination bucket with objects that have been
  replicated to another destination, include COMPLETED". An object is COMPLETED once every
  destination of its time has it
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-status.html), so a rule
  added later (a vault next to an existing CRR rule) never sees it without COMPLETED. Included
  only when another destination's rule selects some of the same objects (a prefix of one rule
  starts with the other's; tag filters are not compared, so they count as overlapping): with
  one destination NONE and FAILED are enough, and COMPLETED would send again every object the
  destination already holds;
- `REPLICA` ("If you want replicate objects previously replicated"): live replication never
  forwards replicas (an A to B to C chain stops at B), so C is back-filled with A's objects only
  with REPLICA. Included only when the source holds replicas from a bucket it does not itself
  replicate to (these keys): a job replicates to every destination whose rule selects the
  object, so in a two-way pair (even one with a vault besides) a job with REPLICA would send
  the partner's objects back where they came from.

And what no job can do: "Batch Replication does not support re-replicating objects that were
deleted with the version ID of the object from the destination bucket" (same page); those are
copied in place (object_copy), which makes a new version that S3 replicates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..aws.calls import explain, is_not_found
from ..config.model import BucketSpec, RuleSpec
from ..engine.context import Context

ALWAYS = ("NONE", "FAILED")
REPLICAS_GONE = ("replicas deleted from the destination (by version id): not in this job, since "
                 "Batch Replication does not re-replicate them; they go by copy in place: "
                 "`audit --inventory` lists them in a copy manifest (`backfill --manifest URL` "
                 "copies them), `backfill --method copy` finds and copies them")


@dataclass(frozen=True)
class Scope:
    """A job's ObjectReplicationStatuses, and one sentence per status beyond NONE/FAILED
    (or per status left out that a reader might expect) saying why."""

    statuses: list[str]
    reasons: list[str] = field(default_factory=list)


def overlaps(prefix: str, other: str) -> bool:
    """Whether some key can start with both prefixes."""
    return prefix.startswith(other) or other.startswith(prefix)


def _name(destination: str) -> str:
    return destination.rsplit(":", 1)[-1]


def _rule_prefix(rule: dict[str, Any]) -> str:
    """A live rule's prefix: Filter.Prefix, Filter.And.Prefix, or V1's top-level Prefix."""
    selection = rule.get("Filter") or {}
    return str(selection.get("Prefix", selection.get("And", {}).get("Prefix",
                                                                     rule.get("Prefix", ""))))


def live_rules(ctx: Context, source: BucketSpec) -> list[tuple[str, str]]:
    """(prefix, destination bucket) of each enabled rule on the source as S3 holds it, both
    scripts' and rules the tool did not make; none when the bucket has no configuration yet."""
    try:
        found = ctx.s3_of(source).get_bucket_replication(Bucket=source.name)
    except Exception as exc:
        if is_not_found(exc, "NoSuchBucket", "ReplicationConfigurationNotFoundError"):
            return []
        raise explain(exc, f"reading the replication configuration of {source.name}") from exc
    return [(_rule_prefix(rule), _name(str(rule["Destination"]["Bucket"])))
            for rule in found["ReplicationConfiguration"].get("Rules", [])
            if rule.get("Status") == "Enabled"]


def job_scope(ctx: Context, source: BucketSpec, rules: list[RuleSpec]) -> Scope:
    """The statuses of the job backfilling `rules` (this script's rules of `source`)."""
    prefixes = {r.prefix for r in rules}
    targets = {r.destination for r in rules}
    declared = [(r.prefix, r.destination) for r in ctx.config.all_rules()
                if r.source == source.name]
    others = sorted({(prefix, destination)
                     for prefix, destination in declared + live_rules(ctx, source)
                     if destination not in targets and any(overlaps(prefix, p) for p in prefixes)})
    statuses, reasons = list(ALWAYS), []
    if others:
        statuses.append("COMPLETED")
        named = ", ".join(f"{destination} ({prefix!r})" for prefix, destination in others)
        reasons.append(f"COMPLETED: {source.name} also replicates these keys to {named}; an "
                       "object replicated there before a rule to "
                       f"{', '.join(sorted(targets))} existed is COMPLETED and reaches it only "
                       "so (COMPLETED objects every destination holds may be sent again)")
    origins = sorted({r.source for r in ctx.config.all_rules() if r.destination == source.name
                      and any(overlaps(r.prefix, p) for p in prefixes)})
    onward = [o for o in origins if o not in targets | {d for _, d in others}]
    if onward:
        statuses.append("REPLICA")
        reasons.append(f"REPLICA: {source.name} holds replicas from {', '.join(onward)}, which "
                       "live replication never forwards")
    elif origins:
        reasons.append(f"no REPLICA: the replicas in {source.name} came from "
                       f"{', '.join(origins)}, which {source.name} replicates to; a job with "
                       "REPLICA would send them back where they came from")
    return Scope(statuses, reasons)
