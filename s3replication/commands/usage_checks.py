"""Each command's arguments checked against the config before the first AWS call (cli_parser:
`check`): a mistake in the command line or the config is a usage error (exit 2) and no request
is sent, even when AWS is unreachable. `restore` has its own (restore/scope_args.py)."""

from __future__ import annotations

import argparse
import math
import re

from ..config.model import AccessPointSpec, Config
from ..errors import UsageError

# S3 Batch Operations job ids: 5 to 36 letters, digits, hyphens and underscores (DescribeJob's
# `id`: https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_DescribeJob.html)
JOB_ID = re.compile(r"[A-Za-z0-9_-]{5,36}")


def _timeout(args: argparse.Namespace) -> None:
    """--timeout, when given, is a finite number of seconds above 0."""
    timeout = getattr(args, "timeout", None)
    if timeout is not None and not (math.isfinite(timeout) and timeout > 0):
        raise UsageError(f"--timeout {timeout:g}: give the seconds to wait, a number above 0")


def _max_report(args: argparse.Namespace) -> None:
    if getattr(args, "max_report", 0) < 0:
        raise UsageError(f"--max-report {args.max_report}: give 0 or more")


def verify(config: Config, kind: str, args: argparse.Namespace) -> None:
    _timeout(args)


def audit(config: Config, kind: str, args: argparse.Namespace) -> None:
    _max_report(args)
    if args.inventory and config.inventory is None:  # the config checks one per Region
        raise UsageError("audit --inventory needs INVENTORY in the config (a report bucket "
                         "per Region), then an apply to set up the reports")


def backfill(config: Config, kind: str, args: argparse.Namespace) -> None:
    from .backfill_args import check

    _max_report(args)
    check(config, kind, args)  # what the sandbox cannot run
    if args.job is None:
        if args.manifest is not None:
            from .batch_manifest import parse_url

            parse_url(args.manifest)
        return
    if not JOB_ID.fullmatch(args.job):
        raise UsageError(f"--job {args.job!r} is not an S3 Batch Operations job id (5 to 36 "
                         "letters, digits, - and _, as backfill --yes printed it)")
    others = [flag for flag, given in (("--yes", args.yes), ("--manifest", args.manifest),
                                       ("--report-bucket", args.report_bucket)) if given]
    if others:
        raise UsageError(f"--job shows a job's progress; it takes no {', '.join(others)}")


def _access_point(config: Config, name: str | None) -> list[AccessPointSpec]:
    points = config.access_points
    if not points:
        raise UsageError(f"{config.path}: the config has no ACCESS_POINTS (see "
                         "config/examples/failover.py)")
    if name is None:
        return list(points.values())
    if name not in points:
        raise UsageError(f"no access point {name!r} in ACCESS_POINTS "
                         f"(it has: {', '.join(points)})")
    return [points[name]]


def readiness(config: Config, kind: str, args: argparse.Namespace) -> None:
    _access_point(config, args.name)
    _timeout(args)


def failover(config: Config, kind: str, args: argparse.Namespace) -> None:
    spec = _access_point(config, args.name)[0]
    _timeout(args)
    if args.to not in spec.buckets:
        raise UsageError(f"--to {args.to}: not a bucket of access point {spec.name} "
                         f"({', '.join(spec.buckets)})")


def failback(config: Config, kind: str, args: argparse.Namespace) -> None:
    spec = _access_point(config, args.name)[0]
    _timeout(args)
    from .failover import read_record

    read_record(config, spec.name)  # an unreadable record is said before any call
