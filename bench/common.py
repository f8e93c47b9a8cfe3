"""What both peers (Terraform and the AWS CLI) share: the measurement record, the Regions,
the scratch folder and the replication events the notifications subscribe to."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
WORK_DIR = BENCH_DIR / ".work"

SRC_REGION = "us-east-1"
DST_REGION = "us-west-2"
REPLICATION_EVENTS = (
    "s3:Replication:OperationFailedReplication",
    "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationReplicatedAfterThreshold",
)


@dataclass
class Measurement:
    """One measured run.

    ``seconds`` is wall time (summed over invocations for the CLI sequence),
    ``peak_rss_kib`` the largest resident set of any process involved (GNU ``time -v``),
    ``ok`` whether it did what it should, ``detail`` a short note ("no changes",
    "42 added", or the error's tail).  For ``terraform plan`` only: ``changes`` lists
    "<address> <action>" for every resource the plan would change and
    ``only_known_drift`` says whether they are all the known MiniStack alarm drift.
    """

    seconds: float
    peak_rss_kib: int
    ok: bool
    detail: str = ""
    changes: tuple[str, ...] = ()
    only_known_drift: bool = False

    @property
    def peak_rss_mib(self) -> float:
        return self.peak_rss_kib / 1024.0


def tail(text: str, lines: int = 25) -> str:
    """The last ``lines`` lines of ``text``: the part of a failing command's output to show."""
    return "\n".join(text.strip().splitlines()[-lines:])
