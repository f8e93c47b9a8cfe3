"""Which IAM action each command needs, on which kind of resource: the one table (`NEEDS`)
from which the caller's policies (caller_policies) and the README's list (permissions_readme) are
both built, so they cannot disagree.

Resources are the config's own buckets, keys, roles, topics, alarms and dashboard wherever the
action supports resource-level permissions; `"*"` only for the actions the Service Authorization
Reference lists without a resource type
(https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).

Each row also says in which accounts it is needed: the caller's (HERE: its own buckets and
keys, the sources' roles, monitoring, rules and jobs), and each account of ACCOUNTS that holds
a destination (THERE: only that account's buckets and their keys, as the role or profile the
scripts reach it with; resource kinds then name that account's buckets and keys). Across
accounts, the destination's bucket and key policies must also allow the source's replication
role what its own policy allows
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html#setting-repl-config-crossacct).
"""

from __future__ import annotations

from dataclasses import dataclass

from .restore_needs import RESTORE, RESTORE_BATCH, RESTORE_REPLICA, restore_needs

# Commands (as the README names them).
APPLY, PLAN, DESTROY, STATUS, PERMISSIONS = "apply", "plan", "destroy", "status", "permissions"
VERIFY, AUDIT, COPY, BATCH = "verify", "audit", "backfill --method copy", "backfill --method batch"
READINESS, FAILOVER = "readiness", "failover and failback"  # cr_replication.py
INVENTORY_AUDIT, ATHENA = "audit --inventory", "audit --inventory --engine athena"
COMMANDS = (APPLY, PLAN, DESTROY, STATUS, VERIFY, AUDIT, INVENTORY_AUDIT, ATHENA, COPY, BATCH,
            RESTORE, RESTORE_REPLICA, RESTORE_BATCH, PERMISSIONS, READINESS, FAILOVER)
# Every command first asks STS for the account id; GetCallerIdentity needs no permission
# (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html), so it is
# in no policy.
CHANGES = (APPLY, PLAN, DESTROY)
SETUP = (APPLY, PLAN)
WRITES = (APPLY, DESTROY)
CANARY = (VERIFY, READINESS, FAILOVER)  # readiness (and failover's check) run verify's canary
ROUTES = (*SETUP, STATUS, READINESS, FAILOVER)  # read an access point and its routes

# Accounts (see the module docstring).
HERE = "the caller's account"
THERE = "each account of ACCOUNTS holding buckets of the config"
BOTH = (HERE, THERE)
# In an account of ACCOUNTS with an admin_profile, THERE splits in two: the reads are its
# role_arn's or profile's (production's way in), every other action its admin_profile's.
# Reads are the actions of the access levels Read and List, all named Get*, List* or Describe*
# (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_understand-policy-summary-access-level-summaries.html).
READ_VERBS = ("Get", "List", "Describe")


def is_read_action(action: str) -> bool:
    """Whether the IAM action ("s3:GetBucketPolicy") only reads."""
    return action.partition(":")[2].startswith(READ_VERBS)

# Resource kinds: what a statement names (see `resources`).
ANY = "*"
ANY_FOR_ALIASES = "any resource, where a bucket's KMS key is named by alias"
# sns:Unsubscribe has no resource type, so IAM matches it only with "*"; its own statement
# (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsns.html)
ANY_SUBSCRIPTION = "any resource (the action has no resource type)"
BUCKET = "the config's buckets"
OBJECTS = "the objects of the config's buckets"
KEY = "the config's KMS keys"
ALIAS = "the config's KMS aliases"
ROLE = "the replication roles"
BATCH_ROLE = "the batch replication roles"
TOPIC = "the alert topic, in each Region"
ALARM = "the tool's alarms (s3-replication:*), in each Region"
DASHBOARD = "the dashboard"
JOB = "Batch Operations jobs, in each source Region"
ACCOUNT_ROLE = "the roles of ACCOUNTS"
INVENTORIED = "the config's buckets, with INVENTORY"
REPORT_BUCKET = "the report buckets of INVENTORY"
REPORT_OBJECTS = "the reports in the report buckets (inventory/*)"
WORKGROUP = "Athena's primary workgroup, in each report bucket's Region"
GLUE = "the Glue catalog, the s3_replication_audit database and its tables"
# Database actions have no table resource type: granted on the catalog and database only
# (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsglue.html)
GLUE_DATABASE = "the Glue catalog and the s3_replication_audit database"
GLUE_DEFAULT = "the Glue catalog and its default database, in each report bucket's Region"
ACCESS_POINT = "the Multi-Region Access Points of ACCESS_POINTS"
ACCESS_POINT_REQUEST = "Multi-Region Access Point requests, in us-west-2"

# Conditions (see `conditions`).
PASSED_TO_S3 = "passed to S3"
PASSED_TO_BATCH = "passed to S3 Batch Operations"
VIA_S3 = "through S3"


@dataclass(frozen=True)
class Need:
    action: str
    resource: str  # one of the resource kinds above
    commands: tuple[str, ...]
    why: str = ""  # when it is not plain from the action's name: what calls it, and the AWS page
    condition: str | None = None
    optional: bool = False  # the command works without it (a slower fallback)
    accounts: tuple[str, ...] = (HERE,)  # HERE, THERE or both (BOTH)


N = Need
ATHENA_WITH_GLUE = ("what Athena needs to work with the Glue Data Catalog "
                    "(https://docs.aws.amazon.com/athena/latest/ug/"
                    "fine-grained-access-to-glue-resources.html)")
NEEDS: tuple[Need, ...] = (
    # KMS keys (apply/plan), in every account holding a bucket's key
    N("kms:ListAliases", ANY_FOR_ALIASES, SETUP, accounts=BOTH),
    N("kms:DescribeKey", KEY, SETUP, "the key's state", accounts=BOTH),
    N("kms:GetKeyRotationStatus", KEY, SETUP, accounts=BOTH),
    N("kms:EnableKeyRotation", KEY, (APPLY,), accounts=BOTH),
    N("kms:CreateKey", ANY_FOR_ALIASES, (APPLY,), accounts=BOTH),
    N("kms:TagResource", KEY, (APPLY,), "CreateKey with tags "
      "(https://docs.aws.amazon.com/kms/latest/developerguide/manage-tags-api.html)",
      accounts=BOTH),
    N("kms:ListKeys", ANY_FOR_ALIASES, (APPLY,), "finding a key an interrupted run created",
      accounts=BOTH),
    N("kms:ListResourceTags", KEY, (APPLY,), "finding a key an interrupted run created",
      accounts=BOTH),
    N("kms:CreateAlias", ALIAS, (APPLY,), "on the alias and on its key "
      "(https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html)",
      accounts=BOTH),
    N("kms:CreateAlias", KEY, (APPLY,), accounts=BOTH),
    # Buckets (apply/plan), in every account holding buckets
    N("s3:ListAllMyBuckets", ANY, SETUP, "every bucket's Region in one call; without it, one "
      "HeadBucket per bucket", optional=True, accounts=BOTH),
    N("s3:ListBucket", BUCKET, SETUP, "HeadBucket: a bucket's existence and Region",
      accounts=BOTH),
    N("s3:CreateBucket", BUCKET, (APPLY,), accounts=BOTH),
    N("s3:GetBucketVersioning", BUCKET, (*SETUP, READINESS, FAILOVER), accounts=BOTH),
    N("s3:PutBucketVersioning", BUCKET, (APPLY,), accounts=BOTH),
    N("s3:GetBucketObjectLockConfiguration", BUCKET, SETUP, "Object Lock and its default "
      "retention (object_lock)", accounts=BOTH),
    N("s3:PutBucketObjectLockConfiguration", BUCKET, (APPLY,), "object_lock; CreateBucket "
      "with Object Lock needs it and s3:PutBucketVersioning "
      "(https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html)", accounts=BOTH),
    N("s3:GetBucketObjectLockConfiguration", BUCKET, (STATUS,), "each locked bucket's mode "
      "and period", accounts=BOTH),
    N("s3:GetLifecycleConfiguration", BUCKET, SETUP, "the canary's expiry on a bucket with "
      "object_lock (resources/canary_expiry.py)", accounts=BOTH),
    N("s3:PutLifecycleConfiguration", BUCKET, (APPLY,), "the canary's expiry on a bucket with "
      "object_lock; other lifecycle rules are kept", accounts=BOTH),
    N("s3:GetEncryptionConfiguration", BUCKET, SETUP, accounts=BOTH),
    N("s3:PutEncryptionConfiguration", BUCKET, (APPLY,), accounts=BOTH),
    N("s3:GetBucketPublicAccessBlock", BUCKET, SETUP, accounts=BOTH),
    N("s3:PutBucketPublicAccessBlock", BUCKET, (APPLY,), accounts=BOTH),
    N("s3:GetBucketOwnershipControls", BUCKET, SETUP, accounts=BOTH),
    N("s3:PutBucketOwnershipControls", BUCKET, (APPLY,), accounts=BOTH),
    N("s3:GetBucketAcl", BUCKET, SETUP, "an adopted bucket's ACL grantees", accounts=BOTH),
    N("s3:GetBucketPolicy", BUCKET, SETUP, accounts=BOTH),
    N("s3:PutBucketPolicy", BUCKET, (APPLY,), accounts=BOTH),
    N("s3:GetBucketTagging", BUCKET, (*CHANGES, *CANARY), "tags and the record of the rules a "
      "script owns; verify: when versioning was enabled, for a canary that did not replicate"),
    N("s3:GetBucketTagging", BUCKET, (*SETUP, *CANARY), "tags; verify: when versioning was "
      "enabled, for a canary that did not replicate", accounts=(THERE,)),
    N("s3:PutBucketTagging", BUCKET, WRITES, "PutBucketTagging and DeleteBucketTagging"),
    N("s3:PutBucketTagging", BUCKET, (APPLY,), accounts=(THERE,)),
    # What a destination in another account grants the source's replication role: statements
    # in its bucket policy and its key policy (resources/account_grants.py)
    N("s3:GetBucketPolicy", BUCKET, (DESTROY,), "the grant to the replication roles",
      accounts=(THERE,)),
    N("s3:PutBucketPolicy", BUCKET, (DESTROY,), "the grant to the replication roles",
      accounts=(THERE,)),
    N("s3:DeleteBucketPolicy", BUCKET, WRITES, "the grant removed from a policy that has no "
      "other statement", accounts=(THERE,)),
    N("kms:DescribeKey", KEY, (DESTROY,), "the replica key whose policy has the grant",
      accounts=(THERE,)),
    N("kms:GetKeyPolicy", KEY, CHANGES, "the grant to the replication roles "
      "(https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-"
      "accounts.html)", accounts=(THERE,)),
    N("kms:PutKeyPolicy", KEY, WRITES, "the grant to the replication roles", accounts=(THERE,)),
    # Reaching the accounts of ACCOUNTS given by role_arn (aws/accounts.py)
    N("sts:AssumeRole", ACCOUNT_ROLE, (*CHANGES, *CANARY, AUDIT, COPY), "reaching the buckets "
      "of another account; the role must trust the caller too "
      "(https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_permissions-to-switch.html)"),
    # Replication roles
    N("iam:GetRole", ROLE, CHANGES),
    N("iam:CreateRole", ROLE, (APPLY,)),
    N("iam:TagRole", ROLE, (APPLY,), "CreateRole with tags "
      "(https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags_roles.html)"),
    N("iam:UpdateAssumeRolePolicy", ROLE, (APPLY,), "an existing role made to trust S3"),
    N("iam:GetRolePolicy", ROLE, CHANGES),
    N("iam:PutRolePolicy", ROLE, (APPLY,)),
    N("iam:DeleteRolePolicy", ROLE, WRITES),
    N("iam:ListRoleTags", ROLE, (DESTROY,), "only when GetRole does not return the tags"),
    N("iam:ListRolePolicies", ROLE, (DESTROY,)),
    N("iam:ListAttachedRolePolicies", ROLE, (DESTROY,)),
    N("iam:DeleteRole", ROLE, (DESTROY,)),
    # Replication rules
    N("s3:GetReplicationConfiguration", BUCKET, (*CHANGES, *CANARY, BATCH), "backfill: which "
      "other destinations the source replicates to (batch_scope)"),
    N("s3:PutReplicationConfiguration", BUCKET, WRITES,
      "PutBucketReplication and DeleteBucketReplication"),
    N("iam:PassRole", ROLE, WRITES, "the replication configuration names the role "
      "(https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html)",
      condition=PASSED_TO_S3),
    # Monitoring
    N("sns:GetTopicAttributes", TOPIC, CHANGES),
    N("sns:ListTagsForResource", TOPIC, CHANGES),
    N("sns:ListSubscriptionsByTopic", TOPIC, CHANGES),
    N("sns:CreateTopic", TOPIC, (APPLY,)),
    N("sns:TagResource", TOPIC, (APPLY,), "CreateTopic with tags, and the record of subscribed "
      "addresses (https://docs.aws.amazon.com/sns/latest/dg/sns-tags-configuring.html)"),
    N("sns:UntagResource", TOPIC, WRITES),
    N("sns:SetTopicAttributes", TOPIC, WRITES, "the statement letting S3 publish"),
    N("sns:Subscribe", TOPIC, (APPLY,)),
    N("sns:Unsubscribe", ANY_SUBSCRIPTION, WRITES, "an address dropped from alert_emails"),
    N("sns:DeleteTopic", TOPIC, WRITES),
    N("s3:GetBucketNotification", BUCKET, CHANGES),
    N("s3:PutBucketNotification", BUCKET, WRITES),
    N("cloudwatch:DescribeAlarms", ALARM, (*CHANGES, STATUS)),
    N("cloudwatch:PutMetricAlarm", ALARM, (APPLY,)),
    N("cloudwatch:TagResource", ALARM, (APPLY,), "PutMetricAlarm with tags "
      "(https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html)"),
    N("cloudwatch:DeleteAlarms", ALARM, WRITES),
    N("cloudwatch:GetDashboard", DASHBOARD, CHANGES),
    N("cloudwatch:PutDashboard", DASHBOARD, WRITES),
    N("cloudwatch:DeleteDashboards", DASHBOARD, WRITES),
    N("cloudwatch:GetMetricData", ANY, (STATUS, READINESS, FAILOVER)),
    # S3 Inventory (resources/inventory.py): configurations on the rules' buckets, put and
    # read as each bucket's owner (a destination in another account through that account's
    # role or profile); report buckets, the caller's, managed like any bucket (the bucket rows
    # above name them too)
    N("s3:GetInventoryConfiguration", INVENTORIED, CHANGES, accounts=BOTH),
    N("s3:PutInventoryConfiguration", INVENTORIED, WRITES,
      "PutBucketInventoryConfiguration and DeleteBucketInventoryConfiguration "
      "(https://docs.aws.amazon.com/AmazonS3/latest/userguide/configure-inventory.html)",
      accounts=BOTH),
    # the report buckets' delivery statement, shared by both scripts: destroy takes this
    # script's buckets out of it (apply and plan: the bucket rows above)
    N("s3:GetBucketPolicy", REPORT_BUCKET, (DESTROY,), "the inventory delivery statement"),
    N("s3:PutBucketPolicy", REPORT_BUCKET, (DESTROY,), "the inventory delivery statement"),
    N("s3:DeleteBucketPolicy", REPORT_BUCKET, (DESTROY,), "the inventory delivery statement "
      "removed from a policy that has no other statement"),
    # audit --inventory (inventory/): the reports, the re-drive manifest
    N("s3:ListBucket", REPORT_BUCKET, (INVENTORY_AUDIT, ATHENA), "finding the newest report"),
    N("s3:GetObject", REPORT_OBJECTS, (INVENTORY_AUDIT, ATHENA, BATCH), "reports; backfill: "
      "the first line of a --manifest"),
    N("s3:PutObject", REPORT_OBJECTS, (INVENTORY_AUDIT, ATHENA), "the re-drive manifest; "
      "Athena: copies of the report files and query results"),
    N("s3:DeleteObject", REPORT_OBJECTS, (ATHENA,), "removing the copies afterwards"),
    N("s3:GetBucketLocation", REPORT_BUCKET, (ATHENA,), "Athena's query results location "
      "(https://docs.aws.amazon.com/athena/latest/ug/security-iam-athena.html)"),
    N("athena:StartQueryExecution", WORKGROUP, (ATHENA,)),
    N("athena:GetQueryExecution", WORKGROUP, (ATHENA,)),
    N("athena:GetQueryResults", WORKGROUP, (ATHENA,)),
    N("glue:CreateDatabase", GLUE_DATABASE, (ATHENA,)),
    N("glue:GetDatabase", GLUE_DATABASE, (ATHENA,)),
    # "required for Athena and the AWS Glue Data Catalog to work together", in each Region
    N("glue:GetDatabase", GLUE_DEFAULT, (ATHENA,), ATHENA_WITH_GLUE),
    N("glue:CreateDatabase", GLUE_DEFAULT, (ATHENA,), ATHENA_WITH_GLUE),
    N("glue:CreateTable", GLUE, (ATHENA,)),
    N("glue:GetTable", GLUE, (ATHENA,)),
    N("glue:DeleteTable", GLUE, (ATHENA,)),
    # Multi-Region Access Points (cr_replication.py; resources/access_points.py). The ARN
    # names the alias, which AWS picks at creation, hence accesspoint/*
    # (https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointPermissions.html)
    N("s3:GetMultiRegionAccessPoint", ACCESS_POINT, ROUTES),
    N("s3:CreateMultiRegionAccessPoint", ACCESS_POINT, (APPLY,)),
    N("s3:DescribeMultiRegionAccessPointOperation", ACCESS_POINT_REQUEST, (APPLY,),
      "following the creation request"),
    N("s3:GetMultiRegionAccessPointRoutes", ACCESS_POINT, ROUTES),
    N("s3:SubmitMultiRegionAccessPointRoutes", ACCESS_POINT, (APPLY, FAILOVER),
      "the first routes; failover and failback "
      "(https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingFailover.html)"),
    # verify, audit, backfill: objects (replicas in another account: their listing for audit
    # and backfill; the canary's replica for verify)
    N("s3:ListBucketVersions", BUCKET, (*CANARY, AUDIT, COPY), accounts=BOTH),
    N("s3:PutObject", OBJECTS, (*CANARY, COPY), "the canary; CopyObject and multipart copies"),
    N("s3:PutObjectTagging", OBJECTS, (*CANARY, COPY), "a PUT or copy with tags "
      "(https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html)"),
    N("s3:GetObject", OBJECTS, (*CANARY,), "HeadObject of the canary's replica", accounts=BOTH),
    N("s3:GetObjectVersion", OBJECTS, (*CANARY, AUDIT, COPY), "HeadObject and copies of a "
      "version (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html)"),
    N("s3:GetObjectVersionTagging", OBJECTS, (AUDIT, COPY), "tags of a version: tag-filtered "
      "rules, copies keeping their tags"),
    N("s3:DeleteObjectVersion", OBJECTS, (*CANARY,), "removing every canary version",
      accounts=BOTH),
    N("s3:GetObjectRetention", OBJECTS, (AUDIT,), "each replica's retention in a bucket "
      "with object_lock (GetObjectRetention)", accounts=BOTH),
    N("s3:AbortMultipartUpload", OBJECTS, (COPY,), "a failed copy of an object over 5 GB"),
    N("kms:GenerateDataKey", KEY, (*CANARY, COPY), "writing into an SSE-KMS bucket "
      "(https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html)",
      condition=VIA_S3),
    N("kms:Decrypt", KEY, (COPY,), "copying an SSE-KMS object", condition=VIA_S3),
    # backfill --method batch
    N("iam:GetRole", BATCH_ROLE, (BATCH,)),
    N("iam:CreateRole", BATCH_ROLE, (BATCH,)),
    N("iam:TagRole", BATCH_ROLE, (BATCH,), "CreateRole with tags"),
    N("iam:UpdateAssumeRolePolicy", BATCH_ROLE, (BATCH,)),
    N("iam:GetRolePolicy", BATCH_ROLE, (BATCH,)),
    N("iam:PutRolePolicy", BATCH_ROLE, (BATCH,)),
    N("iam:PassRole", BATCH_ROLE, (BATCH,), "the job runs as the batch role "
      "(https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-iam-role-policies.html)",
      condition=PASSED_TO_BATCH),
    N("s3:CreateJob", ANY, (BATCH,)),
    N("s3:PutJobTagging", JOB, (BATCH,), "CreateJob with tags "
      "(https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-job-tags.html)"),
    N("s3:DescribeJob", JOB, (BATCH,), "backfill --job ID"),
) + restore_needs()
