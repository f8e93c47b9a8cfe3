"""ShopCo's order records, replicated into an immutable vault in a separate backup account.

The worked example of the vault (README, "A backup account: the vault"; config/s3_config.py
for every other setting):

    python cr_replication.py --config config/examples/backup_account.py plan
    python cr_replication.py --config config/examples/backup_account.py apply
    python cr_replication.py --config config/examples/backup_account.py verify

With --sandbox it runs against the local MiniStack, where each account is reached with its
own dummy keys (no role or profile is needed there: the backup account's root stands for its
administrators, and an IAM user of that account allowed reads only for production's way in);
`make demo` does that, and shows a version in the vault that cannot be deleted.

Why a second account, a lock, and other administrators: the replicas should survive whatever
can happen to the production account. Someone holding stolen production credentials, or
ransomware running with them, can delete or encrypt every bucket of that account, its replicas
included when they live there. Here the replicas live in an account of their own, which
production reaches with reads only (every write there goes through the backup account's own
administrators, `admin_profile`); every version placed in the vault is kept under Object Lock
COMPLIANCE retention, which no one, the account's root included, can shorten or remove before
it ends; and the vault's bucket and key policies give production's replication role
replication and encryption through S3 only. AWS's guidance: accounts as the isolation boundary,
and Object Lock on the copies that must survive:
https://docs.aws.amazon.com/wellarchitected/latest/security-pillar/sec_protect_data_rest_access_control.html
https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html
https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html
https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-change-owner.html

What the vault does not stop: a compromised vault administrator (admin_profile) can change
what is written next (loosen the default retention for new versions, the policies) though not
shorten the retention of versions already locked; a version is protected only for the
retention period (older than it, it can be deleted); and delete markers are not replicated
into the vault (delete_markers is False into a locked bucket), nor protected by the lock.
"""

# The other AWS accounts buckets may live in, by a name of your choice. The scripts run with
# the production account's credentials (the caller) and reach the backup account two ways:
#   - `role_arn` (or a named AWS `profile` instead): production's way in, which READS only:
#     plan, status, verify, audit, and apply's reads go through it;
#   - `admin_profile`: the named AWS profile of the backup account's own administrators;
#     every WRITE there goes through it, so production's credentials cannot change the vault.
# Where apply runs without `admin_profile` configured on the machine, it makes production's
# side, lists the vault's changes as pending and exits 3: the backup account's administrators
# then run the same apply with their profile configured.
#
# Who runs what:
#   - the production operator runs plan, apply, status, verify and audit with production's
#     credentials; apply makes the source, its role and its rule, and reads the vault only;
#   - the backup account's administrators run the same apply with `admin_profile` configured
#     (and production's credentials, which read): it creates and configures the vault.
#
# What apply does in the backup account, through the admin profile:
#   - creates the vault bucket with Object Lock enabled and its default retention (versioning,
#     SSE-KMS, SSE-C writes blocked, public access blocks, BucketOwnerEnforced, a TLS-only
#     policy statement, TAGS), and its KMS key under the alias;
#   - merges statements into the vault bucket's policy allowing the source bucket's
#     replication role to replicate into it (s3:ReplicateObject, s3:ReplicateTags,
#     s3:ObjectOwnerOverrideToBucketOwner on its objects; s3:GetBucketVersioning on the
#     bucket): no s3:PutBucketVersioning, no delete, nothing that changes the bucket;
#   - merges one statement into the vault key's key policy allowing that role kms:Encrypt
#     and kms:Decrypt through S3 only, never key management;
# and in the production account, the rule says Destination.Account = the backup account with
# the owner override, so the backup account owns every replica.
# destroy removes only those statements there; the vault bucket, its key, its lock and its
# replicas stay.
#
# The role in the backup account (here shopco-replication-reader) is assumed with the caller's
# credentials, so:
#   - its trust policy allows sts:AssumeRole to the production account
#     ("Principal": {"AWS": "arn:aws:iam::PRODUCTION_ACCOUNT_ID:root"}, or the one role the
#     scripts run as there), and the caller's own policy allows sts:AssumeRole on the role;
#   - its permissions are what `permissions` prints under "222222222222 (backup)": reads only
#     (s3:Get*, s3:List*, kms:Describe*, kms:Get*, kms:List* on the vault and its key);
#         python cr_replication.py --config config/examples/backup_account.py permissions
#   - the admin profile's are printed under "222222222222 (backup admin)": create and
#     configure the vault bucket (s3:CreateBucket, s3:PutBucket*,
#     s3:PutBucketObjectLockConfiguration...), and create and configure its KMS key in
#     us-west-2 (kms:CreateKey, kms:CreateAlias, kms:PutKeyPolicy, kms:EnableKeyRotation,
#     kms:TagResource). Keep that profile with the backup account's administrators, not on
#     production's machines.
# It needs no permission to replicate: S3 replicates as the source bucket's replication role,
# which the bucket and key policy statements above allow in.
ACCOUNTS = {
    "backup": {
        "account_id": "222222222222",
        "role_arn": "arn:aws:iam::222222222222:role/shopco-replication-reader",
        "admin_profile": "shopco-backup-admin",
    },
}

TAGS = {"project": "shopco", "owner": "platform-team", "data": "orders"}

# "account": the bucket lives in that account of ACCOUNTS (default: the caller's). Only a
# rule's destination may be in another account: the source, its replication role and its
# monitoring stay in the production account.
BUCKETS = {
    # Order records, primary copy, in the production account.
    "shopco-orders-use1": {"region": "us-east-1", "kms_key": "alias/shopco-orders-use1"},
    # The vault: another Region and another account, encrypted with that account's own key
    # (an alias is found or created in the bucket's account and Region).
    "shopco-orders-vault-usw2": {
        "region": "us-west-2",
        "kms_key": "alias/shopco-orders-vault",
        "account": "backup",
        # Every version placed in the vault is kept 1 day under COMPLIANCE retention: no one,
        # root included, can delete it or shorten its retention before then. One day suits
        # the sandbox; production would keep versions at least as long as it takes to notice
        # a compromise and restore (e.g. {"mode": "COMPLIANCE", "days": 35}, or "years": 7
        # where records must be kept that long): the retention period is the window, a
        # version older than it can be deleted. Storage is paid for every version for that
        # long, and a COMPLIANCE period cannot be shortened for versions already written.
        "object_lock": {"mode": "COMPLIANCE", "days": 1},
    },
}

CRR_RULES = [
    # Every order record, into the vault. Deleting an order in production only adds a delete
    # marker there: it is not replicated (Object Lock does not protect delete markers, so a
    # rule into a locked bucket defaults to False), so the vault keeps the record.
    {"id": "orders-vault", "source": "shopco-orders-use1",
     "destination": "shopco-orders-vault-usw2", "prefix": "orders/", "delete_markers": False},
]

SRR_RULES = []

# Alarms and notifications live in the production account, next to the source bucket.
MONITORING = {
    "sns_topic": "shopco-orders-vault-alerts",
    "alert_emails": [],
    "latency_threshold_seconds": 900,
    "dashboard": None,
}

# A relative path is relative to the project root, wherever this file is.
LOG_FILE = "logs/replication_logs.txt"
