"""Which replication rules a script created, recorded in the source bucket's tags.

S3 keeps no metadata on a replication rule, and the rule id is the user's id verbatim, so the
record lives beside the rule: tags on the source bucket named `s3replication:<kind>-rules`,
`...-rules-1`, ... Each value holds short hashes of rule ids (rule ids may be 255 characters
of any kind; tag values only 256 characters of a small alphabet). The record is written
before a rule is created and cleared after it is deleted, so a crash at any point leaves at
worst a record of a rule that does not exist, which is harmless: nothing unrecorded is ever
removed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..aws.naming import TOOL_TAG_PREFIX, short_hash

HASH_CHARS = 10
TAG_VALUE_LIMIT = 256
_PER_TAG = (TAG_VALUE_LIMIT + 1) // (HASH_CHARS + 1)


def rule_hash(rule_id: str) -> str:
    return short_hash(rule_id, HASH_CHARS)


def tag_key_base(kind: str) -> str:
    return f"{TOOL_TAG_PREFIX}{kind}-rules"


def is_ownership_tag(kind: str, key: str) -> bool:
    base = tag_key_base(kind)
    return key == base or key.startswith(base + "-")


def owned_hashes(kind: str, tags: Mapping[str, str]) -> set[str]:
    found: set[str] = set()
    for key, value in tags.items():
        if is_ownership_tag(kind, key):
            found.update(value.split())
    return found


def ownership_tags(kind: str, hashes: Iterable[str]) -> dict[str, str]:
    """The tags that record the rules with these hashes as owned by `kind`."""
    hashes = sorted(set(hashes))
    chunks = [hashes[i : i + _PER_TAG] for i in range(0, len(hashes), _PER_TAG)]
    base = tag_key_base(kind)
    return {(base if n == 0 else f"{base}-{n}"): " ".join(chunk) for n, chunk in enumerate(chunks)}


def with_owned(kind: str, tags: Mapping[str, str], hashes: Iterable[str]) -> dict[str, str]:
    """`tags` with `kind`'s ownership record replaced by `hashes`; other tags kept."""
    kept = {k: v for k, v in tags.items() if not is_ownership_tag(kind, k)}
    return {**kept, **ownership_tags(kind, hashes)}


def owns(kind: str, tags: Mapping[str, str], rule_id: str) -> bool:
    return rule_hash(rule_id) in owned_hashes(kind, tags)
