"""ShopCo's order records, replicated into a vault bucket in a separate backup account.

A worked example of ACCOUNTS (see config/s3_config.py for every other setting):

    python cr_replication.py --config config/examples/backup_account.py plan
    python cr_replication.py --config config/examples/backup_account.py apply
    python cr_replication.py --config config/examples/backup_account.py verify

With --sandbox it runs against the local MiniStack, where each account is reached with its
own dummy keys (no role or profile is needed there: the backup account's root stands for its
administrators, and an IAM user of that account allowed reads only for production's way in);
`make demo` does that.

Why a second account: the replicas should survive whatever can happen to the production
account. Someone holding stolen production credentials, or ransomware running with them, can
delete or encrypt every bucket of that account, its replicas included when they live there.
Replicas in an account of their own, administered by other people, are out of that reach.
AWS's guidance is to use accounts as the isolation boundary and to isolate critical data and
its backups, and S3 can make the destination account the owner of every replica to restrict
access to them:
https://docs.aws.amazon.com/wellarchitected/2022-03-31/framework/sec_securely_operate_multi_accounts.html
https://docs.aws.amazon.com/wellarchitected/latest/security-pillar/sec_protect_data_rest_access_control.html
https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-change-owner.html
https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-walkthrough-2.html
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
# What apply does in the backup account, through the admin profile:
#   - creates the vault bucket if missing (versioning, SSE-KMS, public access blocks,
#     BucketOwnerEnforced, a TLS-only policy statement, TAGS), and its KMS key under the alias;
#   - merges two statements into the vault bucket's policy allowing the source bucket's
#     replication role to replicate into it (s3:ReplicateObject, s3:ReplicateDelete,
#     s3:ReplicateTags, s3:ObjectOwnerOverrideToBucketOwner on its objects;
#     s3:GetBucketVersioning, s3:PutBucketVersioning on the bucket);
#   - merges one statement into the vault key's key policy allowing that role kms:Encrypt
#     and kms:Decrypt through S3 (the replicas are encrypted with the vault's own key);
# and in the production account, the rule says Destination.Account = the backup account with
# the owner override, so the backup account owns every replica.
# destroy removes only those statements there; the vault bucket, its key and its replicas
# stay.
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
#     configure the vault bucket (s3:CreateBucket, s3:PutBucket*...), remove verify's canary
#     replicas (s3:DeleteObjectVersion), and create and configure its KMS key in us-west-2
#     (kms:CreateKey, kms:CreateAlias, kms:PutKeyPolicy, kms:EnableKeyRotation,
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
    },
}

CRR_RULES = [
    # Every order record, into the vault. Deleting an order in production only adds a delete
    # marker there: it is not replicated, so the vault keeps the record.
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
