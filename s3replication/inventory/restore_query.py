"""The restore plan from one bucket's S3 Inventory report, in SQL: the one place it is written;
DuckDB (duckdb_engine) and Athena (athena_engine) both run it over the table `bucket_inventory`
(the report's columns, fileSchema, in snake case: key, version_id, is_latest,
is_delete_marker, size, last_modified_date, etag, storage_class, ...).

The judgement is the listing path's (commands/restore/plan.py `judge`), key for key:

- the version at TIME is the newest version (object or delete marker) of the key whose
  LastModifiedDate is at or before TIME; among versions of the same time, the current one,
  then the later version id, wins (a report has no listing order);
- the current version is the one the report marks `IsLatest` (a report lists every version
  and delete marker, with IsLatest and IsDeleteMarker:
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory.html);
- unchanged: the version at TIME is current, or the current one is a copy of it (same ETag and
  size), or there was no object at TIME and is none now; overwritten: another object version
  is current; deleted: a delete marker is current (or nothing); created: no object at TIME and
  one now;
- the copies of overwritten and deleted keys whose version at TIME is GLACIER or DEEP_ARCHIVE
  are `archived`: they must be restored before they can be copied.

"Now" is when the report was taken (its manifest's creationTimestamp): what changed since is
not seen. Times are compared as the inventory audit compares them (inventory/query.py): as
text, to the second, `YYYY-MM-DDTHH:MM:SS`, the first 19 characters of the report's ISO 8601
LastModifiedDate. So a version written in the same second as TIME, even a fraction of a second
after it, counts as there at TIME (the listing path compares to the millisecond): choose TIME
a second away from the change to undo.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from .query import literal

TABLE = "bucket_inventory"
JUDGED = "restore_judged"  # the judged rows kept as a table (DuckDB: read the report once)
ARCHIVED = ("GLACIER", "DEEP_ARCHIVE")
COPIED_GROUPS = ("overwritten", "deleted")


def second(when: datetime) -> str:
    """`when` as the text reports' times are compared with, to the second, UTC."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


@dataclass(frozen=True)
class RestoreQuery:
    prefix: str
    to: datetime
    has_etag: bool = True  # the report has the ETag field (a copy made by a restore is known)
    materialized: bool = False  # the queries read JUDGED, made by `materialize()`

    def materialize(self) -> str:
        """The statement that keeps the judged rows as a temporary table: the report's files
        are then read and judged once, not once per query."""
        return f"CREATE TEMP TABLE {JUDGED} AS {self.judged()}"

    def _judged_rows(self) -> str:
        return f"{JUDGED} j" if self.materialized else f"({self.judged()}) j"

    def judged(self) -> str:
        """One row per key in scope: key, grp, at_version (the version at TIME), at_bytes and
        at_class (its size and storage class), archived, now_version (the current version or
        delete marker, NULL when none)."""
        etag = "etag" if self.has_etag else "CAST(NULL AS VARCHAR)"
        to = literal(second(self.to))
        archived = ", ".join(literal(c) for c in ARCHIVED)
        return f"""
WITH v AS (
  SELECT url_decode(replace(key, '+', '%20')) AS k, version_id,
         lower(is_latest) = 'true' AS latest, lower(is_delete_marker) = 'true' AS marker,
         coalesce(last_modified_date, '') AS modified, TRY_CAST(size AS BIGINT) AS bytes,
         coalesce({etag}, '') AS tag, coalesce(storage_class, '') AS klass
  FROM {TABLE}
), scoped AS (
  SELECT * FROM v WHERE starts_with(k, {literal(self.prefix)})
), ranked AS (
  SELECT k, version_id, marker, bytes, tag, klass,
         row_number() OVER (PARTITION BY k ORDER BY modified DESC, latest DESC,
                                                    version_id DESC) AS place
  FROM scoped WHERE substr(modified, 1, 19) <= {to}
), at_time AS (
  SELECT * FROM ranked WHERE place = 1
), current_now AS (
  SELECT k, version_id, marker, bytes, tag FROM scoped WHERE latest
), keys AS (
  SELECT DISTINCT k FROM scoped
)
SELECT keys.k AS key,
       CASE
         WHEN a.k IS NOT NULL AND NOT a.marker AND c.k IS NOT NULL AND NOT c.marker
              AND (c.version_id = a.version_id
                   OR (c.tag <> '' AND c.tag = a.tag AND c.bytes = a.bytes)) THEN 'unchanged'
         WHEN a.k IS NOT NULL AND NOT a.marker AND c.k IS NOT NULL AND NOT c.marker
              THEN 'overwritten'
         WHEN a.k IS NOT NULL AND NOT a.marker THEN 'deleted'
         WHEN c.k IS NOT NULL AND NOT c.marker THEN 'created'
         ELSE 'unchanged'
       END AS grp,
       a.version_id AS at_version, c.version_id AS now_version, a.bytes AS at_bytes,
       a.klass AS at_class,
       coalesce(a.klass IN ({archived}), FALSE) AS archived
FROM keys LEFT JOIN at_time a ON a.k = keys.k LEFT JOIN current_now c ON c.k = keys.k"""

    def counts(self) -> str:
        """grp, keys: one row per group found."""
        return f"SELECT grp, count(*) AS keys FROM {self._judged_rows()} GROUP BY grp"

    def samples(self, limit: int) -> str:
        """grp, key: the first `limit` keys of each group, in key order."""
        return f"""
SELECT grp, key FROM (
  SELECT grp, key, row_number() OVER (PARTITION BY grp ORDER BY key) AS place
  FROM {self._judged_rows()}
) s WHERE place <= {int(limit)} ORDER BY grp, key"""

    def copies(self, archived: bool = False) -> str:
        """key, version_id, size, storage_class: the overwritten and deleted keys' versions at
        TIME, in key order; those not archived (to copy) or, with `archived`, those archived."""
        groups = ", ".join(literal(g) for g in COPIED_GROUPS)
        return (f"SELECT key, at_version AS version_id, at_bytes AS size, "
                f"at_class AS storage_class FROM {self._judged_rows()} "
                f"WHERE grp IN ({groups}) AND archived = {'TRUE' if archived else 'FALSE'} "
                "ORDER BY key")

    def before(self) -> str:
        """key, version_id: the current version (or delete marker; '' when none) of each key
        that changes, for the restore's list of changes."""
        return (f"SELECT key, coalesce(now_version, '') AS version_id FROM {self._judged_rows()} "
                "WHERE grp <> 'unchanged' ORDER BY key")

    def hides(self) -> str:
        """key: the created keys, in key order."""
        return f"SELECT key FROM {self._judged_rows()} WHERE grp = 'created' ORDER BY key"
