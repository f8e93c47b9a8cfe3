"""The AWS CLI, measured: ``bench/awscli_sequence.py`` run as separate ``aws`` invocations.

``aws_cli_sequence(endpoint, workdir, prefix)`` runs the sequence against ``endpoint``;
``aws_cli_run()`` does it on its own fresh MiniStack.  Timing is the sum of each
invocation's wall time (the Python glue in between is not counted); peak RSS is the maximum
over the invocations.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from bench.awscli_sequence import SEQUENCE, Arg, Call
from bench.common import DST_REGION, SRC_REGION, WORK_DIR, Measurement, tail
from bench.emulator_quirks import ACCESS_KEY, ACCOUNT, SECRET_KEY
from bench.ministack_server import ministack, run_measured

SIDES = ("src", "dst")


def aws_cli_available() -> bool:
    return shutil.which("aws") is not None


def sequence_values(prefix: str) -> dict[str, object]:
    """The names the sequence's templates use, before any call saved a value."""
    return {
        "prefix": prefix, "account": ACCOUNT, "rule_id": "crr-000", "rule_prefix": "data/000/",
        "role_name": f"{prefix}-crr-000",
        "src_bucket": f"{prefix}-src-000", "src_region": SRC_REGION,
        "src_tag_role": "replication-source", "src_key_role": "source",
        "dst_bucket": f"{prefix}-dst-000", "dst_region": DST_REGION,
        "dst_tag_role": "replication-destination", "dst_key_role": "replica",
    }


def _fill(arg: object, values: dict[str, object]) -> object:
    if isinstance(arg, str):
        return arg.format_map(values)
    if isinstance(arg, dict):
        return {k: _fill(v, values) for k, v in arg.items()}
    if isinstance(arg, list):
        return [_fill(v, values) for v in arg]
    return arg


def _argument(arg: Arg, values: dict[str, object]) -> str:
    filled = _fill(arg, values)
    return filled if isinstance(filled, str) else json.dumps(filled, separators=(",", ":"))


def _expand() -> Iterator[tuple[Call, str | None]]:
    """Every call in order, with its side (None for a call made once)."""
    for call in SEQUENCE:
        for side in SIDES if call.each_side else (None,):
            yield call, side


def _side_values(values: dict[str, object], side: str | None) -> dict[str, object]:
    if side is None:
        return values
    own = {k[len(side) + 1:]: v for k, v in values.items() if k.startswith(side + "_")}
    return {**values, **own}


def _cli_env(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_DEFAULT_OUTPUT="json",
        AWS_PAGER="",
        AWS_EC2_METADATA_DISABLED="true",
        # An empty config and credentials file: nothing from ~/.aws leaks in.
        AWS_CONFIG_FILE=str(workdir.resolve() / "aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(workdir.resolve() / "aws-credentials"),
    )
    for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION"):
        env.pop(k, None)
    return env


class _CliRun:
    """Runs ``aws`` invocations against one endpoint and adds up their cost."""

    def __init__(self, endpoint: str, workdir: Path) -> None:
        self.endpoint = endpoint
        self.workdir = workdir
        self.env = _cli_env(workdir)
        self.seconds = 0.0
        self.peak = 0
        self.calls = 0

    def __call__(self, region: str, *args: str) -> dict:
        cmd = ["aws", "--endpoint-url", self.endpoint, "--region", region, "--output", "json",
               *args]
        s, rss, rc, out = run_measured(cmd, env=self.env, cwd=self.workdir)
        self.seconds += s
        self.peak = max(self.peak, rss)
        self.calls += 1
        if rc != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({rc}): {tail(out, 8)}")
        out = out.strip()
        if not out:
            return {}
        try:
            return json.loads(out)
        except json.JSONDecodeError:
            return {"_raw": out}


def aws_cli_sequence(
    endpoint: str, workdir: str | os.PathLike[str], prefix: str = "clibench"
) -> Measurement:
    """One CRR pair set up with separate ``aws`` CLI invocations (29 invocations)."""
    wd = Path(workdir).resolve()
    wd.mkdir(parents=True, exist_ok=True)
    (wd / "aws-config").write_text("")
    (wd / "aws-credentials").write_text("")
    aws = _CliRun(endpoint, wd)
    values = sequence_values(prefix)
    try:
        for call, side in _expand():
            these = _side_values(values, side)
            reply = aws(_argument(call.region, these),
                        *(_argument(a, these) for a in call.argv))
            if call.save:
                name, *path = call.save
                for key in path:
                    reply = reply[key]
                values[f"{side}_{name}" if side else name] = reply
    except RuntimeError as e:
        return Measurement(aws.seconds, aws.peak, False, f"after {aws.calls} calls: {e}")
    return Measurement(aws.seconds, aws.peak, True, f"{aws.calls} invocations")


def aws_cli_run(workdir: str | os.PathLike[str] | None = None) -> Measurement:
    """``aws_cli_sequence`` on its own fresh MiniStack."""
    wd = Path(workdir) if workdir is not None else WORK_DIR / "aws-cli"
    if wd.exists():
        shutil.rmtree(wd)
    with ministack() as ep:
        return aws_cli_sequence(ep, wd)
