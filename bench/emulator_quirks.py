"""MiniStack 1.5.33 as the peers meet it: its facts, its quirks, and the code that copes.

Everything the benchmark knows about the emulator, written once.  ``QUIRKS`` (the one-line
summaries) goes into the report's notes; ``QUIRK_DETAILS`` holds the full account of each,
read it before touching the detection code below it.

- ``ACCOUNT``, ``ACCESS_KEY``/``SECRET_KEY``: MiniStack's default account id and the dummy
  credentials both peers send.  Terraform also needs ``s3_use_path_style`` and the
  ``skip_*`` checks, set in ``bench/terraform/main.tf``.
- ``is_known_drift(address, action)``: quirk 1, the plan changes to report apart.
- ``flake_detail(errors)`` / ``is_flake(measurement)``: quirk 4, an apply worth redoing on a
  fresh server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bench.common import Measurement

ACCOUNT = "000000000000"  # MiniStack's default account id
ACCESS_KEY = SECRET_KEY = "test"


@dataclass(frozen=True)
class Quirk:
    summary: str  # one line, for the report
    details: str  # the whole story


_QUIRKS = (
    Quirk(
        "MiniStack's Query-protocol DescribeAlarms omits Period, Statistic, Dimensions, "
        "AlarmActions, ActionsEnabled, AlarmDescription and TreatMissingData (stored, but not "
        "returned to the Go SDK): every terraform plan after apply shows the 2 x N alarms "
        "'updated in-place' (perpetual diff; ignore_changes cannot hide it because the "
        "provider then rejects the empty statistic)",
        """Alarm read-back over the Query protocol is partial.  The provider's Go SDK
(cloudwatch 1.45.1) sends form-encoded DescribeAlarms; MiniStack answers with a short
<member> (name, ARN, state, metric, namespace, threshold, operator, evaluation periods) and
omits Period, Statistic, Dimensions, AlarmActions, ActionsEnabled, AlarmDescription and
TreatMissingData although it stored them (boto3, which speaks CBOR/JSON to CloudWatch, reads
them all back).  Every plan therefore shows both alarms of every pair "updated in-place"
(2 x N changes: actions_enabled false -> true, alarm_actions, alarm_description, dimensions,
period 0 -> 300, statistic, treat_missing_data "missing" -> "notBreaching").  There is no HCL
workaround: lifecycle { ignore_changes } on those attributes makes the plan fail ("One of
`statistic` or `extended_statistic` must be set"), since the provider validates the
refreshed, empty statistic.  So the alarms stay as they are; terraform_plan reports these
known changes apart (Measurement.changes lists every address, detail says when they are the
only ones) and the plan still reads every resource, so its timing is that of a no-change
plan plus rendering 2 x N small diffs.  Nothing else drifts: the other 9 + 16 x N resources
plan clean after apply.""",
    ),
    Quirk(
        "aws_kms_key creation takes ~9 s in the provider (propagation waiters polling "
        "GetKeyRotationStatus/ListResourceTags); Terraform's cost, not MiniStack's",
        """Not MiniStack, but Terraform's own cost: aws_kms_key takes about 9 s per key to
create because the provider polls GetKeyRotationStatus and ListResourceTags until several
consecutive reads agree (its propagation waiters, which it runs against AWS too).  The two
keys are created in parallel, so this adds about 9 s to every apply whatever N.""",
    ),
    Quirk(
        "bucket policies (TLS-only deny) are stored but not enforced by MiniStack",
        """MiniStack does not enforce the TLS-only bucket policies, so Terraform (and the CLI)
can keep reading the buckets over plain HTTP after applying them.""",
    ),
    Quirk(
        "under load, an N = 50 apply now and then fails because the provider's SDK retries a "
        "Create whose first attempt MiniStack processed but whose response never arrived "
        "(EntityAlreadyExists); such runs are redone on a fresh server and counted as attempts",
        """Intermittent connection flake under load (N = 50).  Now and then the provider's Go
SDK gets no usable response to a request that MiniStack did process (the debug log shows
"retrying request IAM/CreateRole, attempt 2" about 0.1 s after attempt 1, with no response
logged for attempt 1); the retry of a Create then fails with EntityAlreadyExists /
AlreadyExistsException and the apply fails.  Seen on IAM CreateRole, KMS CreateAlias (fatal)
and CloudWatch PutMetricAlarm/DescribeAlarms (harmless, idempotent).  Seen in about 1 of 3
N = 50 applies while the 2-core machine was loaded (load average ~12), never at N <= 10,
never under strace; boto3 (10 threads, no retries, 2,000 IAM calls) never saw it, nor the
AWS CLI.  Root cause not found (hypercorn 0.18 keeps connections alive 75 s and closes after
1,000 requests with Connection: close, so neither explains it).  terraform_apply marks such a
failure (is_flake) and terraform_run redoes the run on a fresh server.""",
    ),
)

QUIRKS: list[str] = [q.summary for q in _QUIRKS]
QUIRK_DETAILS: list[str] = [q.details for q in _QUIRKS]

# Quirk 1: the plan changes that are only the alarm read-back drift.


def is_known_drift(address: str, action: str) -> bool:
    return address.startswith("aws_cloudwatch_metric_alarm.") and action == "updated in-place"


# Quirk 4: a Create whose first attempt MiniStack processed but whose response the provider
# never got: its SDK retry then meets the resource it just made.
_FLAKE_RE = re.compile(
    r"EntityAlreadyExists|AlreadyExistsException|BucketAlreadyOwnedByYou|already exists"
)
FLAKE_PREFIX = "MiniStack connection flake (Create retried, found AlreadyExists): "


def flake_detail(errors: list[str], detail: str) -> str:
    """``detail`` of a failed apply, marked as the flake when every error is one."""
    if errors and all(_FLAKE_RE.search(e) for e in errors):
        return FLAKE_PREFIX + detail
    return detail


def is_flake(m: Measurement) -> bool:
    """True when a failed apply failed only with the MiniStack connection flake: worth redoing
    on a fresh server."""
    return not m.ok and m.detail.startswith(FLAKE_PREFIX)
