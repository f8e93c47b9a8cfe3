"""Fresh MiniStack servers and measured subprocesses for the benchmark.

``ministack(port=None)`` is a context manager that starts a fresh MiniStack
(the ``ministack`` console script of the interpreter's virtualenv) on a free
loopback port, waits for ``GET /_ministack/health`` and yields the endpoint URL
(``http://127.0.0.1:PORT``).  The server is terminated (then killed) on exit.

``run_measured(cmd, env=None, cwd=None)`` runs a command under GNU
``/usr/bin/time -v`` and returns ``(seconds, peak_rss_kib, returncode,
output)``.  The peak RSS is that of the measured process tree's largest single
process as the kernel reports it (``Maximum resident set size``), which is what
GNU time reports; ``resource.getrusage(RUSAGE_CHILDREN)`` is only a running
maximum over every child ever waited for, so it is used only as a fallback when
GNU time is missing (and then it is exact only for the first, largest run).

No dependency on the ``s3replication`` package.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

SERVICES = "s3,iam,kms,sts,sns,cloudwatch"
GNU_TIME = "/usr/bin/time"

__all__ = [
    "SERVICES",
    "free_port",
    "ministack_executable",
    "ministack",
    "run_measured",
]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ministack_executable() -> list[str]:
    """The command that starts MiniStack: the console script next to
    ``sys.executable`` if present, else ``python -m ministack``."""
    script = Path(sys.executable).with_name("ministack")
    if script.exists():
        return [str(script)]
    found = shutil.which("ministack")
    if found:
        return [found]
    return [sys.executable, "-m", "ministack"]


def _healthy(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(endpoint + "/_ministack/health", timeout=1) as r:
            return 200 <= r.status < 300
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def ministack(
    port: int | None = None,
    *,
    services: str = SERVICES,
    startup_timeout: float = 30.0,
    log_path: str | os.PathLike[str] | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[str]:
    """Start a fresh MiniStack and yield its endpoint URL; stop it on exit.

    Output goes to ``log_path`` (or a temporary file, deleted afterwards).
    Raises ``RuntimeError`` (with the log's tail) if it is not healthy within
    ``startup_timeout`` seconds or dies while starting.
    """
    port = port or free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    env.update(
        GATEWAY_PORT=str(port),
        BIND_HOST="127.0.0.1",
        SERVICES=services,
    )
    # A fresh server: never persist to, nor load from, disk.
    env.pop("S3_PERSIST", None)
    env.pop("PERSISTENCE", None)
    if extra_env:
        env.update(extra_env)

    own_log = log_path is None
    if own_log:
        fd, name = tempfile.mkstemp(prefix="ministack-", suffix=".log")
        os.close(fd)
        log_file = Path(name)
    else:
        log_file = Path(log_path)  # type: ignore[arg-type]
        log_file.parent.mkdir(parents=True, exist_ok=True)

    with open(log_file, "wb") as log:
        proc = subprocess.Popen(
            ministack_executable(),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + startup_timeout
        while not _healthy(endpoint):
            if proc.poll() is not None:
                raise RuntimeError(
                    f"ministack exited with {proc.returncode} while starting:\n" + _tail(log_file)
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"ministack not healthy at {endpoint} after {startup_timeout}s:\n"
                    + _tail(log_file)
                )
            time.sleep(0.05)
        yield endpoint
    finally:
        _stop(proc)
        if own_log:
            with contextlib.suppress(OSError):
                log_file.unlink()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


_RSS_RE = re.compile(r"Maximum resident set size \(kbytes\):\s*(\d+)")


def run_measured(
    cmd: Sequence[str],
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
) -> tuple[float, int, int, str]:
    """Run ``cmd``; return ``(seconds, peak_rss_kib, returncode, output)``.

    ``seconds`` is wall time measured here (includes process start-up);
    ``peak_rss_kib`` is GNU time's "Maximum resident set size" (KiB), the
    largest RSS of the process or of any child it waited for; ``output`` is
    stdout and stderr together, without GNU time's report.
    """
    env_d = dict(os.environ if env is None else env)
    if os.access(GNU_TIME, os.X_OK):
        with tempfile.NamedTemporaryFile(prefix="gnutime-", suffix=".txt", delete=False) as tf:
            report = Path(tf.name)
        try:
            full = [GNU_TIME, "-v", "-o", str(report), *cmd]
            t0 = time.perf_counter()
            cp = subprocess.run(
                full,
                env=env_d,
                cwd=cwd,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=timeout,
            )
            seconds = time.perf_counter() - t0
            text = report.read_text(errors="replace")
        finally:
            with contextlib.suppress(OSError):
                report.unlink()
        m = _RSS_RE.search(text)
        rss = int(m.group(1)) if m else 0
        rc = cp.returncode
        # GNU time exits with the command's status; "Command exited with
        # non-zero status N" / "Command terminated by signal N" are in the report.
        sig = re.search(r"Command terminated by signal (\d+)", text)
        if sig:
            rc = -int(sig.group(1))
        return seconds, rss, rc, cp.stdout.decode(errors="replace")

    # Fallback: getrusage deltas (a cumulative maximum; see module docstring).
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    cp = subprocess.run(
        list(cmd),
        env=env_d,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
    )
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # Exact only if this child set a new maximum; otherwise an upper bound.
    rss = after if after > before else before
    return seconds, rss, cp.returncode, cp.stdout.decode(errors="replace")
