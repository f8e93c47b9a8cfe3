"""A bucket's object ownership: BucketOwnerEnforced, unless the bucket ACL grants others.

BucketOwnerEnforced disables ACLs, and AWS refuses it (InvalidBucketAclWithObjectOwnership)
while the bucket ACL grants anyone but the owner
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-error-responses.html).
An adopted bucket whose ACL grants others keeps its object ownership: a note (not a change)
names the grantees, in plan, apply and the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..aws.calls import read_or_none
from .bucket_target import BucketTarget

OWNER_ENFORCED = "BucketOwnerEnforced"
ACL_GROUPS = "http://acs.amazonaws.com/groups/"


@dataclass(frozen=True)
class OwnershipSeen:
    """The bucket's object ownership, and who else its ACL grants (when ACLs are enabled)."""

    ownership: str | None
    acl_grantees: tuple[str, ...] = ()


def acl_grantees(acl: dict[str, Any]) -> tuple[str, ...]:
    """Everyone but the owner that the bucket ACL grants, with their permissions."""
    owner = acl.get("Owner", {}).get("ID")
    granted: dict[str, list[str]] = {}
    for grant in acl.get("Grants", []):
        grantee = grant.get("Grantee", {})
        if grantee.get("Type") == "CanonicalUser" and grantee.get("ID") == owner:
            continue
        granted.setdefault(_grantee_name(grantee), []).append(grant.get("Permission", "?"))
    return tuple(f"{name} ({', '.join(sorted(set(perms)))})"
                 for name, perms in sorted(granted.items()))


def _grantee_name(grantee: dict[str, Any]) -> str:
    if grantee.get("URI"):
        return "group " + grantee["URI"].removeprefix(ACL_GROUPS)
    if grantee.get("EmailAddress"):
        return f"user {grantee['EmailAddress']}"
    who = grantee.get("DisplayName") or grantee.get("ID", "?")
    return f"canonical user {who}"


def _ownership_note(resource: str, seen: OwnershipSeen) -> str:
    current = seen.ownership or "its default (no ownership controls)"
    return (f"{resource}: object ownership left at {current}, not set to {OWNER_ENFORCED}: "
            f"the bucket ACL grants {'; '.join(seen.acl_grantees)}. {OWNER_ENFORCED} would "
            "disable that ACL (AWS refuses it with InvalidBucketAclWithObjectOwnership). "
            "Move those grants to the bucket policy, reset the ACL to private, then run apply "
            "again "
            "(https://docs.aws.amazon.com/AmazonS3/latest/userguide/"
            "object-ownership-migrating-acls-prerequisites.html).")


def read_ownership(on: BucketTarget) -> OwnershipSeen:
    """The ownership controls; and, unless they enforce bucket ownership, the ACL's grantees
    (a note names them: the check before BucketOwnerEnforced)."""
    controls = read_or_none(
        lambda: on.s3.get_bucket_ownership_controls(Bucket=on.name)["OwnershipControls"],
        "OwnershipControlsNotFoundError",
    )
    current = controls["Rules"][0]["ObjectOwnership"] if controls else None
    if current == OWNER_ENFORCED:
        return OwnershipSeen(current)
    seen = OwnershipSeen(current, acl_grantees(on.s3.get_bucket_acl(Bucket=on.name)))
    if seen.acl_grantees:
        on.ctx.note(_ownership_note(on.resource, seen))
    return seen


def write_ownership(on: BucketTarget, _: Any) -> None:
    on.s3.put_bucket_ownership_controls(
        Bucket=on.name, OwnershipControls={"Rules": [{"ObjectOwnership": OWNER_ENFORCED}]})


def project_ownership(_: BucketTarget, seen: OwnershipSeen | None) -> str | None:
    return seen.ownership if seen else None


def desired_ownership(_: BucketTarget, seen: OwnershipSeen | None) -> str | None:
    """BucketOwnerEnforced, unless the bucket ACL grants others: then what is there (a note
    says why, so plan shows no change that apply could not make)."""
    if seen is not None and seen.acl_grantees:
        return seen.ownership
    return OWNER_ENFORCED
