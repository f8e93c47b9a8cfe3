"""The rows of `restore` in the permissions table (permission_needs.NEEDS), apart so that the
table stays under the house's module size.

restore lists the versions of its scope and copies versions back (CopyObject names the version
it reads: s3:GetObjectVersion on the source of the copy, s3:PutObject and, with tags,
s3:PutObjectTagging on the key written; https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html),
and hides keys created after TIME with a delete marker (DeleteObject without a version id:
s3:DeleteObject; https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeletingObjectVersions.html).
It never deletes a version, so it needs no s3:DeleteObjectVersion. `--from replica` also reads
the destination's versions, in the destination's account (through its reader where
admin_profile is set: these are all reads); across accounts, the destination's bucket policy
must also let the caller read the versions CopyObject copies.

`restore --inventory --yes` (restore/batch_copy.py) reads the newest inventory report, writes
the copies to a manifest under the report bucket's inventory/ prefix, makes or updates the
batch role (as `backfill --method batch` does), passes it to S3 Batch Operations and starts an
S3PutObjectCopy job (https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-iam-role-policies.html);
the delete markers of created keys are its own DeleteObjects (s3:DeleteObject). The copies are
the job role's, not the caller's.
"""

from __future__ import annotations

from typing import Any

RESTORE, RESTORE_REPLICA = "restore", "restore --from replica"
RESTORE_BATCH = "restore --inventory --yes"
# A resource kind of the caller's account: CopyObject, sent by the caller, reads the replica's
# version wherever the destination is (its bucket policy must allow it too, across accounts)
DESTINATION_OBJECTS = "the objects of the rules' destinations, in any account"


def restore_needs() -> tuple[Any, ...]:
    """The rows (permission_needs.Need), built once permission_needs has defined its kinds."""
    from . import permission_needs as p

    both, replica = (RESTORE, RESTORE_REPLICA), (RESTORE_REPLICA,)
    n = p.Need
    return (
        n("s3:ListBucketVersions", p.BUCKET, both, "the versions of the scope "
          "(ListObjectVersions)"),
        n("s3:ListBucketVersions", p.BUCKET, replica, "the destination's versions",
          accounts=(p.THERE,)),
        n("s3:GetObjectVersion", p.OBJECTS, both, "CopyObject's source, the version at TIME; "
          "above 5 GB, its HeadObject"),
        n("s3:GetObjectVersion", p.OBJECTS, replica, "HeadObject of a destination's version "
          "above 5 GB (its metadata, for a copy in parts)", accounts=(p.THERE,)),
        n("s3:GetObjectVersion", DESTINATION_OBJECTS, replica, "CopyObject's source: the "
          "replica's version"),
        n("s3:GetObjectVersionTagging", DESTINATION_OBJECTS, replica, "CopyObject keeping the "
          "replica's tags"),
        n("s3:GetObjectVersionTagging", p.OBJECTS, both, "a copy keeping the version's tags "
          "(TaggingDirective COPY); a rule's tag filter"),
        n("s3:GetObjectVersionTagging", p.OBJECTS, replica, "a rule's tag filter on the "
          "destination's versions", accounts=(p.THERE,)),
        n("s3:PutObject", p.OBJECTS, both, "CopyObject and multipart copies of a version"),
        n("s3:PutObjectTagging", p.OBJECTS, both, "a copy with tags"),
        n("s3:DeleteObject", p.OBJECTS, (*both, RESTORE_BATCH), "a delete marker on a key "
          "created after TIME (no version is deleted)"),
        n("s3:AbortMultipartUpload", p.OBJECTS, both, "a failed copy of an object over 5 GB"),
        n("kms:Decrypt", p.KEY, both, "copying an SSE-KMS version", condition=p.VIA_S3),
        n("kms:GenerateDataKey", p.KEY, both, "writing into an SSE-KMS bucket",
          condition=p.VIA_S3),
    ) + _batch_needs()


def _batch_needs() -> tuple[Any, ...]:
    """restore --inventory --yes: the report, the manifest, the batch role, the copy job."""
    from . import permission_needs as p

    batch = (RESTORE_BATCH,)
    n = p.Need
    return (
        n("s3:ListBucket", p.REPORT_BUCKET, batch, "finding the newest report"),
        n("s3:GetObject", p.REPORT_OBJECTS, batch, "the report; HeadObject of the manifest "
          "(its ETag, for CreateJob)"),
        n("s3:PutObject", p.REPORT_OBJECTS, batch, "the copy job's manifest "
          "(inventory/restore/...)"),
        n("iam:GetRole", p.BATCH_ROLE, batch),
        n("iam:CreateRole", p.BATCH_ROLE, batch),
        n("iam:TagRole", p.BATCH_ROLE, batch, "CreateRole with tags"),
        n("iam:UpdateAssumeRolePolicy", p.BATCH_ROLE, batch),
        n("iam:GetRolePolicy", p.BATCH_ROLE, batch),
        n("iam:PutRolePolicy", p.BATCH_ROLE, batch, "the copy policy: read the manifest and "
          "the versions, write over the keys, the completion report"),
        n("iam:PassRole", p.BATCH_ROLE, batch, "the job runs as the batch role "
          "(https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-iam-role-policies.html)",
          condition=p.PASSED_TO_BATCH),
        n("s3:CreateJob", p.ANY, batch, "the S3PutObjectCopy job "
          "(https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_CreateJob.html)"),
        n("s3:PutJobTagging", p.JOB, batch, "CreateJob with tags "
          "(https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-job-tags.html)"),
    )
