"""The command line shared by cr_replication.py and sr_replication.py.

`main()` is the only place that catches the errors a user should see: each becomes one line on
stderr and an exit status; tracebacks go to the log file. Commands return results; the
renderer (output.render) turns them into text or JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any, NoReturn

from .cli_parser import COMMANDS, UsageExit, parse
from .engine import interrupt
from .errors import ExitStatus, NoCredentialsFound, ReplicationToolError, UsageError
from .output import error_json, runlog

log = logging.getLogger("s3replication.cli")


def _clients(sandbox: bool) -> Any:  # Clients; imported on use to keep start-up lean
    from .aws.clients import Clients

    if sandbox:
        from . import sandbox as sandbox_server

        # IAM enforced over HTTPS (self-signed: no TLS check), each account of ACCOUNTS
        # reached with its own keys (sandbox.reach)
        return sandbox_server.sandbox_clients(sandbox_server.ensure_running())
    clients = Clients()
    if not clients.has_credentials():
        raise NoCredentialsFound()
    return clients


def _account(clients: Any, regions: list[str]) -> str:
    from .aws.calls import explain

    try:
        if len(regions) == 1:
            return str(clients.account_id(regions[0]))
        return str(clients.account_id_from(regions))
    except Exception as exc:  # named in one line below
        raise explain(exc, "finding the AWS account (sts:GetCallerIdentity)") from exc


def _access_point_regions(config: Any, args: argparse.Namespace) -> list[str]:
    """The Regions of the access points a readiness, failover or failback run is about."""
    points = config.access_points
    chosen = ([points[args.name]] if getattr(args, "name", None) in points
              else list(points.values()))
    return [config.buckets[b].region for point in chosen for b in point.buckets
            if b in config.buckets]


def _first_call(clients: Any, region_of_partition: str,
                also: Sequence[str] = ()) -> Future[str]:
    """The run's first call (the caller's account), sent in a thread of its own; returns once
    the request is on its way, so that the command's modules are imported while it is. STS of
    the partition's global Region, and of the Regions `also` at once (first answer wins)."""
    from .aws.naming import global_region

    sent = threading.Event()
    regions = list(dict.fromkeys([global_region(region_of_partition), *also]))
    for region in regions:
        sts = clients.single_attempt("sts", region)
        sts.meta.events.register("before-send", lambda **_: sent.set(),
                                 unique_id="s3replication-first-call-sent")
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="s3replication-sts")
    account = pool.submit(_account, clients, regions)
    pool.shutdown(wait=False)
    account.add_done_callback(lambda _: sent.set())  # failed before sending: no wait
    sent.wait(timeout=5)
    return account


def run(kind: str, args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from .aws.naming import script_name
    from .config.load import DEFAULT_CONFIG_PATH, load_config

    interrupt.reset()
    if getattr(args, "plan_file", None) and not args.config:  # apply PLANFILE: its config
        from .commands.saved_plan import read

        args.config = Path(read(Path(args.plan_file)).config_path)
    config = load_config(args.config or DEFAULT_CONFIG_PATH)
    runlog.setup(config.log_file, script_name(kind), args.command, args.verbose)
    runlog.start(config.path, runlog.target(args.sandbox))
    spec = COMMANDS[args.command]
    if spec.check:  # usage errors before the first call: nothing is sent
        module, function = spec.check.split(":")
        getattr(importlib.import_module(f"s3replication.{module}"), function)(config, kind, args)
    clients = _clients(args.sandbox)
    also: list[str] = []
    if spec.during_outage:
        clients.fail_fast()
        also = _access_point_regions(config, args)
    account = _first_call(clients, config.region_of_partition, also)
    from .engine.context import Context
    from .engine.runlock import held
    from .output import render

    command = getattr(importlib.import_module(f"s3replication.{spec.module}"), spec.function)
    ctx = Context(config=config, kind=kind, clients=clients, account=account.result())
    runlog.account(ctx.account)
    lock = (held(config.log_file.parent / ".s3replication.lock") if spec.changes_aws
            else contextlib.nullcontext())
    with lock:
        outcome = render.outcome(command(ctx, args))
    runlog.counts(outcome.data)
    stdout.write((render.as_json(outcome.data) if args.json else outcome.text) + "\n")
    for error in outcome.errors:
        stderr.write(f"error: {error}\n")
    stderr.writelines(f"{notice}\n" for notice in outcome.notices)
    return int(outcome.status)


def _parse(kind: str, argv: Sequence[str] | None, stdout: IO[str]) -> argparse.Namespace | int:
    """The parsed arguments, or the exit status of `--help` (0) or a usage error (2); argparse
    writes help to sys.stdout and usage errors to sys.stderr (and error_json to stdout)."""
    try:
        return parse(kind, argv)
    except SystemExit as exit_:
        if isinstance(exit_, UsageExit) and error_json.asked(argv):
            error_json.write(stdout, exit_.message, ExitStatus.BAD_INPUT)
        return int(exit_.code or 0) and int(ExitStatus.BAD_INPUT)


@runlog.ends_run  # the run's end line in the log, whatever happens
def main(kind: str, argv: Sequence[str] | None = None, stdout: IO[str] | None = None,
         stderr: IO[str] | None = None) -> int:
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    args = _parse(kind, argv, stdout)
    if isinstance(args, int):
        return args
    try:
        return run(kind, args, stdout, stderr)
    except KeyboardInterrupt:  # workers stopped, clean-up waited for (engine/interrupt.py)
        status = interrupt.interrupted(stderr)
        if args.json:
            error_json.write(stdout, "interrupted", ExitStatus.INTERRUPTED)
        return status
    except (ReplicationToolError, UsageError) as error:
        log.error("%s", error)
        stderr.write(f"error: {error}\n")
        if args.json:
            error_json.write(stdout, str(error), error.exit_status)
        return int(error.exit_status)
    except Exception as error:  # the one place that turns any failure into a line
        log.error("unexpected failure: %s", error, exc_info=True)
        stderr.write(f"error: {type(error).__name__}: {error} (details in the log file)\n")
        if args.json:
            error_json.write(stdout, f"{type(error).__name__}: {error}", ExitStatus.FAILURE)
        return int(ExitStatus.FAILURE)


def script(kind: str) -> NoReturn:
    """The entry point of cr_replication.py and sr_replication.py: `main`, then the process
    ends at once. Python's own exit would join every idle worker thread and close each HTTP
    connection pool in turn, about 0.1 s of a 1.3 s no-change run (measured); by then every
    write has been waited for, the output is written and the log closed, and at most a read
    sent early is still under way. An interrupted run ends the same way once its clean-up
    ended (engine/interrupt.py): joining would wait for its workers' calls and waits
    (https://docs.python.org/3/library/os.html#os._exit)."""
    status = main(kind)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more to say
            stream.flush()
    logging.shutdown()
    os._exit(status)
