"""A real script run as its own process against an endpoint that counts connections: a
listener that counts each connection and answers every request AccessDenied, so that a run
that calls is counted and fails at once (exit 1, no retry). `count == 0` proves that no call
was made."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_BODY = (b"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
         b"<Message>counted</Message></Error></ErrorResponse>")
DENIED = (b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/xml\r\nConnection: close\r\n"
          b"Content-Length: " + str(len(_BODY)).encode() + b"\r\n\r\n" + _BODY)


class CountingListener:
    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.count = 0
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:  # closed by the test
                return
            self.count += 1
            with connection:
                connection.settimeout(5)
                try:
                    connection.recv(65536)
                    connection.sendall(DENIED)
                except OSError:
                    pass

    def close(self) -> None:
        self.server.close()


@dataclass
class Process:
    status: int
    stdout: str
    stderr: str


def listening() -> Iterator[CountingListener]:
    """A fixture's body: `listener = pytest.fixture(listening)` in a test module."""
    found = CountingListener()
    yield found
    found.close()


def script_env(endpoint: str) -> dict[str, str]:
    """Dummy credentials, and every AWS call sent to `endpoint`."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k != "PYTHONPATH"}
    env.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing",
               AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",
               AWS_MAX_ATTEMPTS="1", AWS_CONFIG_FILE=os.devnull,
               AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    return env


def run_process(kind: str, *argv: str, endpoint: str, timeout: float = 60) -> Process:
    """`cr_replication.py ARGV` (kind "crr") or `sr_replication.py ARGV` in a process of its
    own."""
    script = ROOT / ("cr_replication.py" if kind == "crr" else "sr_replication.py")
    done = subprocess.run([sys.executable, str(script), *argv], cwd=ROOT, capture_output=True,
                          text=True, env=script_env(endpoint), timeout=timeout, check=False)
    return Process(done.returncode, done.stdout, done.stderr)
