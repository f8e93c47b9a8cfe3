"""One MiniStack process: its environment, start on a free loopback port, health, stop; and
the sandbox's dummy credentials and client factory (`sandbox_session`, `reach`,
`reach_admin`, `sandbox_clients`).

The tests start their own MiniStack with `start_ministack`; the persistent sandbox in
`state.py` starts one that outlives each command.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import ssl as _ssl
import subprocess
import sys
import time
import urllib.request
import warnings
from pathlib import Path
from typing import Any

import boto3
import botocore.session
from urllib3.exceptions import InsecureRequestWarning

from s3replication.aws.clients import Clients
from s3replication.config.model import AccountSpec
from s3replication.errors import ReplicationToolError

SERVICES = "s3,iam,kms,sts,sns,cloudwatch,athena,glue"  # athena, glue: audit --inventory
START_TIMEOUT = 15.0  # seconds for a new server to answer its health check
STOP_TIMEOUT = 15.0  # seconds for a clean shutdown (it saves its state) before SIGKILL
HEALTH_PATH = "/_ministack/health"
SANDBOX_KEY = "test"  # the access key id of the sandbox's caller: account 000000000000's root


class SandboxError(ReplicationToolError):
    """The sandbox server could not be started or reached."""


def sandbox_session(access_key: str = SANDBOX_KEY) -> boto3.Session:
    """A session with dummy credentials: the sandbox never sees real ones. Under AUTH=true
    the key `test` acts as the root of account 000000000000, and a 12-digit key as the root of
    the account it names (MiniStack keeps one world per account); root keys need no secret."""
    core = botocore.session.Session()
    # No profile: an AWS_PROFILE naming a profile this machine lacks must not break it.
    core.get_component("config_store").set_config_variable("profile", None)
    return boto3.Session(
        aws_access_key_id=access_key,
        aws_secret_access_key="test",
        region_name="us-east-1",
        botocore_session=core,
    )


# The sandbox's stand-in for production's way into an account with an admin_profile: an IAM
# user of that account that may read, and nothing else (under AUTH=true MiniStack gives a user
# exactly its policy). Its administrators are the account's root.
READER = "s3replication-reader"
READER_POLICY = {"Version": "2012-10-17", "Statement": [{
    "Sid": "ReadOnly", "Effect": "Allow", "Resource": "*",
    "Action": ["s3:Get*", "s3:List*", "kms:Describe*", "kms:Get*", "kms:List*",
               "kms:Decrypt"]}]}


def reach(account: AccountSpec, sts: Any) -> boto3.Session:
    """How the sandbox reaches an account of ACCOUNTS (`Clients.reach`): as that account's
    root, its access key id being the account id, whatever role_arn or profile it names (the
    sandbox has neither the role nor the profile). With an admin_profile, the root is its
    administrators (`reach_admin`), and production reads as the account's READER user, made
    (or given a new key) by the root on the way."""
    root = sandbox_session(account.account_id)
    if not account.admin_profile:
        return root
    iam = Clients(endpoint_url=sts.meta.endpoint_url, session=root, verify=False).get(
        "iam", "us-east-1")
    try:  # closed afterwards: an open connection holds a stopping sandbox its whole timeout
        with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
            iam.create_user(UserName=READER)
        iam.put_user_policy(UserName=READER, PolicyName="read-only",
                            PolicyDocument=json.dumps(READER_POLICY))
        for old in iam.list_access_keys(UserName=READER)["AccessKeyMetadata"]:
            iam.delete_access_key(UserName=READER, AccessKeyId=old["AccessKeyId"])
        key = iam.create_access_key(UserName=READER)["AccessKey"]
    finally:
        iam.close()
    core = botocore.session.Session()
    core.get_component("config_store").set_config_variable("profile", None)
    return boto3.Session(aws_access_key_id=key["AccessKeyId"],
                         aws_secret_access_key=key["SecretAccessKey"],
                         region_name="us-east-1", botocore_session=core)


def reach_admin(account: AccountSpec) -> boto3.Session:
    """How the sandbox reaches an account's administrators (`Clients.reach_admin`): as its
    root, whatever admin_profile it names."""
    return sandbox_session(account.account_id)


def quiet_tls_warning() -> None:
    """Silence urllib3's InsecureRequestWarning for requests to 127.0.0.1 only: the sandbox is
    our own local server, its certificate self-signed, so there is nothing to verify it
    against (clients use verify=False); any other host still warns."""
    warnings.filterwarnings(
        "ignore", message=r"Unverified HTTPS request is being made to host '127\.0\.0\.1'",
        category=InsecureRequestWarning)


def sandbox_clients(url: str) -> Clients:
    """The client factory of the sandbox at `url`: dummy root keys of account 000000000000,
    no TLS check of its self-signed certificate, each account of ACCOUNTS reached with its
    own keys (`reach`)."""
    quiet_tls_warning()
    return Clients(endpoint_url=url, session=sandbox_session(), verify=False, reach=reach,
                   reach_admin=reach_admin)


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
        env["AUTH"] = "true"  # any 12-digit account id act as that account's root)
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
) -> tuple[subprocess.Popen[bytes], str]:
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
            terminate(proc.pid, proc)
            break
    tail = log_path.read_text(errors="replace").splitlines()[-5:]
    raise SandboxError(
        f"MiniStack did not become healthy within {timeout:.0f}s; see {log_path}"
        + "".join(f"\n  {line}" for line in tail)
    )


def alive(pid: int) -> bool:
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


def is_ministack(pid: int) -> bool:
    """Alive and (where /proc tells) a MiniStack, not an unrelated process reusing the pid."""
    if not alive(pid):
        return False
    try:
        return b"ministack" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc (macOS): trust the pid


def terminate(pid: int, proc: subprocess.Popen[bytes] | None = None) -> bool:
    """SIGTERM (MiniStack then saves its state), then SIGKILL after STOP_TIMEOUT.
    True if it stopped cleanly."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline:
        if (proc.poll() is not None) if proc is not None else not alive(pid):
            return True
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    if proc is not None:
        proc.wait()
    return False
