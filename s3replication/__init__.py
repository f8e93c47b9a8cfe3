"""Set up and keep S3 Cross-Region and Same-Region Replication right."""
