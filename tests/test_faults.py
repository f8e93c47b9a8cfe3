"""Apply converges through injected faults: a proxy in front of MiniStack fails a fifth of
all requests (503 SlowDown, 500 InternalError, a connection reset before MiniStack sees the
request, or one after it acted, so the answer is lost), for several seeds. Afterwards both
plans are clean and each alias has exactly one KMS key."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.converged import assert_converged, run, scale_backoff
from tests.faultproxy import FAULTS, FaultProxy, Request
from tests.shop import shop_config

SEEDS = (1, 2, 3)
FAULT_RATE = 0.2
TIME_BUDGET = 60.0  # seconds for both scripts' applies through the faults, per seed


@pytest.fixture
def config(tmp_path: Path, reset_ministack) -> str:
    return str(shop_config(tmp_path))


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    scale_backoff(monkeypatch, 0.2)


@pytest.mark.parametrize("seed", SEEDS, ids=[f"seed-{s}" for s in SEEDS])
def test_apply_converges_through_a_fifth_of_requests_failing(ministack_endpoint, config, seed,
                                                            quick_retries):
    started = time.monotonic()
    with FaultProxy(ministack_endpoint, rate=FAULT_RATE, seed=seed, lifetime=120) as proxy:
        for kind in ("crr", "srr"):
            applied = run(proxy.url, kind, "apply", "--config", config)
            assert applied.status == 0, applied.stdout + applied.stderr
    elapsed = time.monotonic() - started

    assert elapsed < TIME_BUDGET
    assert 0.1 < proxy.fault_count / proxy.requests < 0.3, proxy.injected
    assert_converged(ministack_endpoint, config)


def test_every_kind_of_fault_was_injected_across_seeds():
    """The seeded choice covers all four kinds (checked on the decision alone, no server)."""
    proxy = FaultProxy("http://127.0.0.1:9", rate=FAULT_RATE, seed=SEEDS[0])
    try:
        for n in range(400):
            proxy._decide(Request("PUT", f"/bucket-{n}", {}, {}, b""))
    finally:
        proxy.stop()
    assert set(proxy.injected) == set(FAULTS)
    assert 0.15 < proxy.fault_count / 400 < 0.25


# Creates and deletes whose answer is lost after MiniStack carried them out: botocore
# retries, and the retry meets the first attempt's result.
LOST_ON_APPLY = {
    "kms-create-key": "CreateKey",
    "kms-create-alias": "CreateAlias",
    "kms-enable-rotation": "EnableKeyRotation",
    "s3-create-bucket": "PUT /",
    "s3-put-versioning": "PUT ?versioning",
    "s3-put-tagging": "PUT ?tagging",
    "s3-put-policy": "PUT ?policy",
    "s3-put-replication": "PUT ?replication",
    "iam-create-role": "CreateRole",
    "iam-put-role-policy": "PutRolePolicy",
    "sns-create-topic": "CreateTopic",
    "cloudwatch-put-alarm": "PutMetricAlarm",
}


@pytest.mark.parametrize("operation", LOST_ON_APPLY.values(), ids=LOST_ON_APPLY.keys())
def test_apply_survives_a_lost_answer(ministack_endpoint, config, operation, quick_retries):
    with FaultProxy(ministack_endpoint, lose=lambda r: r.operation == operation) as proxy:
        for kind in ("crr", "srr"):
            applied = run(proxy.url, kind, "apply", "--config", config)
            assert applied.status == 0, applied.stdout + applied.stderr
    assert proxy.injected["lost"] >= 1, f"no {operation} request was seen"
    assert_converged(ministack_endpoint, config)


LOST_ON_DESTROY = {
    "iam-delete-role": "DeleteRole",
    "iam-delete-role-policy": "DeleteRolePolicy",
    "s3-delete-replication": "DELETE ?replication",
    "s3-put-replication": "PUT ?replication",
    "s3-put-tagging": "PUT ?tagging",
    "cloudwatch-delete-alarms": "DeleteAlarms",
    "cloudwatch-delete-dashboards": "DeleteDashboards",
}


@pytest.mark.parametrize("operation", LOST_ON_DESTROY.values(), ids=LOST_ON_DESTROY.keys())
def test_destroy_survives_a_lost_answer(ministack_endpoint, config, operation, quick_retries):
    assert run(ministack_endpoint, "crr", "apply", "--config", config).status == 0
    with FaultProxy(ministack_endpoint, lose=lambda r: r.operation == operation) as proxy:
        destroyed = run(proxy.url, "crr", "destroy", "--yes", "--config", config)
    assert destroyed.status == 0, destroyed.stdout + destroyed.stderr
    assert run(ministack_endpoint, "crr", "destroy", "--config", config).status == 0
