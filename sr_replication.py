"""Same-Region Replication for the shop's S3 buckets: see README.md."""

from s3replication.about import require_boto3
from s3replication.cli import script

if __name__ == "__main__":
    require_boto3("sr_replication.py")  # without boto3: one line that says how
    script("srr")
