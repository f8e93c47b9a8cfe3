"""Alarms, notifications, SNS topic and dashboard for replication (to be filled in)."""

from __future__ import annotations

from .config import BucketSpec
from .context import Context
from .engine import Item


def lanes(ctx: Context, sources: list[BucketSpec]) -> list[list[Item]]:
    return []
