"""Cross-Region Replication for the shop's S3 buckets: see README.md."""

from s3replication.cli import script

if __name__ == "__main__":
    script("crr")
