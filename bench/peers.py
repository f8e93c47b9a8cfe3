"""The PEER side of ``make bench``: Terraform and the AWS CLI doing the same work.

This module does not import the ``s3replication`` package; the benchmark
driver (``bench/run.py``) imports it and runs our scripts against the same kind
of fresh MiniStack (``bench/ministack_server.py``).

API
---
``Measurement(seconds, peak_rss_kib, ok, detail)``
    One measured run.  ``seconds`` is wall time (sum over invocations for the
    CLI sequence), ``peak_rss_kib`` the largest resident set of any process
    involved (GNU ``time -v``; for Terraform that is the largest of the
    ``terraform`` process and the AWS provider plugin it waits for), ``ok``
    whether it did what it should, ``detail`` a short human-readable note
    (e.g. ``"no changes"``, ``"42 added"``, or the error's tail).

``terraform_available() -> bool``
    ``terraform`` on PATH and a filesystem mirror of ``hashicorp/aws`` found.
``terraform_workdir(n_pairs, endpoint, workdir, prefix="bench") -> Path``
    Writes ``main.tf`` for ``n_pairs`` CRR pairs plus a CLI config file
    (``terraformrc``) for an offline init; returns ``workdir``.
``terraform_init(workdir) -> Measurement``
    ``terraform init`` from the filesystem mirror, with a shared
    ``TF_PLUGIN_CACHE_DIR`` (``bench/.work/tf-plugin-cache``).
``terraform_apply(workdir) -> Measurement``
    ``terraform apply -auto-approve`` (refresh included, as users run it).
``terraform_plan(workdir) -> Measurement``
    ``terraform plan -refresh=true -input=false -lock=false
    -detailed-exitcode``; ``ok`` is True when the plan ran (exit 0 or 2),
    ``detail`` says "no changes" or lists what Terraform wants to change.
``aws_cli_sequence(endpoint, workdir, prefix="clibench") -> Measurement``
    The same calls for ONE pair as separate ``aws`` CLI invocations.
``terraform_resource_count(n_pairs) -> int``
    How many resources the configuration has (for the report).
``terraform_run(n_pairs, workdir=None, plan=True, attempts=3) -> TerraformRun``
    The whole Terraform side for one N on its own fresh MiniStack: write,
    init, apply, plan; redoes the run on a new server when apply hit the
    connection flake (quirk 4).  ``TerraformRun(n_pairs, resources, init,
    apply, plan, attempts)``.  Prefer it to the step functions.
``is_flake(measurement) -> bool``
    The apply failed only because of quirk 4.
``aws_cli_run(workdir=None) -> Measurement``
    ``aws_cli_sequence`` on its own fresh MiniStack.
``versions() -> dict``, ``QUIRKS: list[str]``
    For the report.

The Terraform configuration (AWS provider 5.100.0, as mirrored on this machine)
-----------------------------------------------------------------------------
Two provider aliases, ``aws.src`` (us-east-1) and ``aws.dst`` (us-west-2), both
pointed at the MiniStack URL for s3, iam, kms, sts, sns and cloudwatch, with
``s3_use_path_style``, ``skip_credentials_validation``,
``skip_requesting_account_id``, ``skip_metadata_api_check`` and dummy keys.

Shared: per Region one ``aws_kms_key`` (rotation on) + ``aws_kms_alias``, one
``aws_sns_topic`` + ``aws_sns_topic_policy`` (S3 and CloudWatch may publish);
one ``aws_cloudwatch_dashboard`` (two widgets per pair).

Per pair ``i`` (``for_each`` over a ``locals`` map, as a user would write it):
source and destination ``aws_s3_bucket`` (tags), ``aws_s3_bucket_versioning``
(Enabled), ``aws_s3_bucket_server_side_encryption_configuration`` (aws:kms,
the Region's key, ``bucket_key_enabled``), ``aws_s3_bucket_public_access_block``
(all four), ``aws_s3_bucket_ownership_controls`` (BucketOwnerEnforced),
``aws_s3_bucket_policy`` (deny when ``aws:SecureTransport`` is false); an
``aws_iam_role`` (trust ``s3.amazonaws.com``) + ``aws_iam_role_policy``
(replication permissions, ``kms:Decrypt`` on the source key and
``kms:Encrypt`` on the replica key, each with ``kms:ViaService`` and
``kms:EncryptionContext:aws:s3:arn`` conditions); an
``aws_s3_bucket_replication_configuration`` with one V2 rule (prefix filter,
priority, delete-marker replication, ``sse_kms_encrypted_objects``, replica KMS
key, RTC 15 min + metrics 15 min; ``depends_on`` both versionings); two
``aws_cloudwatch_metric_alarm`` (OperationsFailedReplication Sum > 0,
ReplicationLatency Maximum >= 900, dimensions SourceBucket, DestinationBucket,
RuleId, actions to the source Region's topic); an
``aws_s3_bucket_notification`` on the source bucket for
``s3:Replication:OperationFailedReplication``,
``s3:Replication:OperationMissedThreshold`` and
``s3:Replication:OperationReplicatedAfterThreshold`` to that topic.

That is ``9 + 18 * N`` resources.  Nothing was dropped.

MiniStack 1.5.33 quirks met by the peers (also in ``QUIRKS``)
-------------------------------------------------------------
1. **Alarm read-back over the Query protocol is partial.**  The provider's Go
   SDK (cloudwatch 1.45.1) sends form-encoded ``DescribeAlarms``; MiniStack
   answers with a short ``<member>`` (name, ARN, state, metric, namespace,
   threshold, operator, evaluation periods) and omits ``Period``,
   ``Statistic``, ``Dimensions``, ``AlarmActions``, ``ActionsEnabled``,
   ``AlarmDescription`` and ``TreatMissingData`` although it stored them
   (boto3, which speaks CBOR/JSON to CloudWatch, reads them all back).  Every
   plan therefore shows both alarms of every pair "updated in-place" (2 x N
   changes: ``actions_enabled`` false -> true, ``alarm_actions``,
   ``alarm_description``, ``dimensions``, ``period`` 0 -> 300, ``statistic``,
   ``treat_missing_data`` "missing" -> "notBreaching").  There is no HCL
   workaround: ``lifecycle { ignore_changes }`` on those attributes makes the
   plan fail ("One of `statistic` or `extended_statistic` must be set"), since
   the provider validates the refreshed, empty ``statistic``.  So the alarms
   stay as they are; ``terraform_plan`` reports these known changes apart
   (``Measurement.changes`` lists every address, ``detail`` says when they are
   the only ones) and the plan still reads every resource, so its timing is
   that of a no-change plan plus rendering 2 x N small diffs.  Nothing else
   drifts: the other 9 + 16 x N resources plan clean after apply.
2. **Not MiniStack, but Terraform's own cost:** ``aws_kms_key`` takes about
   9 s per key to create because the provider polls ``GetKeyRotationStatus``
   and ``ListResourceTags`` until several consecutive reads agree (its
   propagation waiters, which it runs against AWS too).  The two keys are
   created in parallel, so this adds about 9 s to every apply whatever N.
3. MiniStack does not enforce the TLS-only bucket policies, so Terraform (and
   the CLI) can keep reading the buckets over plain HTTP after applying them.

4. **Intermittent connection flake under load (N = 50).**  Now and then the
   provider's Go SDK gets no usable response to a request that MiniStack did
   process (the debug log shows ``retrying request IAM/CreateRole, attempt 2``
   about 0.1 s after attempt 1, with no response logged for attempt 1); the
   retry of a Create then fails with ``EntityAlreadyExists`` /
   ``AlreadyExistsException`` and the apply fails.  Seen on IAM CreateRole,
   KMS CreateAlias (fatal) and CloudWatch PutMetricAlarm/DescribeAlarms
   (harmless, idempotent).  Seen in about 1 of 3 N = 50 applies while the
   2-core machine was loaded (load average ~12), never at N <= 10, never under
   ``strace``; boto3 (10 threads, no retries, 2,000 IAM calls) never saw it,
   nor the AWS CLI.  Root cause not found (hypercorn 0.18 keeps connections
   alive 75 s and closes after 1,000 requests with ``Connection: close``, so
   neither explains it).  ``terraform_apply`` marks such a failure
   (``is_flake``) and ``terraform_run`` redoes the run on a fresh server.

No resource had to be dropped; the AWS CLI sequence runs unchanged.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

try:  # imported as bench.peers
    from .ministack_server import ministack, run_measured
except ImportError:  # run as a script: python bench/peers.py
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from ministack_server import ministack, run_measured  # type: ignore[no-redef]

__all__ = [
    "Measurement",
    "terraform_available",
    "terraform_workdir",
    "terraform_init",
    "terraform_apply",
    "terraform_plan",
    "terraform_resource_count",
    "TerraformRun",
    "terraform_run",
    "is_flake",
    "aws_cli_run",
    "aws_cli_available",
    "aws_cli_sequence",
    "versions",
    "QUIRKS",
]

BENCH_DIR = Path(__file__).resolve().parent
WORK_DIR = BENCH_DIR / ".work"
PLUGIN_CACHE = WORK_DIR / "tf-plugin-cache"

SRC_REGION = "us-east-1"
DST_REGION = "us-west-2"
ACCOUNT = "000000000000"  # MiniStack's default account id
REPLICATION_EVENTS = (
    "s3:Replication:OperationFailedReplication",
    "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationReplicatedAfterThreshold",
)

QUIRKS: list[str] = [
    "MiniStack's Query-protocol DescribeAlarms omits Period, Statistic, Dimensions, "
    "AlarmActions, ActionsEnabled, AlarmDescription and TreatMissingData (stored, but not "
    "returned to the Go SDK): every terraform plan after apply shows the 2 x N alarms "
    "'updated in-place' (perpetual diff; ignore_changes cannot hide it because the "
    "provider then rejects the empty statistic)",
    "aws_kms_key creation takes ~9 s in the provider (propagation waiters polling "
    "GetKeyRotationStatus/ListResourceTags); Terraform's cost, not MiniStack's",
    "bucket policies (TLS-only deny) are stored but not enforced by MiniStack",
    "under load, an N = 50 apply now and then fails because the provider's SDK retries a "
    "Create whose first attempt MiniStack processed but whose response never arrived "
    "(EntityAlreadyExists); such runs are redone on a fresh server and counted as attempts",
]


@dataclass
class Measurement:
    seconds: float
    peak_rss_kib: int
    ok: bool
    detail: str = ""
    # terraform_plan only: "<address> <action>" for every resource the plan
    # would change, and whether they are all the known MiniStack alarm drift.
    changes: tuple[str, ...] = ()
    only_known_drift: bool = False

    @property
    def peak_rss_mib(self) -> float:
        return self.peak_rss_kib / 1024.0


# --------------------------------------------------------------------------
# Terraform
# --------------------------------------------------------------------------


def _find_mirror() -> Path | None:
    """The folder that holds ``registry.terraform.io/hashicorp/aws``."""
    env = os.environ.get("BENCH_TF_MIRROR")
    candidates = [Path(env)] if env else []
    candidates += [
        Path("/opt/tf-plugins"),
        Path.home() / ".terraform.d" / "plugins",
        Path("/usr/share/terraform/plugins"),
        Path("/usr/local/share/terraform/plugins"),
    ]
    for c in candidates:
        if (c / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
            return c
    # The slow way, as the emulator notes suggest (depth 4 from /).
    try:
        out = subprocess.run(
            [
                "find",
                "/",
                "-maxdepth",
                "4",
                "-name",
                "registry.terraform.io",
                "-not",
                "-path",
                "/proc/*",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in out.splitlines():
        p = Path(line)
        if (p / "hashicorp" / "aws").is_dir():
            return p.parent
    return None


_MIRROR: list[Path | None] = []


def _mirror() -> Path | None:
    if not _MIRROR:
        _MIRROR.append(_find_mirror())
    return _MIRROR[0]


def terraform_available() -> bool:
    return shutil.which("terraform") is not None and _mirror() is not None


def terraform_resource_count(n_pairs: int) -> int:
    return 9 + 18 * n_pairs


def _hcl_str(s: str) -> str:
    return json.dumps(s)


def _main_tf(n_pairs: int, endpoint: str, prefix: str) -> str:
    pairs = ",\n".join(
        f'    "{i:03d}" = {{ src = "{prefix}-src-{i:03d}", dst = "{prefix}-dst-{i:03d}", '
        f'prefix = "data/{i:03d}/", priority = {i + 1} }}'
        for i in range(n_pairs)
    )
    ep = _hcl_str(endpoint)
    provider = """
provider "aws" {{
  alias                       = "{alias}"
  region                      = "{region}"
  access_key                  = "test"
  secret_key                  = "test"
  s3_use_path_style           = true
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {{
    s3         = {ep}
    iam        = {ep}
    kms        = {ep}
    sts        = {ep}
    sns        = {ep}
    cloudwatch = {ep}
  }}
}}
"""
    providers = provider.format(alias="src", region=SRC_REGION, ep=ep) + provider.format(
        alias="dst", region=DST_REGION, ep=ep
    )
    events = ", ".join(_hcl_str(e) for e in REPLICATION_EVENTS)
    count = terraform_resource_count(n_pairs)
    return f"""# Generated by bench/peers.py: {n_pairs} CRR pair(s), {count} resources.
terraform {{
  required_providers {{
    aws = {{
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }}
  }}
}}
{providers}
locals {{
  account = "{ACCOUNT}"
  tags = {{
    Project   = "{prefix}"
    ManagedBy = "terraform"
  }}
  pairs = {{
{pairs}
  }}
}}

# ---- KMS: one key per Region, shared by all pairs -------------------------

resource "aws_kms_key" "src" {{
  provider                = aws.src
  description             = "{prefix} replication source key"
  enable_key_rotation     = true
  deletion_window_in_days = 7
  tags                    = local.tags
}}

resource "aws_kms_alias" "src" {{
  provider      = aws.src
  name          = "alias/{prefix}-crr"
  target_key_id = aws_kms_key.src.key_id
}}

resource "aws_kms_key" "dst" {{
  provider                = aws.dst
  description             = "{prefix} replication replica key"
  enable_key_rotation     = true
  deletion_window_in_days = 7
  tags                    = local.tags
}}

resource "aws_kms_alias" "dst" {{
  provider      = aws.dst
  name          = "alias/{prefix}-crr"
  target_key_id = aws_kms_key.dst.key_id
}}

# ---- SNS: one topic per Region -------------------------------------------

resource "aws_sns_topic" "src" {{
  provider = aws.src
  name     = "{prefix}-replication-events"
  tags     = local.tags
}}

resource "aws_sns_topic_policy" "src" {{
  provider = aws.src
  arn      = aws_sns_topic.src.arn
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [
      {{
        Sid       = "AllowS3Publish"
        Effect    = "Allow"
        Principal = {{ Service = "s3.amazonaws.com" }}
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.src.arn
        Condition = {{ StringEquals = {{ "aws:SourceAccount" = local.account }} }}
      }},
      {{
        Sid       = "AllowCloudWatchPublish"
        Effect    = "Allow"
        Principal = {{ Service = "cloudwatch.amazonaws.com" }}
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.src.arn
      }},
    ]
  }})
}}

resource "aws_sns_topic" "dst" {{
  provider = aws.dst
  name     = "{prefix}-replication-events"
  tags     = local.tags
}}

resource "aws_sns_topic_policy" "dst" {{
  provider = aws.dst
  arn      = aws_sns_topic.dst.arn
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [
      {{
        Sid       = "AllowS3Publish"
        Effect    = "Allow"
        Principal = {{ Service = "s3.amazonaws.com" }}
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.dst.arn
        Condition = {{ StringEquals = {{ "aws:SourceAccount" = local.account }} }}
      }},
      {{
        Sid       = "AllowCloudWatchPublish"
        Effect    = "Allow"
        Principal = {{ Service = "cloudwatch.amazonaws.com" }}
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.dst.arn
      }},
    ]
  }})
}}

# ---- Buckets ---------------------------------------------------------------

resource "aws_s3_bucket" "src" {{
  for_each = local.pairs
  provider = aws.src
  bucket   = each.value.src
  tags     = merge(local.tags, {{ Role = "replication-source" }})
}}

resource "aws_s3_bucket" "dst" {{
  for_each = local.pairs
  provider = aws.dst
  bucket   = each.value.dst
  tags     = merge(local.tags, {{ Role = "replication-destination" }})
}}

resource "aws_s3_bucket_versioning" "src" {{
  for_each = local.pairs
  provider = aws.src
  bucket   = aws_s3_bucket.src[each.key].id
  versioning_configuration {{
    status = "Enabled"
  }}
}}

resource "aws_s3_bucket_versioning" "dst" {{
  for_each = local.pairs
  provider = aws.dst
  bucket   = aws_s3_bucket.dst[each.key].id
  versioning_configuration {{
    status = "Enabled"
  }}
}}

resource "aws_s3_bucket_server_side_encryption_configuration" "src" {{
  for_each = local.pairs
  provider = aws.src
  bucket   = aws_s3_bucket.src[each.key].id
  rule {{
    apply_server_side_encryption_by_default {{
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.src.arn
    }}
    bucket_key_enabled = true
  }}
}}

resource "aws_s3_bucket_server_side_encryption_configuration" "dst" {{
  for_each = local.pairs
  provider = aws.dst
  bucket   = aws_s3_bucket.dst[each.key].id
  rule {{
    apply_server_side_encryption_by_default {{
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.dst.arn
    }}
    bucket_key_enabled = true
  }}
}}

resource "aws_s3_bucket_public_access_block" "src" {{
  for_each                = local.pairs
  provider                = aws.src
  bucket                  = aws_s3_bucket.src[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}}

resource "aws_s3_bucket_public_access_block" "dst" {{
  for_each                = local.pairs
  provider                = aws.dst
  bucket                  = aws_s3_bucket.dst[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}}

resource "aws_s3_bucket_ownership_controls" "src" {{
  for_each = local.pairs
  provider = aws.src
  bucket   = aws_s3_bucket.src[each.key].id
  rule {{
    object_ownership = "BucketOwnerEnforced"
  }}
}}

resource "aws_s3_bucket_ownership_controls" "dst" {{
  for_each = local.pairs
  provider = aws.dst
  bucket   = aws_s3_bucket.dst[each.key].id
  rule {{
    object_ownership = "BucketOwnerEnforced"
  }}
}}

resource "aws_s3_bucket_policy" "src" {{
  for_each   = local.pairs
  provider   = aws.src
  bucket     = aws_s3_bucket.src[each.key].id
  depends_on = [aws_s3_bucket_public_access_block.src]
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.src[each.key].arn, "${{aws_s3_bucket.src[each.key].arn}}/*"]
      Condition = {{ Bool = {{ "aws:SecureTransport" = "false" }} }}
    }}]
  }})
}}

resource "aws_s3_bucket_policy" "dst" {{
  for_each   = local.pairs
  provider   = aws.dst
  bucket     = aws_s3_bucket.dst[each.key].id
  depends_on = [aws_s3_bucket_public_access_block.dst]
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.dst[each.key].arn, "${{aws_s3_bucket.dst[each.key].arn}}/*"]
      Condition = {{ Bool = {{ "aws:SecureTransport" = "false" }} }}
    }}]
  }})
}}

# ---- IAM: one replication role per source bucket -------------------------

resource "aws_iam_role" "replication" {{
  for_each = local.pairs
  provider = aws.src
  name     = "{prefix}-crr-${{each.key}}"
  tags     = local.tags
  assume_role_policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Effect    = "Allow"
      Principal = {{ Service = "s3.amazonaws.com" }}
      Action    = "sts:AssumeRole"
    }}]
  }})
}}

resource "aws_iam_role_policy" "replication" {{
  for_each = local.pairs
  provider = aws.src
  name     = "replication"
  role     = aws_iam_role.replication[each.key].id
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [
      {{
        Sid      = "SourceBucket"
        Effect   = "Allow"
        Action   = ["s3:GetReplicationConfiguration", "s3:ListBucket"]
        Resource = aws_s3_bucket.src[each.key].arn
      }},
      {{
        Sid      = "SourceObjects"
        Effect   = "Allow"
        Action = [
          "s3:GetObjectVersionForReplication",
          "s3:GetObjectVersionAcl",
          "s3:GetObjectVersionTagging",
        ]
        Resource = "${{aws_s3_bucket.src[each.key].arn}}/*"
      }},
      {{
        Sid      = "DestinationObjects"
        Effect   = "Allow"
        Action = [
          "s3:ReplicateObject",
          "s3:ReplicateDelete",
          "s3:ReplicateTags",
          "s3:ObjectOwnerOverrideToBucketOwner",
        ]
        Resource = "${{aws_s3_bucket.dst[each.key].arn}}/*"
      }},
      {{
        Sid      = "DecryptSource"
        Effect   = "Allow"
        Action   = "kms:Decrypt"
        Resource = aws_kms_key.src.arn
        Condition = {{
          StringLike = {{
            "kms:ViaService"                   = "s3.{SRC_REGION}.amazonaws.com"
            "kms:EncryptionContext:aws:s3:arn" = "${{aws_s3_bucket.src[each.key].arn}}/*"
          }}
        }}
      }},
      {{
        Sid      = "EncryptReplica"
        Effect   = "Allow"
        Action   = "kms:Encrypt"
        Resource = aws_kms_key.dst.arn
        Condition = {{
          StringLike = {{
            "kms:ViaService"                   = "s3.{DST_REGION}.amazonaws.com"
            "kms:EncryptionContext:aws:s3:arn" = "${{aws_s3_bucket.dst[each.key].arn}}/*"
          }}
        }}
      }},
    ]
  }})
}}

# ---- Replication rule ------------------------------------------------------

resource "aws_s3_bucket_replication_configuration" "crr" {{
  for_each   = local.pairs
  provider   = aws.src
  depends_on = [aws_s3_bucket_versioning.src, aws_s3_bucket_versioning.dst]
  bucket     = aws_s3_bucket_versioning.src[each.key].bucket
  role       = aws_iam_role.replication[each.key].arn

  rule {{
    id       = "crr-${{each.key}}"
    status   = "Enabled"
    priority = each.value.priority

    filter {{
      prefix = each.value.prefix
    }}

    delete_marker_replication {{
      status = "Enabled"
    }}

    source_selection_criteria {{
      sse_kms_encrypted_objects {{
        status = "Enabled"
      }}
    }}

    destination {{
      bucket        = aws_s3_bucket.dst[each.key].arn
      storage_class = "STANDARD"
      encryption_configuration {{
        replica_kms_key_id = aws_kms_key.dst.arn
      }}
      replication_time {{
        status = "Enabled"
        time {{
          minutes = 15
        }}
      }}
      metrics {{
        status = "Enabled"
        event_threshold {{
          minutes = 15
        }}
      }}
    }}
  }}
}}

# ---- Monitoring ------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "failed" {{
  for_each            = local.pairs
  provider            = aws.src
  alarm_name          = "{prefix}-crr-${{each.key}}-failed"
  alarm_description   = "Replication operations failed"
  namespace           = "AWS/S3"
  metric_name         = "OperationsFailedReplication"
  statistic           = "Sum"
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  period              = 300
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.src.arn]
  dimensions = {{
    SourceBucket      = aws_s3_bucket.src[each.key].id
    DestinationBucket = aws_s3_bucket.dst[each.key].id
    RuleId            = "crr-${{each.key}}"
  }}
  tags = local.tags
}}

resource "aws_cloudwatch_metric_alarm" "latency" {{
  for_each            = local.pairs
  provider            = aws.src
  alarm_name          = "{prefix}-crr-${{each.key}}-latency"
  alarm_description   = "Replication latency at or above 15 minutes"
  namespace           = "AWS/S3"
  metric_name         = "ReplicationLatency"
  statistic           = "Maximum"
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 900
  period              = 300
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.src.arn]
  dimensions = {{
    SourceBucket      = aws_s3_bucket.src[each.key].id
    DestinationBucket = aws_s3_bucket.dst[each.key].id
    RuleId            = "crr-${{each.key}}"
  }}
  tags = local.tags
}}

resource "aws_s3_bucket_notification" "src" {{
  for_each   = local.pairs
  provider   = aws.src
  bucket     = aws_s3_bucket.src[each.key].id
  depends_on = [aws_sns_topic_policy.src]
  topic {{
    id        = "replication-events"
    topic_arn = aws_sns_topic.src.arn
    events    = [{events}]
  }}
}}

resource "aws_cloudwatch_dashboard" "crr" {{
  provider       = aws.src
  dashboard_name = "{prefix}-replication"
  dashboard_body = jsonencode({{
    widgets = flatten([
      for k, p in local.pairs : [
        {{
          type   = "metric"
          width  = 12
          height = 6
          properties = {{
            title   = "${{p.src}} -> ${{p.dst}} latency"
            region  = "{SRC_REGION}"
            stat    = "Maximum"
            period  = 300
            metrics = [[
              "AWS/S3", "ReplicationLatency",
              "SourceBucket", p.src, "DestinationBucket", p.dst, "RuleId", "crr-${{k}}",
            ]]
          }}
        }},
        {{
          type   = "metric"
          width  = 12
          height = 6
          properties = {{
            title   = "${{p.src}} -> ${{p.dst}} failed operations"
            region  = "{SRC_REGION}"
            stat    = "Sum"
            period  = 300
            metrics = [[
              "AWS/S3", "OperationsFailedReplication",
              "SourceBucket", p.src, "DestinationBucket", p.dst, "RuleId", "crr-${{k}}",
            ]]
          }}
        }},
      ]
    ])
  }})
}}
"""


def _cli_config_text(mirror: Path) -> str:
    return f"""provider_installation {{
  filesystem_mirror {{
    path    = {_hcl_str(str(mirror))}
    include = ["registry.terraform.io/hashicorp/aws"]
  }}
  direct {{
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }}
}}
plugin_cache_dir = {_hcl_str(str(PLUGIN_CACHE))}
disable_checkpoint = true
"""


def terraform_workdir(
    n_pairs: int,
    endpoint: str,
    workdir: str | os.PathLike[str],
    prefix: str = "bench",
) -> Path:
    """Write the Terraform configuration for ``n_pairs`` CRR pairs into
    ``workdir`` (created; an old ``main.tf`` and state are replaced)."""
    wd = Path(workdir).resolve()
    wd.mkdir(parents=True, exist_ok=True)
    mirror = _mirror()
    if mirror is None:
        raise RuntimeError("no filesystem mirror of registry.terraform.io/hashicorp/aws found")
    for stale in ("terraform.tfstate", "terraform.tfstate.backup"):
        (wd / stale).unlink(missing_ok=True)
    (wd / "main.tf").write_text(_main_tf(n_pairs, endpoint, prefix))
    (wd / "terraformrc").write_text(_cli_config_text(mirror))
    return wd


def _tf_env(workdir: Path) -> dict[str, str]:
    PLUGIN_CACHE.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(
        TF_CLI_CONFIG_FILE=str(workdir.resolve() / "terraformrc"),
        TF_PLUGIN_CACHE_DIR=str(PLUGIN_CACHE),
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        CHECKPOINT_DISABLE="1",
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_EC2_METADATA_DISABLED="true",
    )
    # Never let ambient settings steer the provider elsewhere.
    for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "TF_LOG"):
        env.pop(k, None)
    return env


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def terraform_init(workdir: str | os.PathLike[str]) -> Measurement:
    wd = Path(workdir)
    s, rss, rc, out = run_measured(
        ["terraform", "init", "-input=false", "-no-color", "-backend=false"],
        env=_tf_env(wd),
        cwd=wd,
    )
    return Measurement(s, rss, rc == 0, "initialised" if rc == 0 else _tail(out))


_ERROR_RE = re.compile(r"^Error: (.+)$", re.M)
# A Create whose first attempt MiniStack processed but whose response the
# provider never got: its SDK retry then meets the resource it just made.
_FLAKE_RE = re.compile(
    r"EntityAlreadyExists|AlreadyExistsException|BucketAlreadyOwnedByYou|already exists"
)
FLAKE_PREFIX = "MiniStack connection flake (Create retried, found AlreadyExists): "
_APPLY_RE = re.compile(r"Apply complete! Resources: (\d+) added, (\d+) changed, (\d+) destroyed")
_PLAN_RE = re.compile(r"Plan: (\d+) to add, (\d+) to change, (\d+) to destroy")
_CHANGE_RE = re.compile(r"^\s*# (\S+) (will be|must be) ([^\n]+)$", re.M)


def terraform_apply(workdir: str | os.PathLike[str]) -> Measurement:
    wd = Path(workdir)
    s, rss, rc, out = run_measured(
        ["terraform", "apply", "-auto-approve", "-input=false", "-no-color", "-lock=false"],
        env=_tf_env(wd),
        cwd=wd,
    )
    (wd / "apply.log").write_text(out)
    m = _APPLY_RE.search(out)
    if rc == 0 and m:
        detail = f"{m.group(1)} added, {m.group(2)} changed, {m.group(3)} destroyed"
    elif rc == 0:
        detail = "no changes" if "No changes" in out else _tail(out, 3)
    else:
        errors = _ERROR_RE.findall(out)
        detail = "; ".join(errors[:5]) if errors else _tail(out)
        if errors and all(_FLAKE_RE.search(e) for e in errors):
            detail = FLAKE_PREFIX + detail
    return Measurement(s, rss, rc == 0, detail)


def is_flake(m: Measurement) -> bool:
    """True when a failed apply failed only with the MiniStack connection flake
    (see the module docstring): worth redoing on a fresh server."""
    return not m.ok and m.detail.startswith(FLAKE_PREFIX)


def _is_known_drift(address: str, action: str) -> bool:
    return address.startswith("aws_cloudwatch_metric_alarm.") and action == "updated in-place"


def terraform_plan(workdir: str | os.PathLike[str]) -> Measurement:
    """``terraform plan -refresh=true -input=false -lock=false -detailed-exitcode``.

    ``ok`` is True when the plan ran (exit 0 or 2).  ``detail`` is "no
    changes", or the summary; ``changes`` lists "<address> <action>";
    ``only_known_drift`` is True when every change is an alarm "updated
    in-place", the MiniStack read-back drift described in the docstring."""
    wd = Path(workdir)
    s, rss, rc, out = run_measured(
        [
            "terraform",
            "plan",
            "-refresh=true",
            "-input=false",
            "-lock=false",
            "-detailed-exitcode",
            "-no-color",
        ],
        env=_tf_env(wd),
        cwd=wd,
    )
    (wd / "plan.log").write_text(out)
    if rc == 0:
        return Measurement(s, rss, True, "no changes", (), True)
    if rc != 2:
        return Measurement(s, rss, False, _tail(out))
    found = _CHANGE_RE.findall(out)
    changes = tuple(f"{a} {w}" for a, _v, w in found)
    known = bool(found) and all(_is_known_drift(a, w) for a, _v, w in found)
    m = _PLAN_RE.search(out)
    head = (
        f"{m.group(1)} to add, {m.group(2)} to change, {m.group(3)} to destroy" if m else "changes"
    )
    if known:
        detail = f"{head}: only the MiniStack alarm read-back drift ({len(found)} alarms)"
    else:
        detail = head + ("; " + "; ".join(changes[:20]) if changes else "")
        if len(changes) > 20:
            detail += f"; ... ({len(changes)} in all)"
    return Measurement(s, rss, True, detail, changes, known)


@dataclass
class TerraformRun:
    """One side-by-side Terraform measurement on its own fresh MiniStack."""

    n_pairs: int
    resources: int
    init: Measurement
    apply: Measurement
    plan: Measurement | None
    attempts: int  # 1 unless a MiniStack connection flake forced a redo


def terraform_run(
    n_pairs: int,
    workdir: str | os.PathLike[str] | None = None,
    *,
    plan: bool = True,
    attempts: int = 3,
    prefix: str = "bench",
) -> TerraformRun:
    """Start a fresh MiniStack, write the configuration, ``init``, ``apply``
    and (``plan=True``) ``plan``; stop the server.

    If ``apply`` fails only with the MiniStack connection flake
    (``is_flake``), the whole run is redone on a new server, up to
    ``attempts`` times; ``TerraformRun.attempts`` says how many it took and
    only the last, clean run's figures are returned.
    """
    wd = Path(workdir) if workdir is not None else WORK_DIR / f"tf-{n_pairs}"
    for attempt in range(1, max(1, attempts) + 1):
        with ministack() as ep:
            terraform_workdir(n_pairs, ep, wd, prefix=prefix)
            mi = terraform_init(wd)
            if not mi.ok:
                return TerraformRun(
                    n_pairs,
                    terraform_resource_count(n_pairs),
                    mi,
                    Measurement(0.0, 0, False, "init failed"),
                    None,
                    attempt,
                )
            ma = terraform_apply(wd)
            if is_flake(ma) and attempt < attempts:
                continue
            mp = terraform_plan(wd) if plan and ma.ok else None
            return TerraformRun(n_pairs, terraform_resource_count(n_pairs), mi, ma, mp, attempt)
    raise AssertionError("unreachable")


def aws_cli_run(workdir: str | os.PathLike[str] | None = None) -> Measurement:
    """``aws_cli_sequence`` on its own fresh MiniStack."""
    wd = Path(workdir) if workdir is not None else WORK_DIR / "aws-cli"
    if wd.exists():
        shutil.rmtree(wd)
    with ministack() as ep:
        return aws_cli_sequence(ep, wd)


# --------------------------------------------------------------------------
# AWS CLI, one pair
# --------------------------------------------------------------------------


def aws_cli_available() -> bool:
    return shutil.which("aws") is not None


def _cli_env(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
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
    def __init__(self, endpoint: str, workdir: Path) -> None:
        self.endpoint = endpoint
        self.workdir = workdir
        self.env = _cli_env(workdir)
        self.seconds = 0.0
        self.peak = 0
        self.calls = 0

    def __call__(self, region: str, *args: str) -> dict:
        cmd = [
            "aws",
            "--endpoint-url",
            self.endpoint,
            "--region",
            region,
            "--output",
            "json",
            *args,
        ]
        s, rss, rc, out = run_measured(cmd, env=self.env, cwd=self.workdir)
        self.seconds += s
        self.peak = max(self.peak, rss)
        self.calls += 1
        if rc != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({rc}): {_tail(out, 8)}")
        out = out.strip()
        if not out:
            return {}
        try:
            return json.loads(out)
        except json.JSONDecodeError:
            return {"_raw": out}


def _j(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))


def aws_cli_sequence(
    endpoint: str, workdir: str | os.PathLike[str], prefix: str = "clibench"
) -> Measurement:
    """One CRR pair set up with separate ``aws`` CLI invocations (29 invocations).

    Timing is the sum of each invocation's wall time (the Python glue in
    between is not counted); peak RSS is the maximum over the invocations.
    """
    wd = Path(workdir).resolve()
    wd.mkdir(parents=True, exist_ok=True)
    (wd / "aws-config").write_text("")
    (wd / "aws-credentials").write_text("")
    aws = _CliRun(endpoint, wd)
    src, dst = f"{prefix}-src-000", f"{prefix}-dst-000"
    rule_id = "crr-000"
    tags = [{"Key": "Project", "Value": prefix}, {"Key": "ManagedBy", "Value": "aws-cli"}]
    try:
        keys: dict[str, str] = {}
        for region, role in ((SRC_REGION, "source"), (DST_REGION, "replica")):
            k = aws(
                region,
                "kms",
                "create-key",
                "--description",
                f"{prefix} replication {role} key",
                "--tags",
                _j([{"TagKey": t["Key"], "TagValue": t["Value"]} for t in tags]),
            )
            keys[region] = k["KeyMetadata"]["Arn"]
        for region in (SRC_REGION, DST_REGION):
            aws(
                region,
                "kms",
                "create-alias",
                "--alias-name",
                f"alias/{prefix}-crr",
                "--target-key-id",
                keys[region],
            )
        for region in (SRC_REGION, DST_REGION):
            aws(region, "kms", "enable-key-rotation", "--key-id", keys[region])

        buckets = (
            (src, SRC_REGION, "replication-source"),
            (dst, DST_REGION, "replication-destination"),
        )
        for b, region, _ in buckets:
            args = ["s3api", "create-bucket", "--bucket", b]
            if region != "us-east-1":
                args += ["--create-bucket-configuration", _j({"LocationConstraint": region})]
            aws(region, *args)
        for b, region, _ in buckets:
            aws(
                region,
                "s3api",
                "put-bucket-versioning",
                "--bucket",
                b,
                "--versioning-configuration",
                _j({"Status": "Enabled"}),
            )
        for b, region, _ in buckets:
            aws(
                region,
                "s3api",
                "put-bucket-encryption",
                "--bucket",
                b,
                "--server-side-encryption-configuration",
                _j(
                    {
                        "Rules": [
                            {
                                "ApplyServerSideEncryptionByDefault": {
                                    "SSEAlgorithm": "aws:kms",
                                    "KMSMasterKeyID": keys[region],
                                },
                                "BucketKeyEnabled": True,
                            }
                        ]
                    }
                ),
            )
        for b, region, _ in buckets:
            aws(
                region,
                "s3api",
                "put-public-access-block",
                "--bucket",
                b,
                "--public-access-block-configuration",
                _j(
                    {
                        "BlockPublicAcls": True,
                        "IgnorePublicAcls": True,
                        "BlockPublicPolicy": True,
                        "RestrictPublicBuckets": True,
                    }
                ),
            )
        for b, region, _ in buckets:
            aws(
                region,
                "s3api",
                "put-bucket-ownership-controls",
                "--bucket",
                b,
                "--ownership-controls",
                _j({"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}),
            )
        for b, region, _ in buckets:
            arn = f"arn:aws:s3:::{b}"
            aws(
                region,
                "s3api",
                "put-bucket-policy",
                "--bucket",
                b,
                "--policy",
                _j(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "DenyInsecureTransport",
                                "Effect": "Deny",
                                "Principal": "*",
                                "Action": "s3:*",
                                "Resource": [arn, arn + "/*"],
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        ],
                    }
                ),
            )
        for b, region, role in buckets:
            aws(
                region,
                "s3api",
                "put-bucket-tagging",
                "--bucket",
                b,
                "--tagging",
                _j({"TagSet": tags + [{"Key": "Role", "Value": role}]}),
            )

        role_name = f"{prefix}-crr-000"
        r = aws(
            SRC_REGION,
            "iam",
            "create-role",
            "--role-name",
            role_name,
            "--assume-role-policy-document",
            _j(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "s3.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
            "--tags",
            _j(tags),
        )
        role_arn = r["Role"]["Arn"]
        src_arn, dst_arn = f"arn:aws:s3:::{src}", f"arn:aws:s3:::{dst}"
        aws(
            SRC_REGION,
            "iam",
            "put-role-policy",
            "--role-name",
            role_name,
            "--policy-name",
            "replication",
            "--policy-document",
            _j(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "SourceBucket",
                            "Effect": "Allow",
                            "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                            "Resource": src_arn,
                        },
                        {
                            "Sid": "SourceObjects",
                            "Effect": "Allow",
                            "Action": [
                                "s3:GetObjectVersionForReplication",
                                "s3:GetObjectVersionAcl",
                                "s3:GetObjectVersionTagging",
                            ],
                            "Resource": src_arn + "/*",
                        },
                        {
                            "Sid": "DestinationObjects",
                            "Effect": "Allow",
                            "Action": [
                                "s3:ReplicateObject",
                                "s3:ReplicateDelete",
                                "s3:ReplicateTags",
                                "s3:ObjectOwnerOverrideToBucketOwner",
                            ],
                            "Resource": dst_arn + "/*",
                        },
                        {
                            "Sid": "DecryptSource",
                            "Effect": "Allow",
                            "Action": "kms:Decrypt",
                            "Resource": keys[SRC_REGION],
                            "Condition": {
                                "StringLike": {
                                    "kms:ViaService": f"s3.{SRC_REGION}.amazonaws.com",
                                    "kms:EncryptionContext:aws:s3:arn": src_arn + "/*",
                                }
                            },
                        },
                        {
                            "Sid": "EncryptReplica",
                            "Effect": "Allow",
                            "Action": "kms:Encrypt",
                            "Resource": keys[DST_REGION],
                            "Condition": {
                                "StringLike": {
                                    "kms:ViaService": f"s3.{DST_REGION}.amazonaws.com",
                                    "kms:EncryptionContext:aws:s3:arn": dst_arn + "/*",
                                }
                            },
                        },
                    ],
                }
            ),
        )
        aws(
            SRC_REGION,
            "s3api",
            "put-bucket-replication",
            "--bucket",
            src,
            "--replication-configuration",
            _j(
                {
                    "Role": role_arn,
                    "Rules": [
                        {
                            "ID": rule_id,
                            "Status": "Enabled",
                            "Priority": 1,
                            "Filter": {"Prefix": "data/000/"},
                            "DeleteMarkerReplication": {"Status": "Enabled"},
                            "SourceSelectionCriteria": {
                                "SseKmsEncryptedObjects": {"Status": "Enabled"}
                            },
                            "Destination": {
                                "Bucket": dst_arn,
                                "StorageClass": "STANDARD",
                                "EncryptionConfiguration": {"ReplicaKmsKeyID": keys[DST_REGION]},
                                "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
                                "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}},
                            },
                        }
                    ],
                }
            ),
        )

        t = aws(
            SRC_REGION,
            "sns",
            "create-topic",
            "--name",
            f"{prefix}-replication-events",
            "--tags",
            _j(tags),
        )
        topic = t["TopicArn"]
        aws(
            SRC_REGION,
            "sns",
            "set-topic-attributes",
            "--topic-arn",
            topic,
            "--attribute-name",
            "Policy",
            "--attribute-value",
            _j(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "AllowS3Publish",
                            "Effect": "Allow",
                            "Principal": {"Service": "s3.amazonaws.com"},
                            "Action": "sns:Publish",
                            "Resource": topic,
                            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
                        },
                        {
                            "Sid": "AllowCloudWatchPublish",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudwatch.amazonaws.com"},
                            "Action": "sns:Publish",
                            "Resource": topic,
                        },
                    ],
                }
            ),
        )
        dims = _j(
            [
                {"Name": "SourceBucket", "Value": src},
                {"Name": "DestinationBucket", "Value": dst},
                {"Name": "RuleId", "Value": rule_id},
            ]
        )
        for name, metric, stat, op, thr in (
            ("failed", "OperationsFailedReplication", "Sum", "GreaterThanThreshold", "0"),
            ("latency", "ReplicationLatency", "Maximum", "GreaterThanOrEqualToThreshold", "900"),
        ):
            aws(
                SRC_REGION,
                "cloudwatch",
                "put-metric-alarm",
                "--alarm-name",
                f"{prefix}-{rule_id}-{name}",
                "--namespace",
                "AWS/S3",
                "--metric-name",
                metric,
                "--statistic",
                stat,
                "--comparison-operator",
                op,
                "--threshold",
                thr,
                "--period",
                "300",
                "--evaluation-periods",
                "1",
                "--treat-missing-data",
                "notBreaching",
                "--alarm-actions",
                topic,
                "--dimensions",
                dims,
            )
        aws(
            SRC_REGION,
            "s3api",
            "put-bucket-notification-configuration",
            "--bucket",
            src,
            "--notification-configuration",
            _j(
                {
                    "TopicConfigurations": [
                        {
                            "Id": "replication-events",
                            "TopicArn": topic,
                            "Events": list(REPLICATION_EVENTS),
                        }
                    ]
                }
            ),
        )
        widget_props = dict(region=SRC_REGION, period=300)
        aws(
            SRC_REGION,
            "cloudwatch",
            "put-dashboard",
            "--dashboard-name",
            f"{prefix}-replication",
            "--dashboard-body",
            _j(
                {
                    "widgets": [
                        {
                            "type": "metric",
                            "width": 12,
                            "height": 6,
                            "properties": {
                                **widget_props,
                                "title": f"{src} -> {dst} latency",
                                "stat": "Maximum",
                                "metrics": [
                                    [
                                        "AWS/S3",
                                        "ReplicationLatency",
                                        "SourceBucket",
                                        src,
                                        "DestinationBucket",
                                        dst,
                                        "RuleId",
                                        rule_id,
                                    ]
                                ],
                            },
                        },
                        {
                            "type": "metric",
                            "width": 12,
                            "height": 6,
                            "properties": {
                                **widget_props,
                                "title": f"{src} -> {dst} failed operations",
                                "stat": "Sum",
                                "metrics": [
                                    [
                                        "AWS/S3",
                                        "OperationsFailedReplication",
                                        "SourceBucket",
                                        src,
                                        "DestinationBucket",
                                        dst,
                                        "RuleId",
                                        rule_id,
                                    ]
                                ],
                            },
                        },
                    ]
                }
            ),
        )
    except RuntimeError as e:
        return Measurement(aws.seconds, aws.peak, False, f"after {aws.calls} calls: {e}")
    return Measurement(aws.seconds, aws.peak, True, f"{aws.calls} invocations")


# --------------------------------------------------------------------------
# Versions (for the report)
# --------------------------------------------------------------------------


def versions() -> dict[str, str]:
    out: dict[str, str] = {}

    def first_line(cmd: Sequence[str]) -> str:
        try:
            cp = subprocess.run(
                list(cmd),
                capture_output=True,
                text=True,
                timeout=30,
                env={**os.environ, "CHECKPOINT_DISABLE": "1"},
            )
        except (OSError, subprocess.TimeoutExpired):
            return "absent"
        text = (cp.stdout or cp.stderr).strip()
        return text.splitlines()[0] if text else "unknown"

    if shutil.which("terraform"):
        out["terraform"] = first_line(["terraform", "version"])
        m = _mirror()
        if m:
            provs = sorted(p.name for p in (m / "registry.terraform.io/hashicorp/aws").iterdir())
            out["terraform-provider-aws"] = ", ".join(provs)
    if shutil.which("aws"):
        out["aws-cli"] = first_line(["aws", "--version"])
    return out


# --------------------------------------------------------------------------
# Self-check
# --------------------------------------------------------------------------


def _fmt(label: str, m: Measurement) -> str:
    return (
        f"{label:<34} {m.seconds:8.2f} s  {m.peak_rss_mib:7.1f} MiB  "
        f"{'ok ' if m.ok else 'FAIL'}  {m.detail}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    import argparse
    import time

    ap = argparse.ArgumentParser(description="Run the peer side of the benchmark.")
    ap.add_argument("sizes", nargs="*", type=int, default=[1, 10])
    ap.add_argument("--no-cli", action="store_true")
    args = ap.parse_args(argv)

    for k, v in versions().items():
        print(f"{k}: {v}")
    ok = True
    if not args.no_cli and aws_cli_available():
        m = aws_cli_run()
        print(_fmt("aws cli, N=1", m))
        ok &= m.ok
    if not terraform_available():
        print("terraform: not available")
        return 0 if ok else 1
    for n in args.sizes:
        t0 = time.perf_counter()
        run = terraform_run(n)
        print(_fmt(f"terraform init, N={n}", run.init))
        print(_fmt(f"terraform apply, N={n}", run.apply))
        ok &= run.apply.ok
        if run.plan is not None:
            print(_fmt(f"terraform plan, N={n}", run.plan))
            ok &= run.plan.ok
        print(
            f"  (N={n}: {run.resources} resources, {run.attempts} attempt(s), "
            f"{time.perf_counter() - t0:.1f} s in all)"
        )
    if QUIRKS:
        print("quirks:")
        for q in QUIRKS:
            print(" -", q)
    return 0 if ok else 1


def _ensure(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


if __name__ == "__main__":
    raise SystemExit(main())
