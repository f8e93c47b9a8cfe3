"""The persistent sandbox: one MiniStack on a loopback port that outlives each command.

The server enforces IAM on every call, bucket policies included (AUTH=true), and speaks
HTTPS with a self-signed certificate (USE_SSL=1): the buckets' TLS-only policy statement
denies plain-HTTP requests, and MiniStack applies it to the replicas written into a bucket of
another account too, judging them by the request that wrote the source object (every request
counts as plain HTTP without AUTH), so cross-account replication needs both.

State lives in `.sandbox/` under the project root: `server.json` ({port, pid, https}) names
the running server, `data/` holds S3 objects, `state/` the other services' state (buckets'
settings, KMS, IAM, SNS, CloudWatch), which MiniStack writes when it is stopped cleanly
(SIGTERM) and reloads when it starts. A server that dies uncleanly keeps only the objects.

    python -m s3replication.sandbox {start,stop,reset,status}
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from s3replication.errors import ExitStatus, ReplicationToolError
from s3replication.sandbox.process import (
    endpoint,
    is_healthy,
    is_ministack,
    start_ministack,
    terminate,
)

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock, concurrent first starts may race
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
STATE_DIR = PROJECT_ROOT / ".sandbox"

# Servers this process started to outlive it: kept referenced so that Python does not warn
# "subprocess is still running" when their Popen objects are collected.
_detached: list[subprocess.Popen[bytes]] = []


def _state_dir(state_dir: Path | None) -> Path:
    return Path(state_dir) if state_dir is not None else STATE_DIR


@contextlib.contextmanager
def _locked(state_dir: Path) -> Iterator[None]:
    """One command at a time starts or stops the server (cr and sr may run together)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with open(state_dir / ".lock", "w") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _read_server(state_dir: Path) -> dict[str, int] | None:
    """{port, pid, https} from server.json; https is 0 for a server an earlier version
    started (plain HTTP, no IAM enforcement)."""
    try:
        data = json.loads((state_dir / "server.json").read_text())
        return {"port": int(data["port"]), "pid": int(data["pid"]),
                "https": int(data.get("https") is True)}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _write_server(state_dir: Path, port: int, pid: int) -> None:
    tmp = state_dir / "server.json.tmp"
    tmp.write_text(json.dumps({"port": port, "pid": pid, "https": True}) + "\n")
    os.replace(tmp, state_dir / "server.json")


def _url(server: dict[str, int]) -> str:
    return endpoint(server["port"], ssl=bool(server["https"]))


def status(state_dir: Path | None = None) -> dict[str, Any] | None:
    """{"endpoint", "port", "pid", "state_dir"} of the running sandbox server, or None."""
    state_dir = _state_dir(state_dir)
    server = _read_server(state_dir)
    if server is None or not is_ministack(server["pid"]):
        return None
    url = _url(server)
    if not is_healthy(url):
        return None
    return {"endpoint": url, "port": server["port"], "pid": server["pid"],
            "state_dir": str(state_dir)}


def ensure_running(state_dir: Path | None = None) -> str:
    """The sandbox's endpoint URL: the server named in server.json if it answers, else a new
    one started detached (it stays up between commands, so state carries over). A plain-HTTP
    server of an earlier version is stopped (its state saved) and replaced."""
    state_dir = _state_dir(state_dir)
    with _locked(state_dir):
        server = _read_server(state_dir)
        if server is not None:
            url = _answering(server)
            if url is not None:
                return url
            (state_dir / "server.json").unlink(missing_ok=True)
        proc, url = start_ministack(state_dir, persist=True, detach=True, auth=True, ssl=True)
        _detached.append(proc)
        _write_server(state_dir, int(url.rsplit(":", 1)[1]), proc.pid)
        log.info("sandbox: started MiniStack at %s (pid %s, state in %s)", url, proc.pid, state_dir)
        return url


def _answering(server: dict[str, int]) -> str | None:
    """The endpoint of the server named in server.json if it answers within 5 seconds;
    else None, with that server stopped (or found gone) and the user told. A server of an
    earlier version (plain HTTP, no IAM enforcement) is stopped: it saves its state, which
    the new one reloads."""
    pid, url = server["pid"], _url(server)
    if not is_ministack(pid):
        log.warning(
            "the sandbox server (pid %s) stopped without saving its state: objects are "
            "kept, settings made since it started may be lost "
            "(python -m s3replication.sandbox reset starts afresh)",
            pid,
        )
        return None
    if not server["https"]:
        log.warning("sandbox: restarting the server (pid %s) with IAM enforcement over HTTPS; "
                    "its state is kept", pid)
        _stop(pid)
        return None
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if is_healthy(url):
            return url
        time.sleep(0.1)
    log.warning("sandbox server (pid %s) does not answer; restarting it", pid)
    _stop(pid)
    return None


def _stop(pid: int) -> bool:
    """terminate(pid); a server this process started is then known to have exited (else
    Python warns at exit that the subprocess "is still running")."""
    stopped = terminate(pid)
    for proc in [p for p in _detached if p.pid == pid]:
        proc.poll()
        _detached.remove(proc)
    return stopped


def stop(state_dir: Path | None = None) -> bool:
    """Stop the sandbox server cleanly (its state is saved). True if one was running.
    Over HTTPS MiniStack finishes only once its clients have closed their connections: a
    process that still holds some (a test) closes them first, else it is killed after
    STOP_TIMEOUT without saving."""
    state_dir = _state_dir(state_dir)
    if not state_dir.exists():
        return False
    with _locked(state_dir):
        server = _read_server(state_dir)
        running = server is not None and is_ministack(server["pid"])
        if server is not None and running and not _stop(server["pid"]):
            log.warning("sandbox server (pid %s) had to be killed; state not saved", server["pid"])
        (state_dir / "server.json").unlink(missing_ok=True)
        return running


def reset(state_dir: Path | None = None) -> None:
    """Stop the server and delete every trace of the sandbox's state."""
    state_dir = _state_dir(state_dir)
    stop(state_dir)
    shutil.rmtree(state_dir, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m s3replication.sandbox", description="Manage the local MiniStack sandbox."
    )
    parser.add_argument("command", choices=["start", "stop", "reset", "status", "inventory"],
                        help="inventory: deliver S3 Inventory reports, as S3's daily job would")
    parser.add_argument("--config", type=Path, default=None,
                        help="inventory: the config whose buckets to report on")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    try:
        if args.command == "start":
            print(ensure_running())
        elif args.command == "stop":
            print("sandbox stopped" if stop() else "sandbox was not running")
        elif args.command == "inventory":
            from .inventory_job import deliver

            for where in deliver(ensure_running(), args.config):
                print(f"report delivered: {where}")
        elif args.command == "reset":
            reset()
            print(f"sandbox reset: {STATE_DIR} removed")
        else:
            info = status()
            if info is None:
                print("sandbox not running")
                return ExitStatus.ATTENTION
            print(f"sandbox running at {info['endpoint']} (pid {info['pid']}, {info['state_dir']})")
    except ReplicationToolError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_status
    return ExitStatus.OK


if __name__ == "__main__":
    raise SystemExit(main())
