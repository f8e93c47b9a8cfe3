"""`restore`'s arguments checked against the config before any AWS call: the time (ISO 8601
with a zone, not in the future) and the scope (a rule of this script, or a bucket of the
config with an optional prefix). A mistake is a usage error (exit 2) and no request is sent.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from ...config.model import Config
from ...errors import UsageError
from .plan import Scope


def parse_time(text: str, now: datetime | None = None) -> datetime:
    """`text` as an aware UTC datetime; a time without zone, a bad time or one in the future
    is a UsageError."""
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise UsageError(f"--to {text!r} is not an ISO 8601 time "
                         "(for example 2026-12-06T10:00:00Z)") from None
    if when.tzinfo is None or when.utcoffset() is None:
        raise UsageError(f"--to {text!r} has no time zone: write it in UTC with a Z "
                         "(2026-12-06T10:00:00Z) or with an offset (+01:00)")
    when = when.astimezone(UTC)
    if when > (now or datetime.now(UTC)):
        raise UsageError(f"--to {text!r} is in the future: a restore goes back in time")
    return when


def scope_of(config: Config, kind: str, args: argparse.Namespace) -> Scope:
    """The scope the arguments name, or a UsageError."""
    from_replica = args.source_of_state == "replica"
    if args.rule is not None:
        if args.bucket is not None or args.prefix is not None:
            raise UsageError("--rule and --bucket/--prefix are exclusive: the rule says both")
        rule = next((r for r in config.rules(kind) if r.id == args.rule), None)
        if rule is None:
            known = ", ".join(r.id for r in config.rules(kind)) or "none"
            raise UsageError(f"--rule {args.rule!r} is not a rule of this script "
                             f"(its rules: {known})")
        return Scope(rule.source, rule.prefix, rule, from_replica)
    if args.bucket is None:
        raise UsageError("restore needs --rule ID or --bucket NAME")
    if from_replica:
        raise UsageError("--from replica needs --rule: the rule names the replica")
    if args.bucket not in config.buckets:
        raise UsageError(f"--bucket {args.bucket!r} is not a bucket of the config")
    return Scope(args.bucket, args.prefix or "")


def check(config: Config, kind: str, args: argparse.Namespace) -> None:
    """Check the arguments; record the time and scope on `args` for the command."""
    if args.prefix is not None and args.bucket is None:
        raise UsageError("--prefix needs --bucket (a rule has its own prefix)")
    if args.max_report < 0:
        raise UsageError("--max-report must be 0 or more")
    args.restore_to = parse_time(args.to)
    args.restore_scope = scope_of(config, kind, args)
