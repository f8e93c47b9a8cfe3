"""The call floor: how long a bare boto3 script takes to make exactly the API calls one of our
runs made, all at once, with no tool logic and no dependencies between calls.

It is a lower bound for any boto3 tool that makes those calls on this machine (start Python,
import boto3, make the clients, send every call on 64 threads), not a target: a real tool
must read before it writes, so some of its calls wait for others. It is not a bound for other
calls (a tool that makes fewer calls can beat it) nor for other clients (the AWS CLI, Go).
Replayed out of order, writes may fail (a bucket's settings before the bucket: NoSuchBucket)
and that is fine: each failed call still costs its round trip. Replay on a server where the
calls make sense: a fresh one for a fresh apply, the applied one for a no-change apply or plan.

    python bench/call_floor.py record OUT.json -- apply --config CONFIG   # our run, recorded
    python bench/call_floor.py replay OUT.json                            # the floor

`record` runs `s3replication.cli.main("crr", ...)` in this process, every client it makes
reporting each call's (service, Region, operation, parameters); it exits with main's status.
`replay` imports only what a bare script needs (its start-up counts in the figure).
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    Call = list[Any]  # [service, region, operation name, params]


def replay_main(path: str) -> int:
    """Every call of `path` at once, one client per (service, Region), made first."""
    import boto3
    from botocore.config import Config

    with open(path) as file:
        calls: list[Call] = json.load(file)
    session = boto3.Session()
    config = Config(retries={"mode": "standard", "max_attempts": 10}, max_pool_connections=128,
                    s3={"addressing_style": "path"})  # the endpoint is AWS_ENDPOINT_URL
    clients: dict[tuple[str, str], Any] = {}
    methods: dict[tuple[str, str], dict[str, str]] = {}
    for service, region, _op, _params in calls:
        if (service, region) not in clients:
            client = session.client(service, region_name=region, config=config)
            clients[service, region] = client
            methods[service, region] = {op: name for name, op
                                        in client.meta.method_to_api_mapping.items()}

    def one(call: Call) -> str | None:
        service, region, op, params = call
        try:
            getattr(clients[service, region], methods[service, region][op])(**params)
        except Exception as error:  # noqa: BLE001 - counted, not raised: it cost its round trip
            code = getattr(error, "response", {}).get("Error", {}).get("Code")
            return str(code or type(error).__name__)
        return None

    with ThreadPoolExecutor(64) as pool:
        errors = [e for e in pool.map(one, calls) if e]
    kinds = {e: errors.count(e) for e in sorted(set(errors))}
    detail = f" ({', '.join(f'{k} {v}' for k, v in kinds.items())})" if kinds else ""
    print(f"{len(calls)} calls, {len(errors)} errors{detail}", file=sys.stderr)
    return 0


def record_main(out: str, argv: list[str]) -> int:
    """Run our crr script with `argv` in this process; write its calls to `out`."""
    import os
    import threading

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from s3replication.aws import clients as module
    from s3replication.cli import main

    calls: list[Call] = []
    lock = threading.Lock()
    make = module.Clients._make

    def recording(self: Any, service: str, region: str, retries: bool = True) -> Any:
        client = make(self, service, region, retries)

        def note(params: dict[str, Any], model: Any, **_: Any) -> None:  # None: call unchanged
            copy = json.loads(json.dumps(params, default=repr))  # as it was when sent
            with lock:
                calls.append([service, region, model.name, copy])

        client.meta.events.register("provide-client-params", note)
        return client

    module.Clients._make = recording  # type: ignore[method-assign]
    status = main("crr", argv)
    with open(out, "w") as file:
        json.dump(calls, file, default=repr)
    return status


def _script(*args: str) -> list[str]:
    return [sys.executable, __file__, *args]


def record(command: str, config: Path, endpoint: str) -> Path:
    """Our `command` run against `endpoint`, recorded (not measured); the calls' JSON file."""
    import tempfile
    from pathlib import Path

    from bench.ministack_server import run_measured
    from bench.run import env_for

    out = Path(tempfile.mkstemp(prefix=f"{command}-", suffix=".json", dir=config.parent)[1])
    _, _, code, output = run_measured(
        _script("record", str(out), "--", command, "--config", str(config)),
        env=env_for(endpoint), cwd=str(Path(__file__).resolve().parent.parent))
    if code not in (0, 3):
        raise RuntimeError(f"recording {command} failed ({code}): {output[-500:]}")
    return out


def replay(calls: Path, endpoint: str) -> float:
    """Seconds the bare script takes to replay `calls` against `endpoint`, from process start
    to exit (as `_ours` in latency_bench measures ours); its count of calls and errors goes to
    stderr."""
    from bench.ministack_server import run_measured
    from bench.run import env_for

    seconds, _, code, output = run_measured(_script("replay", str(calls)), env=env_for(endpoint))
    if code != 0:
        raise RuntimeError(f"replaying {calls} failed ({code}): {output[-500:]}")
    lines = output.strip().splitlines()
    print(f"floor replay of {calls.name}: {lines[-1] if lines else ''}", file=sys.stderr)
    return seconds


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "replay":
        return replay_main(argv[1])
    if len(argv) >= 2 and argv[0] == "record":
        rest = argv[2:]
        return record_main(argv[1], rest[1:] if rest[:1] == ["--"] else rest)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
