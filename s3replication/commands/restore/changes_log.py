"""The lists of changes restores write to the log folder: one CSV file per run
(`restore-BUCKET-STAMP.csv`: key, action, version before, version after, version at TIME),
written change by change, so that an interrupted run leaves its list too.

They also tell a later run which current versions are copies a restore made: a copy has a new
version id and a LastModified after TIME, and its ETag need not be its original's (SSE-KMS
objects' ETags are not an MD5 of their content:
https://docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html), so only the list knows it.
"""

from __future__ import annotations

import csv
import logging
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)
FIELDS = ["key", "action", "version_before", "version_after", "version_at_time"]
COPY, HIDE = "copied back", "hidden"


def changes_path(log_folder: Path, bucket: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return log_folder / f"restore-{bucket}-{stamp}.csv"


def earlier_copies(log_folder: Path, bucket: str) -> dict[str, str]:
    """Version id written by an earlier restore of `bucket` -> the version id it copied."""
    found: dict[str, str] = {}
    for path in sorted(log_folder.glob(f"restore-{bucket}-*.csv")):
        try:
            with path.open(newline="", encoding="utf-8") as rows:
                for row in csv.DictReader(rows):
                    if row.get("action") == COPY and row.get("version_after"):
                        found[row["version_after"]] = row.get("version_at_time", "")
        except (OSError, csv.Error, UnicodeDecodeError) as exc:
            log.warning("cannot read the list of changes %s: %s", path, exc)
    return found
