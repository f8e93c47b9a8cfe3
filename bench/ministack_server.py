"""Fresh MiniStack servers and measured subprocesses for the benchmark.

``ministack()`` is a context manager that starts a fresh MiniStack through the
project's ``s3replication.sandbox.start_ministack`` (free loopback port, health
check) and yields the endpoint URL (``http://127.0.0.1:PORT``).  The server is
terminated (then killed) on exit.

``run_measured(cmd, env=None, cwd=None)`` runs a command under GNU
``/usr/bin/time -v`` and returns ``(seconds, peak_rss_kib, returncode,
output)``.  The peak RSS is that of the measured process tree's largest single
process as the kernel reports it (``Maximum resident set size``), which is what
GNU time reports; ``resource.getrusage(RUSAGE_CHILDREN)`` is only a running
maximum over every child ever waited for, so it is used only as a fallback when
GNU time is missing (and then it is exact only for the first, largest run).
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

GNU_TIME = "/usr/bin/time"

__all__ = ["ministack", "run_measured"]


@contextlib.contextmanager
def ministack(port: int | None = None, **_: object) -> Iterator[str]:
    """Start a fresh MiniStack (no persistence) and yield its endpoint URL; stop it on exit.

    The server is started by the project's own `s3replication.sandbox.start_ministack`, the
    one place that knows how to run MiniStack (loopback only, IoT/SFTP listeners off).
    """
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from s3replication.sandbox import start_ministack

    workdir = Path(tempfile.mkdtemp(prefix="ministack-"))
    proc, endpoint = start_ministack(workdir, persist=False, detach=True, timeout=30.0)
    try:
        yield endpoint
    finally:
        _stop(proc)
        shutil.rmtree(workdir, ignore_errors=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


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
    gnu_time = os.access(GNU_TIME, os.X_OK)
    with tempfile.TemporaryDirectory(prefix="gnutime-") as tmp:
        report = Path(tmp) / "report.txt"
        full = [GNU_TIME, "-v", "-o", str(report), *cmd] if gnu_time else list(cmd)
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t0 = time.perf_counter()
        cp = subprocess.run(full, env=env_d, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=timeout)
        seconds = time.perf_counter() - t0
        text = report.read_text(errors="replace") if gnu_time and report.exists() else ""
    output = cp.stdout.decode(errors="replace")
    if not gnu_time:
        # getrusage is a running maximum over every child: exact only if this one set it
        return seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss or before, \
            cp.returncode, output
    m = _RSS_RE.search(text)
    rc = cp.returncode
    # GNU time exits with the command's status; a signal is only in its report
    sig = re.search(r"Command terminated by signal (\d+)", text)
    if sig:
        rc = -int(sig.group(1))
    return seconds, int(m.group(1)) if m else 0, rc, output
