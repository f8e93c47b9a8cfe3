"""The sandbox: a MiniStack server on a loopback port that outlives each command.

State lives in `.sandbox/` under the project root: `server.json` ({port, pid}) names the
running server, `data/` holds S3 objects, `state/` the other services' state (buckets'
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
import signal
import socket
import ssl as _ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

import boto3
import botocore.session

from s3replication.errors import ExitStatus, ReplicationToolError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock, concurrent first starts may race
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
STATE_DIR = PROJECT_ROOT / ".sandbox"
SERVICES = "s3,iam,kms,sts,sns,cloudwatch"
START_TIMEOUT = 15.0  # seconds for a new server to answer its health check
STOP_TIMEOUT = 15.0  # seconds for a clean shutdown (it saves its state) before SIGKILL
HEALTH_PATH = "/_ministack/health"

# Servers this process started to outlive it: kept referenced so that Python does not warn
# "subprocess is still running" when their Popen objects are collected.
_detached: list[subprocess.Popen] = []


class SandboxError(ReplicationToolError):
    """The sandbox server could not be started or reached."""


def sandbox_session() -> boto3.Session:
    """A session with dummy credentials: the sandbox never sees real ones."""
    core = botocore.session.Session()
    # No profile: an AWS_PROFILE naming a profile this machine lacks must not break it.
    core.get_component("config_store").set_config_variable("profile", None)
    return boto3.Session(
        aws_access_key_id="sandbox",
        aws_secret_access_key="sandbox",
        region_name="us-east-1",
        botocore_session=core,
    )


# -- starting a MiniStack ---------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ministack_command() -> list[str]:
    """MiniStack's console script next to this interpreter, else `python -m ministack`."""
    script = Path(sys.executable).parent / "ministack"
    return [str(script)] if script.exists() else [sys.executable, "-m", "ministack"]


def server_env(port: int, workdir: Path, *, persist: bool, auth: bool = False,
               ssl: bool = False) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        GATEWAY_PORT=str(port),
        BIND_HOST="127.0.0.1",
        SERVICES=SERVICES,
        # Both on by default and listening on 0.0.0.0 (IoT on port 8883, shared by every
        # MiniStack): off, so nothing leaves loopback and two servers do not clash.
        IOT_MTLS_ENABLED="0",
        SFTP_ENABLED="0",
    )
    if auth:  # IAM enforced on every call, bucket policies included (access keys `test` and
        env["AUTH"] = "true"  # `000000000000` act as the account root)
    if ssl:  # HTTPS on the same port, with a self-signed certificate made in workdir
        env.update(USE_SSL="1", TMPDIR=str(workdir))
    if persist:
        env.update(
            S3_PERSIST="1",
            S3_DATA_DIR=str(workdir / "data"),
            PERSIST_STATE="1",
            STATE_DIR=str(workdir / "state"),
        )
    return env


def endpoint(port: int, ssl: bool = False) -> str:
    return f"{'https' if ssl else 'http'}://127.0.0.1:{port}"


def is_healthy(url: str) -> bool:
    # our own server's self-signed certificate: nothing to verify it against
    context = _ssl.create_default_context() if url.startswith("https:") else None
    if context is not None:
        context.check_hostname = False
        context.verify_mode = _ssl.CERT_NONE
    try:
        with urllib.request.urlopen(url + HEALTH_PATH, timeout=2, context=context) as resp:
            return resp.status == 200 and "services" in json.load(resp)
    except (OSError, ValueError):
        return False


def start_ministack(
    workdir: Path, *, persist: bool, detach: bool, timeout: float = START_TIMEOUT,
    auth: bool = False, ssl: bool = False,
) -> tuple[subprocess.Popen, str]:
    """Start MiniStack on a free loopback port, logging to `workdir/ministack.log`; wait
    until it is healthy and return (process, endpoint URL). Retries a port lost to a race.

    `auth`: IAM enforced on every API call (AUTH=true); `ssl`: HTTPS with a self-signed
    certificate (USE_SSL=1; give botocore verify=False), the endpoint URL then https://."""
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / "ministack.log"
    for _attempt in range(3):
        port = free_port()
        with open(log_path, "ab") as out:
            proc = subprocess.Popen(
                ministack_command(),
                env=server_env(port, workdir, persist=persist, auth=auth, ssl=ssl),
                cwd=workdir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=detach,
            )
        url = endpoint(port, ssl)
        deadline = time.monotonic() + timeout
        while proc.poll() is None and time.monotonic() < deadline:
            if is_healthy(url):
                return proc, url
            time.sleep(0.05)
        if proc.poll() is None:  # still running but never healthy
            _terminate(proc.pid, proc)
            break
    tail = log_path.read_text(errors="replace").splitlines()[-5:]
    raise SandboxError(
        f"MiniStack did not become healthy within {timeout:.0f}s; see {log_path}"
        + "".join(f"\n  {line}" for line in tail)
    )


# -- the persistent sandbox server ------------------------------------------------------


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


def _read_server(state_dir: Path) -> dict | None:
    try:
        data = json.loads((state_dir / "server.json").read_text())
        return {"port": int(data["port"]), "pid": int(data["pid"])}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_server(state_dir: Path, port: int, pid: int) -> None:
    tmp = state_dir / "server.json.tmp"
    tmp.write_text(json.dumps({"port": port, "pid": pid}) + "\n")
    os.replace(tmp, state_dir / "server.json")


def _alive(pid: int) -> bool:
    try:  # reap it first if it is our own child that has exited (a zombie answers kill 0)
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_ministack(pid: int) -> bool:
    """Alive and (where /proc tells) a MiniStack, not an unrelated process reusing the pid."""
    if not _alive(pid):
        return False
    try:
        return b"ministack" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc (macOS): trust the pid


def _terminate(pid: int, proc: subprocess.Popen | None = None) -> bool:
    """SIGTERM (MiniStack then saves its state), then SIGKILL after STOP_TIMEOUT.
    True if it stopped cleanly."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline:
        if (proc.poll() is not None) if proc is not None else not _alive(pid):
            return True
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    if proc is not None:
        proc.wait()
    return False


def status(state_dir: Path | None = None) -> dict | None:
    """{"endpoint", "port", "pid", "state_dir"} of the running sandbox server, or None."""
    state_dir = _state_dir(state_dir)
    server = _read_server(state_dir)
    if server is None or not _is_ministack(server["pid"]):
        return None
    url = endpoint(server["port"])
    if not is_healthy(url):
        return None
    return {"endpoint": url, **server, "state_dir": str(state_dir)}


def ensure_running(state_dir: Path | None = None) -> str:
    """The sandbox's endpoint URL: the server named in server.json if it answers, else a new
    one started detached (it stays up between commands, so state carries over)."""
    state_dir = _state_dir(state_dir)
    with _locked(state_dir):
        server = _read_server(state_dir)
        if server is not None:
            pid, url = server["pid"], endpoint(server["port"])
            if _is_ministack(pid):
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline:
                    if is_healthy(url):
                        return url
                    time.sleep(0.1)
                log.warning("sandbox server (pid %s) does not answer; restarting it", pid)
                _terminate(pid)
            else:
                log.warning(
                    "the sandbox server (pid %s) stopped without saving its state: objects are "
                    "kept, settings made since it started may be lost "
                    "(python -m s3replication.sandbox reset starts afresh)",
                    pid,
                )
            (state_dir / "server.json").unlink(missing_ok=True)
        proc, url = start_ministack(state_dir, persist=True, detach=True)
        _detached.append(proc)
        _write_server(state_dir, int(url.rsplit(":", 1)[1]), proc.pid)
        log.info("sandbox: started MiniStack at %s (pid %s, state in %s)", url, proc.pid, state_dir)
        return url


def stop(state_dir: Path | None = None) -> bool:
    """Stop the sandbox server cleanly (its state is saved). True if one was running."""
    state_dir = _state_dir(state_dir)
    if not state_dir.exists():
        return False
    with _locked(state_dir):
        server = _read_server(state_dir)
        running = server is not None and _is_ministack(server["pid"])
        if running and not _terminate(server["pid"]):
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
    parser.add_argument("command", choices=["start", "stop", "reset", "status"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    try:
        if args.command == "start":
            print(ensure_running())
        elif args.command == "stop":
            print("sandbox stopped" if stop() else "sandbox was not running")
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
