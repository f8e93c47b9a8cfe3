"""`failover NAME --to BUCKET` and `failback NAME`: move a Multi-Region Access Point's traffic
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingFailover.html).

Without `--yes` both show the routes before and after and the readiness result, and change
nothing (exit 3). With `--yes` they refuse when readiness fails, unless `--force`; `failback`
also when the backlog toward the buckets it routes to is unknown (readiness.backlog_check).
Once a check failed, the canary is not run (its wait could not change the outcome). `failover`
records the routes it replaces in `<log folder>/.failover-<name>.json` (and in the log) before
it changes them, so `failback` restores exactly those; a re-run after a crash keeps the first
record. The operator who fails back is often not the one who failed over: without a record
on this machine, `failback` restores the config's `active` routes, and says so. Routes are
read back until they hold (resources/access_point_routes.py).

Both run while a Region may be down (readiness.py): the alias comes from the config or the
buckets' tags (resources/access_points.find_alias), so neither needs us-west-2, where
GetMultiRegionAccessPoint is served, and the route calls try the five route Regions in turn.
"""

from __future__ import annotations

import argparse
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..aws.naming import script_name
from ..config.model import AccessPointSpec, Config
from ..engine.context import Context
from ..errors import ExitStatus, UsageError
from ..output.failover_results import AccessPointReadiness, FailoverResult
from ..resources.access_point_routes import read_routes, submit_routes
from ..resources.access_points import access_point_arn, find_alias, initial_routes
from .readiness import CANARY_TIMEOUT, check_access_point, chosen_access_points

log = logging.getLogger(__name__)


def record_path(ctx: Context, name: str) -> Path:
    return record_path_of(ctx.config, name)


def record_path_of(config: Config, name: str) -> Path:
    return config.log_file.parent / f".failover-{name}.json"


def read_record(config: Config, name: str) -> dict[str, int] | None:
    """The routes the last failover of access point `name` replaced, None without a record;
    an unreadable record is a UsageError (checked before any call: usage_checks.failback)."""
    path = record_path_of(config, name)
    if not path.exists():
        return None
    try:
        return {str(b): int(d) for b, d in json.loads(path.read_text())["routes"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise UsageError(f"the failover record {path} is unreadable: fix or remove it "
                         "(without it, failback restores the config's active routes)"
                         ) from None


def failover(ctx: Context, args: argparse.Namespace) -> FailoverResult:
    spec = chosen_access_points(ctx, args.name)[0]
    if args.to not in spec.buckets:
        raise UsageError(f"--to {args.to}: not a bucket of access point {spec.name} "
                         f"({', '.join(spec.buckets)})")
    wanted = {b: 100 if b == args.to else 0 for b in spec.buckets}
    return _move(ctx, args, spec, "failover", wanted)


def failback(ctx: Context, args: argparse.Namespace) -> FailoverResult:
    spec = chosen_access_points(ctx, args.name)[0]
    path = record_path(ctx, spec.name)
    notes: list[str] = []
    recorded = read_record(ctx.config, spec.name)
    if recorded is not None:
        wanted = recorded
    else:
        wanted = {r["Bucket"]: int(r["TrafficDialPercentage"]) for r in initial_routes(spec)}
        notes.append(f"no failover record found on this machine; restoring the config's "
                     f"active routes: {_active(wanted)} (a failover here records the routes "
                     f"it replaces in {path})")
    return _move(ctx, args, spec, "failback", wanted, notes)


def _move(ctx: Context, args: argparse.Namespace, spec: AccessPointSpec, command: str,
          wanted: dict[str, int], notes: list[str] | None = None) -> FailoverResult:
    alias = find_alias(ctx, spec)
    if alias is None:
        raise UsageError(f"access point {spec.name} does not exist: run apply first")
    arn = access_point_arn(ctx, alias)
    before = read_routes(ctx, arn)
    # failback: the buckets taking the traffic back must have caught up (backlog_check)
    catching_up = [b for b, d in wanted.items() if d > 0] if command == "failback" else []
    ready = check_access_point(ctx, spec, getattr(args, "timeout", None) or CANARY_TIMEOUT,
                               catching_up, stop_early=bool(args.yes))
    unsure = bool(catching_up and ready.unknown)
    result = FailoverResult(script_name(ctx.kind), command, ExitStatus.ATTENTION, spec.name,
                            before, wanted, ready, done=False, dry_run=not args.yes,
                            forced=bool(args.force) and (not ready.ready or unsure),
                            notes=list(notes or []))
    for note in result.notes:
        log.warning("%s %s: %s", command, spec.name, note)
    if not args.yes:
        result.message = "dry run: nothing changed; add --yes to change the routes"
        return result
    if not ready.ready and not args.force:
        result.message = ("refused: readiness failed (see above); fix it, or add --force to "
                          "move the traffic anyway (writes not yet replicated may be missing)")
        return result
    if unsure and not args.force:
        result.message = (f"refused: {', '.join(ready.unknown)} unknown (see above): no "
                          "evidence that the buckets taking the traffic have caught up; wait "
                          "for the metrics, or add --force to move the traffic anyway")
        return result
    if command == "failover":
        _record(ctx, spec, before, wanted)
    result.routes_after = submit_routes(ctx, arn, _updates(wanted))
    if command == "failback":
        record_path(ctx, spec.name).unlink(missing_ok=True)
    log.info("%s %s: routes %s -> %s%s", command, spec.name, before, result.routes_after,
             " (forced)" if result.forced else "")
    result.done, result.status = True, ExitStatus.OK
    result.message = f"{command} done: traffic goes to {_active(result.routes_after)}"
    return result


def _record(ctx: Context, spec: AccessPointSpec, before: dict[str, int],
            wanted: dict[str, int]) -> None:
    """The routes being replaced, for failback; kept when already recorded and the routes
    now are the failed-over ones (a re-run after a crash)."""
    path = record_path(ctx, spec.name)
    if path.exists() and before == wanted:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"access_point": spec.name, "routes": before,
              "at": datetime.now(UTC).isoformat(timespec="seconds")}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    tmp.replace(path)
    log.info("failover %s: previous routes recorded in %s: %s", spec.name, path, before)


def _updates(routes: dict[str, int]) -> list[dict[str, Any]]:
    return [{"Bucket": b, "TrafficDialPercentage": d} for b, d in sorted(routes.items())]


def _active(routes: dict[str, int]) -> str:
    return ", ".join(sorted(b for b, d in routes.items() if d > 0)) or "no bucket"


__all__ = ["AccessPointReadiness", "failback", "failover"]
