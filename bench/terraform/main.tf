# The benchmark's Terraform side: N CRR pairs (9 + 18 x N resources), driven by variables.tf.
# Two provider aliases (aws.src, aws.dst) point every service at the MiniStack URL; the
# path-style and skip_* settings are what an emulator needs (bench/emulator_quirks.py).

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

provider "aws" {
  alias                       = "src"
  region                      = var.src_region
  access_key                  = "test"
  secret_key                  = "test"
  s3_use_path_style           = true
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {
    s3         = var.endpoint
    iam        = var.endpoint
    kms        = var.endpoint
    sts        = var.endpoint
    sns        = var.endpoint
    cloudwatch = var.endpoint
  }
}

provider "aws" {
  alias                       = "dst"
  region                      = var.dst_region
  access_key                  = "test"
  secret_key                  = "test"
  s3_use_path_style           = true
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {
    s3         = var.endpoint
    iam        = var.endpoint
    kms        = var.endpoint
    sts        = var.endpoint
    sns        = var.endpoint
    cloudwatch = var.endpoint
  }
}

locals {
  account = var.account
  tags = {
    Project   = var.prefix
    ManagedBy = "terraform"
  }
  pairs = var.pairs
}

# ---- KMS: one key per Region, shared by all pairs -------------------------

resource "aws_kms_key" "src" {
  provider                = aws.src
  description             = "${var.prefix} replication source key"
  enable_key_rotation     = true
  deletion_window_in_days = 7
  tags                    = local.tags
}

resource "aws_kms_alias" "src" {
  provider      = aws.src
  name          = "alias/${var.prefix}-crr"
  target_key_id = aws_kms_key.src.key_id
}

resource "aws_kms_key" "dst" {
  provider                = aws.dst
  description             = "${var.prefix} replication replica key"
  enable_key_rotation     = true
  deletion_window_in_days = 7
  tags                    = local.tags
}

resource "aws_kms_alias" "dst" {
  provider      = aws.dst
  name          = "alias/${var.prefix}-crr"
  target_key_id = aws_kms_key.dst.key_id
}

# ---- SNS: one topic per Region -------------------------------------------

resource "aws_sns_topic" "src" {
  provider = aws.src
  name     = "${var.prefix}-replication-events"
  tags     = local.tags
}

resource "aws_sns_topic_policy" "src" {
  provider = aws.src
  arn      = aws_sns_topic.src.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AllowS3Publish"
        Effect    = "Allow"
        Principal = { Service = "s3.amazonaws.com" }
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.src.arn
        Condition = { StringEquals = { "aws:SourceAccount" = local.account } }
      },
      {
        Sid       = "AllowCloudWatchPublish"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.src.arn
      },
    ]
  })
}

resource "aws_sns_topic" "dst" {
  provider = aws.dst
  name     = "${var.prefix}-replication-events"
  tags     = local.tags
}

resource "aws_sns_topic_policy" "dst" {
  provider = aws.dst
  arn      = aws_sns_topic.dst.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AllowS3Publish"
        Effect    = "Allow"
        Principal = { Service = "s3.amazonaws.com" }
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.dst.arn
        Condition = { StringEquals = { "aws:SourceAccount" = local.account } }
      },
      {
        Sid       = "AllowCloudWatchPublish"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.dst.arn
      },
    ]
  })
}

# ---- Buckets ---------------------------------------------------------------

resource "aws_s3_bucket" "src" {
  for_each = local.pairs
  provider = aws.src
  bucket   = each.value.src
  tags     = merge(local.tags, { Role = "replication-source" })
}

resource "aws_s3_bucket" "dst" {
  for_each = local.pairs
  provider = aws.dst
  bucket   = each.value.dst
  tags     = merge(local.tags, { Role = "replication-destination" })
}

resource "aws_s3_bucket_versioning" "src" {
  for_each = local.pairs
  provider = aws.src
  bucket   = aws_s3_bucket.src[each.key].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_versioning" "dst" {
  for_each = local.pairs
  provider = aws.dst
  bucket   = aws_s3_bucket.dst[each.key].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "src" {
  for_each = local.pairs
  provider = aws.src
  bucket   = aws_s3_bucket.src[each.key].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.src.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "dst" {
  for_each = local.pairs
  provider = aws.dst
  bucket   = aws_s3_bucket.dst[each.key].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.dst.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "src" {
  for_each                = local.pairs
  provider                = aws.src
  bucket                  = aws_s3_bucket.src[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_public_access_block" "dst" {
  for_each                = local.pairs
  provider                = aws.dst
  bucket                  = aws_s3_bucket.dst[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "src" {
  for_each = local.pairs
  provider = aws.src
  bucket   = aws_s3_bucket.src[each.key].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_ownership_controls" "dst" {
  for_each = local.pairs
  provider = aws.dst
  bucket   = aws_s3_bucket.dst[each.key].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_policy" "src" {
  for_each   = local.pairs
  provider   = aws.src
  bucket     = aws_s3_bucket.src[each.key].id
  depends_on = [aws_s3_bucket_public_access_block.src]
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.src[each.key].arn, "${aws_s3_bucket.src[each.key].arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
}

resource "aws_s3_bucket_policy" "dst" {
  for_each   = local.pairs
  provider   = aws.dst
  bucket     = aws_s3_bucket.dst[each.key].id
  depends_on = [aws_s3_bucket_public_access_block.dst]
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.dst[each.key].arn, "${aws_s3_bucket.dst[each.key].arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
}

# ---- IAM: one replication role per source bucket -------------------------

resource "aws_iam_role" "replication" {
  for_each = local.pairs
  provider = aws.src
  name     = "${var.prefix}-crr-${each.key}"
  tags     = local.tags
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "s3.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "replication" {
  for_each = local.pairs
  provider = aws.src
  name     = "replication"
  role     = aws_iam_role.replication[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "SourceBucket"
        Effect   = "Allow"
        Action   = ["s3:GetReplicationConfiguration", "s3:ListBucket"]
        Resource = aws_s3_bucket.src[each.key].arn
      },
      {
        Sid    = "SourceObjects"
        Effect = "Allow"
        Action = [
          "s3:GetObjectVersionForReplication",
          "s3:GetObjectVersionAcl",
          "s3:GetObjectVersionTagging",
        ]
        Resource = "${aws_s3_bucket.src[each.key].arn}/*"
      },
      {
        Sid    = "DestinationObjects"
        Effect = "Allow"
        Action = [
          "s3:ReplicateObject",
          "s3:ReplicateDelete",
          "s3:ReplicateTags",
          "s3:ObjectOwnerOverrideToBucketOwner",
        ]
        Resource = "${aws_s3_bucket.dst[each.key].arn}/*"
      },
      {
        Sid      = "DecryptSource"
        Effect   = "Allow"
        Action   = "kms:Decrypt"
        Resource = aws_kms_key.src.arn
        Condition = {
          StringLike = {
            "kms:ViaService"                   = "s3.${var.src_region}.amazonaws.com"
            "kms:EncryptionContext:aws:s3:arn" = "${aws_s3_bucket.src[each.key].arn}/*"
          }
        }
      },
      {
        Sid      = "EncryptReplica"
        Effect   = "Allow"
        Action   = "kms:Encrypt"
        Resource = aws_kms_key.dst.arn
        Condition = {
          StringLike = {
            "kms:ViaService"                   = "s3.${var.dst_region}.amazonaws.com"
            "kms:EncryptionContext:aws:s3:arn" = "${aws_s3_bucket.dst[each.key].arn}/*"
          }
        }
      },
    ]
  })
}

# ---- Replication rule ------------------------------------------------------

resource "aws_s3_bucket_replication_configuration" "crr" {
  for_each   = local.pairs
  provider   = aws.src
  depends_on = [aws_s3_bucket_versioning.src, aws_s3_bucket_versioning.dst]
  bucket     = aws_s3_bucket_versioning.src[each.key].bucket
  role       = aws_iam_role.replication[each.key].arn

  rule {
    id       = "crr-${each.key}"
    status   = "Enabled"
    priority = each.value.priority

    filter {
      prefix = each.value.prefix
    }

    delete_marker_replication {
      status = "Enabled"
    }

    source_selection_criteria {
      sse_kms_encrypted_objects {
        status = "Enabled"
      }
    }

    destination {
      bucket        = aws_s3_bucket.dst[each.key].arn
      storage_class = "STANDARD"
      encryption_configuration {
        replica_kms_key_id = aws_kms_key.dst.arn
      }
      replication_time {
        status = "Enabled"
        time {
          minutes = 15
        }
      }
      metrics {
        status = "Enabled"
        event_threshold {
          minutes = 15
        }
      }
    }
  }
}

# ---- Monitoring ------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "failed" {
  for_each            = local.pairs
  provider            = aws.src
  alarm_name          = "${var.prefix}-crr-${each.key}-failed"
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
  dimensions = {
    SourceBucket      = aws_s3_bucket.src[each.key].id
    DestinationBucket = aws_s3_bucket.dst[each.key].id
    RuleId            = "crr-${each.key}"
  }
  tags = local.tags
}

resource "aws_cloudwatch_metric_alarm" "latency" {
  for_each            = local.pairs
  provider            = aws.src
  alarm_name          = "${var.prefix}-crr-${each.key}-latency"
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
  dimensions = {
    SourceBucket      = aws_s3_bucket.src[each.key].id
    DestinationBucket = aws_s3_bucket.dst[each.key].id
    RuleId            = "crr-${each.key}"
  }
  tags = local.tags
}

resource "aws_s3_bucket_notification" "src" {
  for_each   = local.pairs
  provider   = aws.src
  bucket     = aws_s3_bucket.src[each.key].id
  depends_on = [aws_sns_topic_policy.src]
  topic {
    id        = "replication-events"
    topic_arn = aws_sns_topic.src.arn
    events    = var.replication_events
  }
}

resource "aws_cloudwatch_dashboard" "crr" {
  provider       = aws.src
  dashboard_name = "${var.prefix}-replication"
  dashboard_body = jsonencode({
    widgets = flatten([
      for k, p in local.pairs : [
        {
          type   = "metric"
          width  = 12
          height = 6
          properties = {
            title  = "${p.src} -> ${p.dst} latency"
            region = var.src_region
            stat   = "Maximum"
            period = 300
            metrics = [[
              "AWS/S3", "ReplicationLatency",
              "SourceBucket", p.src, "DestinationBucket", p.dst, "RuleId", "crr-${k}",
            ]]
          }
        },
        {
          type   = "metric"
          width  = 12
          height = 6
          properties = {
            title  = "${p.src} -> ${p.dst} failed operations"
            region = var.src_region
            stat   = "Sum"
            period = 300
            metrics = [[
              "AWS/S3", "OperationsFailedReplication",
              "SourceBucket", p.src, "DestinationBucket", p.dst, "RuleId", "crr-${k}",
            ]]
          }
        },
      ]
    ])
  })
}
