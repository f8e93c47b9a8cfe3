"""`restore`'s judge (commands/restore/plan.py): each key's version current at TIME against the
one current now, in four groups.

S3 keeps every version of a key in a versioned bucket, and a delete without a version id only
adds a delete marker, the key's new current version
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html): so the version current
at any moment is the newest one written at or before it. Versions in GLACIER or DEEP_ARCHIVE
must be restored before they can be copied
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/restoring-objects.html).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from s3replication.commands.restore.plan import GROUPS, Copy, Version, judge

TIME = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
BEFORE, AFTER = TIME - timedelta(hours=1), TIME + timedelta(hours=1)


def v(key: str, vid: str, when: datetime, latest: bool = False, marker: bool = False,
      etag: str = "", storage: str = "STANDARD") -> Version:
    return Version(key, vid, when, latest, marker, 0 if marker else 4, storage, etag)


def history() -> list[Version]:
    return [  # keys ascending, each key's versions newest first, as ListObjectVersions lists
        v("a-unchanged", "a1", BEFORE, latest=True),
        v("b-overwritten", "b2", AFTER, latest=True, etag="new"),
        v("b-overwritten", "b1", BEFORE, etag="old"),
        v("c-deleted", "cm", AFTER, latest=True, marker=True),
        v("c-deleted", "c1", BEFORE),
        v("d-created", "d1", AFTER, latest=True),
        v("e-gone-both", "em", AFTER, latest=True, marker=True),
        v("f-deleted-before", "fm", BEFORE, latest=False, marker=True),
        v("f-deleted-before", "f1", BEFORE - timedelta(hours=1)),
        v("f-deleted-before", "f2", AFTER, latest=True),
    ]


def test_every_group() -> None:
    plan = judge(history(), TIME, max_report=10, bucket="b", prefix="p/")

    assert plan.counts == {"unchanged": 2, "overwritten": 1, "deleted": 1, "created": 2}
    assert set(plan.counts) == set(GROUPS)
    assert plan.samples["created"] == ["d-created", "f-deleted-before"]
    # each copy carries the size and storage class listed: the copy needs no HEAD
    assert plan.copies == [Copy("b-overwritten", "b1", 4, "STANDARD"),
                           Copy("c-deleted", "c1", 4, "STANDARD")]
    assert plan.hides == ["d-created", "f-deleted-before"]
    assert plan.before == {"b-overwritten": "b2", "c-deleted": "cm", "d-created": "d1",
                           "f-deleted-before": "f2"}
    assert (plan.bucket, plan.prefix, plan.to, plan.changes) == ("b", "p/", TIME, 4)


def test_a_version_written_exactly_at_time_counts_as_there_at_time() -> None:
    plan = judge([v("k", "k2", TIME, latest=True), v("k", "k1", BEFORE)], TIME, 10)
    assert plan.counts["unchanged"] == 1 and not plan.copies

    plan = judge([v("k", "m", TIME, latest=True, marker=True), v("k", "k1", BEFORE)], TIME, 10)
    assert plan.counts["unchanged"] == 1, "a marker written at TIME was there at TIME"


def test_on_equal_times_the_version_listed_first_is_the_newer() -> None:
    plan = judge([v("k", "k3", AFTER, latest=True), v("k", "k2", BEFORE),
                  v("k", "k1", BEFORE)], TIME, 10)
    assert plan.copies == [Copy("k", "k2", 4, "STANDARD")]


def test_a_copy_of_the_version_at_time_counts_as_restored() -> None:
    """A restore's copy has a new id and a LastModified after TIME: same ETag and size."""
    restored = [v("k", "k3", AFTER, latest=True, etag="old"), v("k", "k2", AFTER, etag="bad"),
                v("k", "k1", BEFORE, etag="old")]
    assert judge(restored, TIME, 10).counts["unchanged"] == 1
    no_etag = [v("k", "k3", AFTER, latest=True), v("k", "k1", BEFORE)]
    assert judge(no_etag, TIME, 10).counts["overwritten"] == 1


def test_a_key_absent_at_time_and_deleted_now_is_unchanged() -> None:
    plan = judge([v("k", "m", AFTER, latest=True, marker=True), v("k", "k1", AFTER)], TIME, 10)
    assert plan.counts["unchanged"] == 1 and not plan.hides and not plan.copies


def test_archived_versions_need_a_restore_first_and_are_not_copied() -> None:
    plan = judge([v("k", "k2", AFTER, latest=True), v("k", "k1", BEFORE, storage="GLACIER"),
                  v("l", "lm", AFTER, latest=True, marker=True),
                  v("l", "l1", BEFORE, storage="DEEP_ARCHIVE"),
                  v("m", "m2", AFTER, latest=True), v("m", "m1", BEFORE, storage="GLACIER_IR")],
                 TIME, 10)
    assert plan.archived == [("k", "k1"), ("l", "l1")]
    assert plan.copies == [Copy("m", "m1", 4, "GLACIER_IR")], (
        "Glacier Instant Retrieval is read at once, and copied back into its class")
    assert (plan.counts["overwritten"], plan.counts["deleted"]) == (2, 1)


def test_samples_stop_at_max_report_counts_do_not() -> None:
    versions = [v(f"k{n:02}", "x", AFTER, latest=True) for n in range(5)]
    plan = judge(versions, TIME, 2)
    assert plan.counts["created"] == 5 and plan.samples["created"] == ["k00", "k01"]
    assert len(plan.hides) == 5


def test_versions_out_of_key_order_are_refused() -> None:
    with pytest.raises(ValueError, match="out of key order"):
        judge([v("b", "1", BEFORE, latest=True), v("a", "2", BEFORE, latest=True)], TIME, 10)


def test_a_selection_leaves_keys_out_of_every_group() -> None:
    asked = []

    def selected(group, at, current) -> bool:
        asked.append(group)
        return group != "created"

    plan = judge(history(), TIME, 10, selected=selected)
    assert plan.counts == {"unchanged": 2, "overwritten": 1, "deleted": 1, "created": 0}
    assert sorted(asked) == ["created", "created", "deleted", "overwritten"]


def test_a_copy_an_earlier_restore_listed_counts_as_restored_whatever_its_etag(tmp_path) -> None:
    """SSE-KMS objects' ETags are not an MD5 of their content
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html): a copy may get another
    ETag, so the restores' own lists of changes say which versions are copies."""
    from s3replication.commands.restore.changes_log import FIELDS, earlier_copies

    (tmp_path / "restore-b-20261206T110000000000Z.csv").write_text(
        ",".join(FIELDS) + "\nk,copied back,k2,k3,k1\nl,hidden,l1,lm,\n")
    (tmp_path / "restore-other-20261206T110000000000Z.csv").write_text(
        ",".join(FIELDS) + "\nk,copied back,x,k4,k1\n")
    copies_of = earlier_copies(tmp_path, "b")
    assert copies_of == {"k3": "k1"}

    versions = [v("k", "k3", AFTER, latest=True, etag="kms-1"), v("k", "k2", AFTER, etag="bad"),
                v("k", "k1", BEFORE, etag="kms-0")]
    assert judge(versions, TIME, 10, copies_of=copies_of).counts["unchanged"] == 1
    assert judge(versions, TIME, 10).counts["overwritten"] == 1
