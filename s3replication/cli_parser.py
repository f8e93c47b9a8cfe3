"""The command line's grammar: one subcommand per command, each with its own options.

The options every command shares (`--config`, `--sandbox`, `--json`, `-v`) are accepted before
or after the command, so scripts and cron lines written for the single flat parser keep
working; with no command, the scripts apply.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

Options = Callable[[argparse.ArgumentParser], None]


class Command(NamedTuple):
    module: str  # under s3replication, imported on use to keep start-up lean
    function: str
    changes_aws: bool  # runs under the run lock
    help: str
    options: tuple[Options, ...] = ()
    kinds: tuple[str, ...] = ("crr", "srr")  # the scripts that have it
    # run while a Region may be down: short timeouts, a Region that does not answer is called
    # no more, and the first call (STS) goes to every Region of the access points at once
    during_outage: bool = False
    # "module:function" under s3replication, called with (config, kind, args) before the
    # first AWS call: a usage error there sends no request
    check: str = ""


def _yes(what: str) -> Options:
    def add(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--yes", action="store_true", help=f"really {what}")
    return add


def _timeout(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds to wait per rule (default: the latency threshold)")


def _max_report(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-report", type=int, default=50,
                        help="problem objects listed per rule (default: 50)")


def _inventory(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--inventory", action="store_true",
                        help="compare S3 Inventory reports instead of listing the buckets "
                             "(needs INVENTORY in the config)")
    parser.add_argument("--engine", choices=("duckdb", "athena"), default="duckdb",
                        help="--inventory: DuckDB in this process (default) or Amazon Athena")


def _backfill(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--method", choices=("batch", "copy"), default=None,
                        help="S3 Batch Replication job or copy in place (default: batch against "
                             "AWS, copy against an emulator)")
    parser.add_argument("--job", default=None, help="show the progress of this Batch job id")
    parser.add_argument("--manifest", default=None, metavar="S3_URL",
                        help="--method batch: replicate exactly the objects of this CSV "
                             "manifest (as audit --inventory writes it); one of replicas "
                             "deleted from the destination is copied in place")
    parser.add_argument("--report-bucket", default=None,
                        help="--method batch: bucket for the manifest and completion report "
                             "(default: the source bucket)")


def _access_point(required: bool) -> Options:
    def add(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("name", nargs=None if required else "?", metavar="NAME",
                            help="an access point of ACCESS_POINTS" + ("" if required
                                                                       else " (default: all)"))
        parser.add_argument("--timeout", type=float, default=None,
                            help="seconds to wait for each canary (default: 120)")
    return add


def _force(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--force", action="store_true",
                        help="with --yes: change the routes even when readiness fails")


def _to(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--to", required=True, metavar="BUCKET",
                        help="the bucket to make the only active one")


def _restore(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--to", required=True, metavar="TIME",
                        help="the moment to go back to, ISO 8601 with a zone "
                             "(2026-12-06T10:00:00Z)")
    parser.add_argument("--rule", default=None, metavar="ID",
                        help="the rule's source bucket under its prefix (and tag filter)")
    parser.add_argument("--bucket", default=None, metavar="NAME", help="a bucket of the config")
    parser.add_argument("--prefix", default=None, metavar="P", help="with --bucket: only keys "
                        "under this prefix")
    parser.add_argument("--from", dest="source_of_state", choices=("source", "replica"),
                        default="source", help="read the state at TIME from the source "
                        "(default) or from the rule's replica (needs --rule)")


COMMANDS: dict[str, Command] = {
    "apply": Command("commands.changes", "apply", True,
                     "make AWS match the config for this script's rules (the default)"),
    "plan": Command("commands.changes", "plan", False,
                    "show what apply would change; changes nothing"),
    "destroy": Command("commands.changes", "destroy", True,
                       "remove what this script made for its rules (without --yes: the plan)",
                       (_yes("make the changes"),)),
    "status": Command("commands.status", "status", False,
                      "per rule: alarm states, latest replication figures and a verdict"),
    "verify": Command("commands.verify", "verify", True,
                      "a canary object per rule: replicated, and how fast", (_timeout,)),
    "audit": Command("commands.audit", "audit", False,
                     "compare source and replica object by object",
                     (_max_report, _inventory)),
    "backfill": Command("commands.backfill", "backfill", True,
                        "replicate what S3 will not: objects older than their rule, failed ones",
                        (_yes("copy or start the jobs"), _backfill, _max_report),
                        check="commands.backfill_args:check"),
    "restore": Command("commands.restore.command", "restore", True,
                       "bring a bucket or a rule's scope back to a moment (without --yes: "
                       "the plan)",
                       (_restore, _yes("copy the versions back"), _inventory, _max_report),
                       check="commands.restore.scope_args:check"),
    "permissions": Command("commands.permissions", "permissions", False,
                           "print the IAM policies the caller needs (JSON)"),
    "readiness": Command("commands.readiness", "readiness", True,
                         "checks before a failover of a Multi-Region Access Point",
                         (_access_point(False),), kinds=("crr",), during_outage=True),
    "failover": Command("commands.failover", "failover", True,
                        "route an access point's traffic to one bucket (without --yes: show)",
                        (_access_point(True), _to, _yes("change the routes"), _force),
                        kinds=("crr",), during_outage=True),
    "failback": Command("commands.failover", "failback", True,
                        "restore the routes recorded before the last failover (without a "
                        "record: the config's active routes)",
                        (_access_point(True), _yes("change the routes"), _force),
                        kinds=("crr",), during_outage=True),
}
DESCRIPTION = {
    "crr": "Cross-Region Replication: apply the CRR_RULES of the config.",
    "srr": "Same-Region Replication: apply the SRR_RULES of the config.",
}


def _shared(parser: argparse.ArgumentParser, after_command: bool) -> None:
    """The options every command takes. After the command they default to SUPPRESS, so that
    an option given before the command is not reset by the command's defaults."""
    def default(value: object) -> object:
        return argparse.SUPPRESS if after_command else value

    shared = parser.add_argument_group("options of every command (before or after it)")
    shared.add_argument("--config", type=Path, default=default(None),
                        help="config file (default: config/s3_config.py)")
    shared.add_argument("--sandbox", action="store_true", default=default(False),
                        help="run against a local MiniStack emulator instead of AWS")
    shared.add_argument("--json", action="store_true", default=default(False),
                        help="print a machine-readable result on stdout")
    shared.add_argument("-v", "--verbose", action="store_true", default=default(False),
                        help="show each change and failure on stderr as it happens")


def parsers(kind: str) -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The script's parser, and each command's."""
    prog = f"{'cr' if kind == 'crr' else 'sr'}_replication.py"
    top = argparse.ArgumentParser(prog=prog, description=DESCRIPTION[kind],
                                  epilog=f"{prog} COMMAND --help: the options of a command")
    _shared(top, after_command=False)
    chooser = top.add_subparsers(dest="command", metavar="COMMAND",
                                 title="commands (default: apply)")
    found: dict[str, argparse.ArgumentParser] = {}
    for name, command in COMMANDS.items():
        if kind not in command.kinds:
            continue
        sub = chooser.add_parser(name, help=command.help, description=command.help)
        _shared(sub, after_command=True)
        for add_options in command.options:
            add_options(sub)
        found[name] = sub
    return top, found


def parse(kind: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The arguments. What the script's parser leaves over (a flag written before the command,
    as in `--yes destroy`) is the command's to parse: an option the command does not take is a
    usage error (SystemExit 2) under the command's own usage line."""
    top, by_command = parsers(kind)
    args, unknown = top.parse_known_args(argv)
    args.command = args.command or "apply"
    if unknown:
        by_command[args.command].parse_args(unknown, namespace=args)
    return args
