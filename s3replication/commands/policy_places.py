"""Whose IAM policies `permissions` prints: the caller's account (HERE), and each account of
ACCOUNTS holding buckets of the config (THERE), twice for one with an `admin_profile`: its
reader's reads ("ID (NAMES)", production's way in) and its administrators' writes
("ID (NAMES admin)")."""

from __future__ import annotations

from dataclasses import dataclass

from ..config.model import BucketSpec, Config
from .permission_needs import HERE, THERE, Need, is_read_action


@dataclass(frozen=True)
class Place:
    """One account's share of a config: the caller's (HERE), or an account of ACCOUNTS holding
    buckets of the config (THERE)."""

    where: str  # HERE or THERE
    account: str  # its id
    buckets: tuple[BucketSpec, ...]  # the config's buckets that live there
    assumed: tuple[str, ...] = ()  # HERE: the roles of ACCOUNTS the caller assumes
    reads: bool | None = None  # THERE with an admin_profile: True the reader, False the admin

    def grants(self, need: Need) -> bool:
        return (self.where in need.accounts
                and self.reads in (None, is_read_action(need.action)))


def places(config: Config, account: str) -> dict[str, Place]:
    """The caller's account (keyed by its id) and each account of ACCOUNTS that holds buckets
    of the config (keyed "ID (NAMES)"), in account id order; one with an admin_profile twice:
    its reader's "ID (NAMES)" and its admin's "ID (NAMES admin)"."""
    names: dict[str, set[str]] = {}
    for bucket in config.buckets.values():
        other = config.account_of(bucket)
        if other is not None:
            names.setdefault(other.account_id, set()).add(other.name)
    used = [config.accounts[n] for ids in names.values() for n in ids]
    mine = tuple(b for b in config.buckets.values() if not b.account)
    found = {account: Place(HERE, account, mine,
                            tuple(sorted({a.role_arn for a in used if a.role_arn})))}
    for other_id, there in sorted(names.items()):
        buckets = tuple(b for b in config.buckets.values() if b.account in there)
        label = ", ".join(sorted(there))
        if not any(config.accounts[n].admin_profile for n in there):
            found[f"{other_id} ({label})"] = Place(THERE, other_id, buckets)
            continue
        found[f"{other_id} ({label})"] = Place(THERE, other_id, buckets, reads=True)
        found[f"{other_id} ({label} admin)"] = Place(THERE, other_id, buckets, reads=False)
    return found
