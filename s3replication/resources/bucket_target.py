"""The bucket a row of the bucket settings table is read from and written to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..config.model import BucketSpec
from ..engine.context import Context


@dataclass(frozen=True)
class BucketTarget:
    ctx: Context
    bucket: BucketSpec
    listed_region: str | None = None  # its Region as ListBuckets gave it, when it did

    @property
    def name(self) -> str:
        return self.bucket.name

    @property
    def region(self) -> str:
        return self.bucket.region

    @property
    def resource(self) -> str:
        where = f", account {self.bucket.account}" if self.bucket.account else ""
        return f"bucket {self.bucket.name} ({self.bucket.region}{where})"

    @property
    def s3(self) -> Any:
        return self.ctx.s3_of(self.bucket)
