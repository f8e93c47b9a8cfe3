"""The command line shared by cr_replication.py and sr_replication.py.

`main()` is the only place that catches the errors a user should see: each becomes one line on
stderr and an exit status; tracebacks go to the log file.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from .errors import ExitStatus, NoCredentialsFound, ReplicationToolError, UsageError
from .output import runlog

log = logging.getLogger("s3replication.cli")

# command -> (module, function, changes AWS); imported on use to keep start-up lean
COMMANDS = {
    "apply": ("commands.changes", "apply", True),
    "plan": ("commands.changes", "plan", False),
    "destroy": ("commands.changes", "destroy", True),
    "status": ("commands.status", "status", False),
    "verify": ("commands.verify", "verify", True),
    "audit": ("commands.audit", "audit", False),
    "backfill": ("commands.backfill", "backfill", True),
    "permissions": ("commands.permissions", "permissions", False),
}
DESCRIPTION = {
    "crr": "Cross-Region Replication: apply the CRR_RULES of the config.",
    "srr": "Same-Region Replication: apply the SRR_RULES of the config.",
}


def parser(kind: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"{'cr' if kind == 'crr' else 'sr'}_replication.py",
                                description=DESCRIPTION[kind])
    p.add_argument("command", nargs="?", default="apply", choices=sorted(COMMANDS),
                   help="what to do (default: apply)")
    p.add_argument("--config", type=Path, default=None,
                   help="config file (default: config/s3_config.py)")
    p.add_argument("--sandbox", action="store_true",
                   help="run against a local MiniStack emulator instead of AWS")
    p.add_argument("--json", action="store_true", help="print a machine-readable result on stdout")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="show each change and failure on stderr as it happens")
    p.add_argument("--yes", action="store_true", help="destroy/backfill: really make the changes")
    p.add_argument("--timeout", type=float, default=None, help="verify: seconds to wait per rule")
    p.add_argument("--max-report", type=int, default=50,
                   help="audit: problem objects listed per rule")
    p.add_argument("--method", choices=("batch", "copy"), default=None,
                   help="backfill: S3 Batch Replication job or copy in place")
    p.add_argument("--job", default=None, help="backfill: show the progress of this job id")
    p.add_argument("--report-bucket", default=None,
                   help="backfill --method batch: bucket for the manifest and completion report "
                        "(default: the source bucket)")
    return p


def _clients(sandbox: bool):  # -> Clients
    from .aws.clients import Clients

    if sandbox:
        from . import sandbox as sandbox_server

        endpoint = sandbox_server.ensure_running()
        return Clients(endpoint_url=endpoint, session=sandbox_server.sandbox_session())
    clients = Clients()
    if not clients.has_credentials():
        raise NoCredentialsFound()
    return clients


def run(kind: str, args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from .aws.naming import script_name
    from .config.load import DEFAULT_CONFIG_PATH, load_config
    from .engine.context import Context
    from .output.render import as_json

    config = load_config(args.config or DEFAULT_CONFIG_PATH)
    runlog.setup(config.log_file, script_name(kind), args.command, args.verbose)
    log.info("start (%s)", "sandbox" if args.sandbox else os.environ.get("AWS_ENDPOINT_URL", "AWS"))
    module_name, function_name, changes_aws = COMMANDS[args.command]
    command = getattr(importlib.import_module(f"s3replication.{module_name}"), function_name)
    clients = _clients(args.sandbox)
    from .aws.calls import explain

    try:
        from .aws.naming import global_region

        account = clients.account_id(global_region(config.region_of_partition))
    except Exception as exc:  # noqa: BLE001 - named in one line below
        raise explain(exc, "finding the AWS account (sts:GetCallerIdentity)") from exc
    ctx = Context(config=config, kind=kind, clients=clients, account=account)
    if changes_aws:
        from .engine.runlock import held

        with held(config.log_file.parent / ".s3replication.lock"):
            outcome = command(ctx, args)
    else:
        outcome = command(ctx, args)
    stdout.write((as_json(outcome.data) if args.json else outcome.text) + "\n")
    for error in failures(outcome):
        stderr.write(f"error: {error}\n")
    log.info("end: exit %d", int(outcome.status))
    return int(outcome.status)


def failures(outcome: Any) -> list[str]:
    """The failures of a run, one line each, for stderr: the outcome's own list, else those
    its rules report (verify, audit and backfill record each rule's failure with the rule)."""
    if outcome.errors or outcome.status != ExitStatus.FAILURE:
        return list(outcome.errors)
    found: list[str] = []
    for rule in outcome.data.get("rules", []):
        found += [str(e) for e in rule.get("errors", []) or [] if e]
        if rule.get("error"):
            found.append(str(rule["error"]))
    return list(dict.fromkeys(line for text in found for line in text.splitlines()))


def main(kind: str, argv: Sequence[str] | None = None, stdout: IO[str] | None = None,
         stderr: IO[str] | None = None) -> int:
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    try:
        args = parser(kind).parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0) and int(ExitStatus.BAD_INPUT)
    try:
        return run(kind, args, stdout, stderr)
    except KeyboardInterrupt:
        log.warning("interrupted")
        stderr.write("interrupted; re-run the same command to finish\n")
        return int(ExitStatus.INTERRUPTED)
    except (ReplicationToolError, UsageError) as error:
        log.error("%s", error)
        log.debug("details", exc_info=True)
        stderr.write(f"error: {error}\n")
        return int(error.exit_status)
    except Exception as error:  # noqa: BLE001 - the one place that turns any failure into a line
        log.error("unexpected failure: %s", error, exc_info=True)
        stderr.write(f"error: {type(error).__name__}: {error} (details in the log file)\n")
        return int(ExitStatus.FAILURE)
    finally:
        runlog.teardown()
