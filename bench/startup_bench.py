"""Start-up: how long `cr_replication.py plan` takes from process start to its first API call,
next to the floor for any boto3 tool on this machine (start Python, import boto3, make one
STS client, send GetCallerIdentity) and the same with botocore alone, measured the same way in
the same run.

A loopback listener stands in for the endpoint (`AWS_ENDPOINT_URL`): the time is taken when
it accepts the first connection; the connection is then closed, the process ends on its own
(or is stopped). The median of `--runs` runs each.

    .venv/bin/python bench/startup_bench.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_CONFIG = ROOT / "config" / "s3_config.py"
FLOOR = ("import boto3; boto3.session.Session().client('sts', region_name='us-east-1')"
         ".get_caller_identity()")
# botocore alone, under boto3: what any tool on this runtime needs before its first call
FLOOR_BOTOCORE = ("import botocore.session; botocore.session.Session().create_client("
                  "'sts', region_name='us-east-1').get_caller_identity()")


def to_first_call(command: list[str], env: dict[str, str]) -> float:
    """Seconds from starting `command` to its first connection to the listener."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.settimeout(30)
        port = listener.getsockname()[1]
        started = time.perf_counter()
        process = subprocess.Popen(command, env={**env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"},
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, cwd=str(ROOT))
        try:
            connection, _ = listener.accept()
            seconds = time.perf_counter() - started
            connection.close()
        finally:
            process.kill()
            process.wait()
    return seconds


def measure(runs: int) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items()  # compiled modules cached, as bench/run.py
           if not k.startswith("AWS_") and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/nonexistent",
               AWS_SHARED_CREDENTIALS_FILE="/nonexistent")
    folder = Path(tempfile.mkdtemp(prefix="startup-"))
    config = folder / "s3_config.py"  # the shipped config, its log here
    config.write_text(f"{SHIPPED_CONFIG.read_text()}\n"
                      f"LOG_FILE = {str(folder / 'replication_logs.txt')!r}\n")
    ours = [sys.executable, str(ROOT / "cr_replication.py"), "plan", "--config", str(config)]
    commands = {"ours": ours, "floor": [sys.executable, "-c", FLOOR],
                "botocore": [sys.executable, "-c", FLOOR_BOTOCORE]}
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):  # interleaved, so that all see the same machine
        for name, command in commands.items():
            times[name].append(to_first_call(command, env))
    return {name: round(statistics.median(values), 3) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    found = measure(parser.parse_args().runs)
    print(f"plan start-up to first API call: {found['ours']} s; floor (python, import boto3, "
          f"one STS client, one call): {found['floor']} s; "
          f"ratio {found['ours'] / found['floor']:.2f}; botocore alone, the same: "
          f"{found['botocore']} s")


if __name__ == "__main__":
    main()
