"""ShopCo's replication settings: which buckets exist, and what replicates where.

Plain Python constants, read by `cr_replication.py` (CRR_RULES) and `sr_replication.py`
(SRR_RULES). Every setting is checked before anything in AWS changes; a mistake is
reported with the setting's name and the scripts exit with status 2.
"""

# ACCOUNTS (optional; this shop keeps everything in one account): other AWS accounts that a
# rule's destination bucket may live in, by a name of your choice, e.g.
#     ACCOUNTS = {"backup": {"account_id": "222222222222",
#                            "role_arn": "arn:aws:iam::222222222222:role/NAME"}}
# The scripts reach such an account by assuming role_arn with your credentials, or with a
# named AWS profile given as "profile": "NAME" instead of role_arn. A bucket there says
# "account": "backup" (see BUCKETS). A worked example, with what the role must allow:
# config/examples/backup_account.py.

# Tags put on everything the scripts create (buckets, KMS keys, IAM roles), merged into
# any tags already there. Keys and values are str; keys must not begin with "aws:".
TAGS = {"project": "shopco", "owner": "platform-team"}

# Every bucket the scripts manage, by name (S3 bucket names are global: pick your own).
#   region            (required) the AWS Region the bucket lives in.
#   kms_key           "alias/NAME": SSE-KMS with that key, created in the bucket's Region
#                     if missing; or a key ARN in the bucket's Region; or None for SSE-S3.
#                     A rule from a bucket with a kms_key needs a destination with one too.
#   replication_role  (source buckets only, optional) the IAM role S3 uses to replicate;
#                     default "<bucket>-replication". Shared by CRR and SRR rules.
#   account           (destination buckets only, optional) a name from ACCOUNTS: the bucket
#                     lives in that AWS account; default: the account of your credentials.
#   object_lock       (optional) {"mode": "COMPLIANCE" or "GOVERNANCE", "days": N} (or
#                     "years": N): S3 Object Lock with that default retention, for a vault
#                     of replicas; cannot be turned off once on. Rules into such a bucket
#                     default to delete_markers False.
BUCKETS = {
    # Catalog, orders and customer data, primary copy.
    "shopco-data-use1": {"region": "us-east-1", "kms_key": "alias/shopco-use1"},
    # Disaster-recovery copy in another Region (CRR).
    "shopco-data-usw2": {"region": "us-west-2", "kms_key": "alias/shopco-usw2"},
    # Same-Region backup of customer data (SRR), e.g. for a separate retention policy.
    "shopco-data-use1-backup": {"region": "us-east-1", "kms_key": "alias/shopco-use1"},
    # Product images: nothing secret, so SSE-S3 rather than KMS (no KMS request costs).
    "shopco-assets-use1": {
        "region": "us-east-1",
        "kms_key": None,
        "replication_role": "shopco-assets-replicator",
    },
    # Product images close to European customers.
    "shopco-assets-euw1": {"region": "eu-west-1", "kms_key": None},
    # Payment transaction logs.
    "shopco-logs-use1": {"region": "us-east-1", "kms_key": "alias/shopco-use1"},
    # Their archive copy in the same Region (SRR).
    "shopco-logs-use1-archive": {"region": "us-east-1", "kms_key": "alias/shopco-use1"},
}

# Replication rules. Each rule:
#   id              (required) unique across CRR_RULES and SRR_RULES; the S3 rule ID.
#   source, destination  (required) names from BUCKETS.
#   prefix          only keys starting with it replicate; default "" (every object).
#   tags            only objects carrying all these tags replicate; default none.
#   priority        int, unique among one source bucket's rules; the higher wins where
#                   rules overlap. Default: keep the rule's current priority, or take the
#                   lowest one free on the bucket.
#   rtc             Replication Time Control (15-minute SLA, extra cost); default True.
#   delete_markers  replicate delete markers; default True, or False with tags (S3 does
#                   not replicate delete markers for tag-filtered rules, so True is an error),
#                   or False into a bucket with object_lock (Object Lock does not protect them).
#   storage_class   of the replicas: STANDARD (default), STANDARD_IA, ONEZONE_IA,
#                   INTELLIGENT_TIERING, GLACIER_IR, GLACIER, DEEP_ARCHIVE, REDUCED_REDUNDANCY.
#   replica_modifications  also replicate metadata changes made on replicas; for two-way
#                   replication, where a bucket is both source and destination. Default False.

# Cross-Region rules: the destination is in another Region (cr_replication.py applies these).
CRR_RULES = [
    {"id": "catalog-usw2", "source": "shopco-data-use1", "destination": "shopco-data-usw2",
     "prefix": "catalog/"},
    # Orders kept 7 years: only objects tagged retain=7y, and deleting here never hides
    # them in the copy.
    {"id": "orders-usw2", "source": "shopco-data-use1", "destination": "shopco-data-usw2",
     "prefix": "orders/", "tags": {"retain": "7y"}, "delete_markers": False, "priority": 50},
    # Stock levels, so the West Coast store can keep selling during an East Coast outage.
    # (Rules of one bucket should not share a prefix: AWS copies such objects to every
    # destination, but the MiniStack sandbox only to the first matching rule's.)
    {"id": "inventory-usw2", "source": "shopco-data-use1", "destination": "shopco-data-usw2",
     "prefix": "inventory/"},
    # Images are read less often in Europe: a cheaper storage class for the replicas.
    {"id": "images-euw1", "source": "shopco-assets-use1", "destination": "shopco-assets-euw1",
     "prefix": "images/", "storage_class": "STANDARD_IA"},
]

# Same-Region rules: the destination is in the source's Region (sr_replication.py applies these).
SRR_RULES = [
    {"id": "customers-backup", "source": "shopco-data-use1",
     "destination": "shopco-data-use1-backup", "prefix": "customers/"},
    # Archive copies need no 15-minute guarantee: no Replication Time Control.
    {"id": "transactions-archive", "source": "shopco-logs-use1",
     "destination": "shopco-logs-use1-archive", "prefix": "transactions/", "rtc": False},
]

# Replication monitoring (used by the monitoring commands).
#   sns_topic                  SNS topic name for replication alerts; default "replication-alerts".
#   alert_emails               addresses subscribed to the topic; default none.
#   latency_threshold_seconds  alarm when replication latency exceeds this; default 900.
#   dashboard                  CloudWatch dashboard name, or None for no dashboard (default).
MONITORING = {
    "sns_topic": "shopco-replication-alerts",
    "alert_emails": [],
    "latency_threshold_seconds": 900,
    "dashboard": "shopco-replication",
}

# ACCESS_POINTS (optional, cr_replication.py): Multi-Region Access Points over buckets in
# different Regions, for failover during a regional outage, e.g.
#     ACCESS_POINTS = {"storefront": {"buckets": ["shopco-web-use1", "shopco-web-usw2"],
#                                     "active": ["shopco-web-use1"]}}
# buckets: 2 or more, one per Region, fixed when AWS creates the access point; active: the
# buckets that take traffic at first (default all). Give the buckets two-way rules with
# replica_modifications. Then `readiness`, `failover NAME --to BUCKET` and `failback NAME`.
# A worked example: config/examples/failover.py.
#
# INVENTORY (optional): S3 Inventory reports for `audit --inventory`, at any size, e.g.
#     INVENTORY = {"buckets": {"us-east-1": "shopco-inventory-use1",
#                              "us-west-2": "shopco-inventory-usw2"}, "format": "CSV"}
# One report bucket per Region of the rules' buckets (not one of BUCKETS); "CSV" only.

# Where each run appends one line per change or failure. A relative path is relative to
# the project root (the folder above config/).
LOG_FILE = "logs/replication_logs.txt"
