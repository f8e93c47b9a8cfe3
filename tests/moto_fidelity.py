"""Where moto 5.2.x answers less than AWS, and the unit tests need AWS's answer.

- GetBucketEncryption: moto stores the whole rule PutBucketEncryption sent but answers only
  ApplyServerSideEncryptionByDefault and BucketKeyEnabled, dropping BlockedEncryptionTypes,
  which AWS returns (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketEncryption.html,
  https://docs.aws.amazon.com/AmazonS3/latest/API/API_BlockedEncryptionTypes.html). Answered
  here from what moto stored, so nothing is made up: a bucket whose configuration was sent
  without it reads without it.
"""

from __future__ import annotations

from typing import Any

import pytest


def keep_blocked_encryption_types(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.core.responses import ActionResult
    from moto.core.utils import ensure_boolean
    from moto.s3.exceptions import ServerSideEncryptionConfigurationNotFoundError
    from moto.s3.responses import S3Response

    def get_bucket_encryption(self: S3Response) -> Any:
        self.data["Action"] = "GetBucketEncryption"
        encryption = self.backend.get_bucket_encryption(self.bucket_name)
        if not encryption:
            raise ServerSideEncryptionConfigurationNotFoundError(bucket_name=self.bucket_name)
        rule = encryption["Rule"]
        found: dict[str, Any] = {
            "ApplyServerSideEncryptionByDefault": rule["ApplyServerSideEncryptionByDefault"],
            "BucketKeyEnabled": ensure_boolean(rule.get("BucketKeyEnabled")),
        }
        blocked = (rule.get("BlockedEncryptionTypes") or {}).get("EncryptionType")
        if blocked:
            found["BlockedEncryptionTypes"] = {
                "EncryptionType": [blocked] if isinstance(blocked, str) else list(blocked)}
        return self.serialized(ActionResult(
            {"ServerSideEncryptionConfiguration": {"Rules": [found]}}))

    monkeypatch.setattr(S3Response, "get_bucket_encryption", get_bucket_encryption)
