"""The comparison of a rule's source and replica inventories, in SQL: the one place it is
written; DuckDB (duckdb_engine) and Athena (athena_engine) both run it.

Each engine exposes the two reports as tables `source_inventory` and `replica_inventory`, with
the report's columns (fileSchema) named in snake case: bucket, key, version_id, is_latest,
is_delete_marker, size, storage_class, replication_status, ... The judgement mirrors the
listing audit (commands/replica_audit.py), object for object:

- the source's current versions (not delete markers) the rule selects: by prefix; a
  tag-filtered rule by ReplicationStatus alone, since inventories carry no tags
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory.html);
- each against the replica's current version of the key: same version id (on AWS replicas keep
  it; emulators give new ones, then the key alone) and same size is healthy; present with
  another size is a size mismatch; absent is FAILED or PENDING as the source says, else missing
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-status.html);
- the two reports are independent snapshots, each begun at its manifest's `creationTimestamp`
  ("the start time and the date when the inventory report generation begins scanning the
  bucket", https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory-location.html):
  a source version last modified at or after the second the replica's report began is too new
  for that report (`too_new`), not missing nor a size mismatch, and is not re-driven;
  FAILED and PENDING are the source's own word and are kept;
- an archived object (GLACIER, DEEP_ARCHIVE) that is not healthy or pending is archived: S3 does
  not replicate those (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html).

The objects to re-drive fall in two groups. A missing or mismatched object whose source says
COMPLETED was replicated, and its replica is gone from the destination since (deleted there by
version id, or written over): "Batch Replication does not support re-replicating objects that
were deleted with the version ID of the object from the destination bucket"
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-batch-replication-batch.html), so
those go by copy in place (`copy_redrive`); the others by a Batch Replication job (`redrive`).

Times are compared as text, `YYYY-MM-DDTHH:MM:SS` (the first 19 characters of a report's ISO
8601 `LastModifiedDate`, with or without milliseconds), so that DuckDB and Athena agree without
either's timestamp parsing.

Keys are URL-encoded in reports; '+' is read as a space, as in form encoding (a literal '+' is
%2B), so that DuckDB's and Athena's url_decode agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from ..config.model import ObjectLockSpec, RuleSpec
from ..resources.canary_expiry import CANARY_FOLDER
from .retention import sql_verdict

KINDS = ("ok", "missing", "mismatched", "failed", "pending", "archived", "too_new",
         "retention_missing", "retention_short")  # the last two: a locked destination's
REDRIVE_KINDS = ("missing", "failed", "mismatched")  # what backfill replicates
REPLICA_GONE = ("coalesce(replication_status, '') IN ('COMPLETED', 'COMPLETE') "
                "AND kind IN ('missing', 'mismatched')")  # botocore's enum has both spellings
NOT_PROBLEMS = ("ok", "too_new")  # too_new: not judged until a later report of the replica


def column_name(schema_name: str) -> str:
    """`ReplicationStatus` -> `replication_status`."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", schema_name.strip()).lower()


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Comparison:
    rule: RuleSpec
    exact_versions: bool  # AWS: replicas keep the source's version id
    replica_taken: datetime | None = None  # when the replica's report began (creationTimestamp)
    # a locked destination's default retention, when its report has the Object Lock fields:
    # each healthy replica's retention judged by inventory/retention.py's rule
    retention: ObjectLockSpec | None = None

    def _healthy(self) -> str:
        """'ok', or a locked replica's retention problem."""
        if self.retention is None:
            return "'ok'"
        verdict = sql_verdict(self.retention, "d.lock_mode", "d.lock_until", "d.modified")
        return f"coalesce({verdict}, 'ok')"

    def _lock_columns(self) -> str:
        if self.retention is None:
            return ""
        return (", object_lock_mode AS lock_mode, object_lock_retain_until_date AS lock_until, "
                "last_modified_date AS modified")

    def _newer_than_replica_report(self) -> str:
        if self.replica_taken is None:
            return "FALSE"
        cutoff = self.replica_taken.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        return f"substr(coalesce(s.last_modified, ''), 1, 19) >= {literal(cutoff)}"

    def judged(self) -> str:
        """One row per selected source object: key, version_id, size, storage_class,
        replication_status, replica_version_id, replica_size, kind."""
        same_version = "TRUE" if not self.exact_versions else "d.version_id = s.version_id"
        newer = self._newer_than_replica_report()
        selected = f"starts_with(s.k, {literal(self.rule.prefix)})"
        # verify's canaries are the tool's own, never missing data (commands/canary_sweep.py)
        selected += f" AND strpos('/' || s.k, {literal('/' + CANARY_FOLDER)}) = 0"
        if self.rule.tags:
            selected += " AND coalesce(s.replication_status, '') <> ''"
        return f"""
WITH src AS (
  SELECT url_decode(replace(key, '+', '%20')) AS k, version_id,
         TRY_CAST(size AS BIGINT) AS size, storage_class, replication_status,
         last_modified_date AS last_modified
  FROM source_inventory
  WHERE lower(is_latest) = 'true' AND lower(is_delete_marker) = 'false'
), dst AS (
  SELECT url_decode(replace(key, '+', '%20')) AS k, version_id,
         TRY_CAST(size AS BIGINT) AS size{self._lock_columns()}
  FROM replica_inventory
  WHERE lower(is_latest) = 'true' AND lower(is_delete_marker) = 'false'
), judged AS (
  SELECT s.k AS key, s.version_id, s.size, s.storage_class, s.replication_status,
         d.version_id AS replica_version_id, d.size AS replica_size,
         CASE
           WHEN d.k IS NOT NULL AND {same_version} AND d.size = s.size THEN {self._healthy()}
           WHEN d.k IS NOT NULL AND {same_version} AND {newer} THEN 'too_new'
           WHEN d.k IS NOT NULL AND {same_version} THEN 'mismatched'
           WHEN s.replication_status = 'FAILED' THEN 'failed'
           WHEN s.replication_status = 'PENDING' THEN 'pending'
           WHEN {newer} THEN 'too_new'
           ELSE 'missing'
         END AS verdict
  FROM src s LEFT JOIN dst d ON d.k = s.k
  WHERE {selected}
)
SELECT key, version_id, size, storage_class, replication_status, replica_version_id,
       replica_size,
       CASE WHEN verdict IN ('missing', 'mismatched', 'failed', 'too_new')
                 AND storage_class IN ('GLACIER', 'DEEP_ARCHIVE') THEN 'archived'
            ELSE verdict END AS kind
FROM judged"""

    def counts(self) -> str:
        """kind, objects: one row per kind found."""
        return f"SELECT kind, count(*) AS objects FROM ({self.judged()}) j GROUP BY kind"

    def problems(self, limit: int) -> str:
        """The first `limit` problem objects, in key order (too_new ones are no problem)."""
        kinds = ", ".join(literal(k) for k in NOT_PROBLEMS)
        return (f"SELECT * FROM ({self.judged()}) j WHERE kind NOT IN ({kinds}) ORDER BY key "
                f"LIMIT {int(limit)}")

    def redrive(self) -> str:
        """key, version_id of every object a Batch Replication job re-drives, in key order."""
        kinds = ", ".join(literal(k) for k in REDRIVE_KINDS)
        return (f"SELECT key, version_id FROM ({self.judged()}) j WHERE kind IN ({kinds}) "
                f"AND NOT ({REPLICA_GONE}) ORDER BY key")

    def copy_redrive(self) -> str:
        """key, version_id of every replicated object whose replica is gone, in key order."""
        return (f"SELECT key, version_id FROM ({self.judged()}) j WHERE {REPLICA_GONE} "
                "ORDER BY key")

    def copy_count(self) -> str:
        """objects: how many `copy_redrive` lists."""
        return f"SELECT count(*) AS objects FROM ({self.judged()}) j WHERE {REPLICA_GONE}"
