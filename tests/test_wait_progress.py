"""Progress on every wait: a wait of minutes says on stderr what it waits for and how long it
has waited, on a pipe too (a line every `every` seconds), as verify's canary wait does
(tests/test_ctrl_c_e2e.py reads that one from a real process).

The creation of a Multi-Region Access Point is asynchronous: CreateMultiRegionAccessPoint
returns a request token, and DescribeMultiRegionAccessPointOperation tells when it SUCCEEDED
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_CreateMultiRegionAccessPoint.html,
https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_DescribeMultiRegionAccessPointOperation.html);
it can take minutes, so apply shows that wait.
"""

from __future__ import annotations

import io
import time
from types import SimpleNamespace
from typing import Any

import pytest

from s3replication.engine import interrupt
from s3replication.output import progress
from s3replication.resources import access_points


class Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


@pytest.fixture
def pipe(monkeypatch: pytest.MonkeyPatch) -> Pipe:
    shown = Pipe()
    monkeypatch.setattr(progress, "WAITS", progress.Waits(shown, after=0.05, every=0.1,
                                                          tick=0.02))
    monkeypatch.setattr(interrupt, "pause", lambda seconds: time.sleep(0.1))
    return shown


def answers(*statuses: str) -> Any:
    """An access point whose creation request reads `statuses`, one per call."""
    left = list(statuses)

    def describe(**_: Any) -> dict[str, Any]:
        return {"AsyncOperation": {"RequestStatus": left.pop(0)}}

    control = SimpleNamespace(describe_multi_region_access_point_operation=describe)
    return SimpleNamespace(resource="access point shop", control=control,
                           ctx=SimpleNamespace(account="111122223333"),
                           describe=lambda: {"Status": left.pop(0)})


def test_apply_shows_its_wait_for_an_access_points_creation(pipe: Pipe) -> None:
    access_points._wait_for_request(answers("NEW", "INPROGRESS", "INPROGRESS", "SUCCEEDED"),
                                    "token")
    lines = pipe.getvalue().splitlines()
    assert lines, "no progress line"
    assert all(line.startswith("waiting: access point shop: its creation: ")
               and line.endswith(" s of up to 1800 s") for line in lines), lines


def test_apply_shows_its_wait_for_an_access_point_to_be_ready(pipe: Pipe) -> None:
    access_points._wait_ready(answers("CREATING", "CREATING", "READY"))
    assert pipe.getvalue().startswith("waiting: access point shop: READY: ")
