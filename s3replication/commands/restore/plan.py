"""Judge the versions of a scope against a moment in time: the pure core of `restore`.

Both ways of reading a scope, the listing (ListObjectVersions) and the S3 Inventory report,
produce `Version` records; `judge` turns them into a `RestorePlan` with four groups:

- `unchanged`: the version current at TIME is still current (or, after a restore, a copy of
  it is: same ETag and size), or the key had no object at TIME and has none now;
- `overwritten`: an object version was current at TIME and another object version is now;
- `deleted`: an object version was current at TIME and a delete marker is current now;
- `created`: no object version (nothing, or a delete marker) was current at TIME and an
  object is current now.

The version current at TIME is the newest version (object or delete marker) whose
LastModified is at or before TIME: a version written exactly at TIME counts as there at TIME.
Among versions of one key with the same LastModified, the one listed first is the newer one
(ListObjectVersions lists a key's versions newest first), and `is_latest` says which version
is current now. Versioning keeps every version, so the one current at any moment can be read
back (https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html).

Records must come grouped by key in ascending key order (S3's listing order; the inventory
query orders by key), so the judge keeps one key's versions in memory at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from ...config.model import RuleSpec

GROUPS = ("unchanged", "overwritten", "deleted", "created")
ARCHIVED_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})  # must be restored before a copy


class Version(NamedTuple):  # a tuple: made once per version listed, so kept cheap
    key: str
    version_id: str
    last_modified: datetime  # aware
    is_latest: bool
    is_delete_marker: bool
    size: int = 0
    storage_class: str = "STANDARD"
    etag: str = ""  # "" when unknown: then only the version id tells a restored key


class Copy(NamedTuple):
    """A version to copy back over its key: its size and storage class as listed, so that the
    copy needs no HEAD (restore/copy.py)."""

    key: str
    version_id: str
    size: int = 0
    storage_class: str = ""  # "" when unknown (the default: STANDARD)


@dataclass(frozen=True)
class Scope:
    """What a restore covers: one bucket under a prefix, or a rule's source under its prefix
    (its tag filter applied to candidate keys by reading their tags)."""

    bucket: str
    prefix: str = ""
    rule: RuleSpec | None = None  # set with --rule
    from_replica: bool = False  # --from replica: the TIME state read from rule.destination

    @property
    def read_bucket(self) -> str:
        """The bucket whose versions say the state at TIME."""
        return self.rule.destination if self.from_replica and self.rule else self.bucket


@dataclass
class RestorePlan:
    bucket: str
    prefix: str
    to: datetime  # aware, UTC
    counts: dict[str, int]  # every key of GROUPS
    samples: dict[str, list[str]]  # per group, the first max_report keys (sorted)
    copies: list[Copy]  # the versions current at TIME of the overwritten and deleted keys
    hides: list[str]  # created keys: to get a delete marker
    # copies whose version is GLACIER/DEEP_ARCHIVE: need a restore first (not in `copies`)
    archived: list[tuple[str, str]] = field(default_factory=list)
    source_of_copies: str = ""  # bucket the versions are copied from; "" = the same bucket
    # key -> the version id current when planned ("" when none), for keys that change: the
    # "version before" of the restore's list of changes
    before: dict[str, str] = field(default_factory=dict)

    @property
    def changes(self) -> int:
        """How many keys a restore would change (archived ones included)."""
        return sum(self.counts[group] for group in GROUPS if group != "unchanged")


Selected = Callable[[str, Version | None, Version | None], bool]


def judge(versions: Iterable[Version], to: datetime, max_report: int,
          bucket: str = "", prefix: str = "", selected: Selected | None = None,
          copies_of: Mapping[str, str] | None = None) -> RestorePlan:
    """The plan that brings the keys of `versions` back to their state at `to`.

    `selected(group, at, current)`, when given, is asked about each key that would change
    (for a rule's tag filter: the tags of the version that decides); a key it refuses is
    left out of every group. `copies_of` maps the version ids earlier restores wrote to the
    version ids they copied (their lists of changes): such a copy of the version at TIME
    counts as that version."""
    copies_of = copies_of or {}
    plan = RestorePlan(bucket, prefix, to, dict.fromkeys(GROUPS, 0),
                       {group: [] for group in GROUPS}, [], [])
    for key_versions in by_key(versions):
        group, at, current = judge_key(key_versions, to, copies_of)
        if group != "unchanged" and selected is not None and not selected(group, at, current):
            continue
        plan.counts[group] += 1
        key = key_versions[0].key
        if group != "unchanged":
            plan.before[key] = current.version_id if current is not None else ""
        if len(plan.samples[group]) < max_report:
            plan.samples[group].append(key)
        if group == "created":
            plan.hides.append(key)
        elif group != "unchanged" and at is not None:
            if at.storage_class in ARCHIVED_CLASSES:
                plan.archived.append((key, at.version_id))
            else:
                plan.copies.append(Copy(key, at.version_id, at.size, at.storage_class))
    return plan


def by_key(versions: Iterable[Version]) -> Iterator[list[Version]]:
    """The versions of each key together, keys in ascending order (ValueError otherwise)."""
    group: list[Version] = []
    for version in versions:
        if group and version.key != group[0].key:
            if version.key < group[0].key:
                raise ValueError(f"versions out of key order: {version.key!r} after "
                                 f"{group[0].key!r}")
            yield group
            group = []
        group.append(version)
    if group:
        yield group


def judge_key(versions: list[Version], to: datetime, copies_of: Mapping[str, str] | None = None,
              ) -> tuple[str, Version | None, Version | None]:
    """The group of one key (all its versions, newest first on ties), its version at TIME
    and its current version."""
    at = at_time(versions, to)
    current = next((v for v in versions if v.is_latest), None)
    was = at is not None and not at.is_delete_marker
    is_now = current is not None and not current.is_delete_marker
    if at is not None and current is not None and was and is_now:
        return ("unchanged" if same_content(current, at, copies_of or {})
                else "overwritten"), at, current
    if was:
        return "deleted", at, current
    return ("created" if is_now else "unchanged"), at, current


def at_time(versions: list[Version], to: datetime) -> Version | None:
    """The newest version at or before `to`; the first listed wins a tie."""
    best: Version | None = None
    for version in versions:
        if version.last_modified <= to and (best is None
                                             or version.last_modified > best.last_modified):
            best = version
    return best


def same_content(current: Version, at: Version, copies_of: Mapping[str, str]) -> bool:
    """Whether the current version is the one at TIME or a copy of it. A restore's copy gets a
    new version id and a LastModified after TIME: it is known from the restores' lists of
    changes (`copies_of`), else by its ETag and size (an SSE-KMS or multipart object's copy
    may get another ETag: without the list, it is copied once more, harmlessly)."""
    if at.version_id in (current.version_id, copies_of.get(current.version_id)):
        return True
    return bool(current.etag) and current.etag == at.etag and current.size == at.size
