"""What the tool manages: KMS keys, buckets, roles and policies, replication rules."""
