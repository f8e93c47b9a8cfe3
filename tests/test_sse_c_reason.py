"""An SSE-C object's reason (audit, backfill) says what can still replicate it.

apply blocks SSE-C on every bucket it manages (bucket encryption's BlockedEncryptionTypes), and
a bucket that blocks SSE-C refuses replication requests that specify SSE-C too
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_BlockedEncryptionTypes.html,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/blocking-unblocking-s3-c-encryption-gpb.html):
S3 Batch Replication, which needs no key
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html),
cannot write such an object into the destination either. Only the key's holder can: a copy in
place re-encrypted with SSE-KMS or SSE-S3, whose new version replicates.
"""

from s3replication.commands.object_copy import SSE_C_REASON
from s3replication.output.texts import SSE_C_HINT
from s3replication.resources.bucket_settings import BLOCKED_ENCRYPTION_TYPES


def test_the_destinations_block_sse_c() -> None:
    assert BLOCKED_ENCRYPTION_TYPES == ["SSE-C"]


def test_sse_c_reason_and_hint_do_not_send_the_user_to_batch_replication() -> None:
    for text in (SSE_C_REASON, SSE_C_HINT):
        assert "--method batch" not in text, text
        assert "refuses SSE-C" in text, text
        assert "re-encrypted with SSE-KMS or SSE-S3" in text, text
