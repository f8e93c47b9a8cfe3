"""What one run knows: the config, which script it is, the clients, and facts learned on the way."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..aws.naming import global_region, role_arn
from ..config.model import BucketSpec, Config, RuleSpec

log = logging.getLogger(__name__)
APPLY, PLAN, DESTROY = "apply", "plan", "destroy"
UNKNOWN = object()  # Context.written: what the document holds is not known


@dataclass
class Context:
    """Stages that run at once (engine/stages.py) share it: each runs on a copy of its own
    (`dataclasses.replace`, only `notes` its own), so a fact learned during a run lives in one
    of the containers below, shared by every copy and changed under `lock`, never in a field
    set anew."""

    config: Config
    kind: str  # "crr" or "srr"
    clients: Any  # s3replication.aws.clients.Clients
    account: str
    mode: str = PLAN
    dry_run: bool = False  # destroy without --yes: the destroy plan, read only
    # (account id, region, alias) -> key ARN, as found or created by this run
    key_arns: dict[tuple[str, str, str], str] = field(default_factory=dict)
    bucket_tags: dict[str, dict[str, str]] = field(default_factory=dict)  # read once, kept fresh
    rule_ids_seen: set[str] = field(default_factory=set)  # ids on the buckets read, for messages
    made_new: set[str] = field(default_factory=set)  # roles/buckets this run created or changed
    notes: list[str] = field(default_factory=list)  # things a user should know, not changes
    # A document one stage read, for the next stage that reads it (see `reread`)
    read_earlier: dict[tuple[str, ...], Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, text: str) -> None:
        """Tell the user something that is not a change (shown after the changes by plan,
        apply and destroy, and logged once as a warning)."""
        with self.lock:
            if text in self.notes:
                return
            self.notes.append(text)
        log.warning("note: %s", text)

    def reread(self, key: tuple[str, ...], read: Callable[[], Any]) -> Any:
        """`read()`, unless an earlier stage of this run read the same document (`key`) and
        nothing of this run wrote it since: then that answer, once. The answer is kept for
        the next reader; a writer calls `written(key)` first. (A no-change apply reads each
        source's replication rules and each role's permissions before the rules change and
        again after; reading them once saves a call per source and per role.)"""
        with self.lock:
            if key in self.read_earlier:
                return self.read_earlier.pop(key)
        value = read()
        with self.lock:
            self.read_earlier[key] = value
        return value

    def written(self, key: tuple[str, ...], now: Any = UNKNOWN) -> None:
        """This run is about to write the document `key`: what was read of it no longer holds.
        Once the write succeeded, `written(key, now)` gives what the document holds now (IAM
        is eventually consistent: a read right after a write may still show the old one,
        https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency)."""
        with self.lock:
            self.read_earlier.pop(key, None)
            if now is not UNKNOWN:
                self.read_earlier[key] = now

    @property
    def writes(self) -> bool:
        return self.mode in (APPLY, DESTROY) and not self.dry_run

    @property
    def rules(self) -> tuple[RuleSpec, ...]:
        return self.config.rules(self.kind)

    def bucket(self, name: str) -> BucketSpec:
        return self.config.buckets[name]

    def touched_buckets(self) -> list[BucketSpec]:
        """Sources and destinations of this script's rules, in the order of BUCKETS."""
        names = {r.source for r in self.rules} | {r.destination for r in self.rules}
        return [b for n, b in self.config.buckets.items() if n in names]

    def role_arn(self, bucket: BucketSpec) -> str:
        return role_arn(self.account, bucket.replication_role, bucket.region)

    def key_arn(self, bucket: BucketSpec) -> str | None:
        """The bucket's KMS key ARN; for an alias, as found or created by this run."""
        key = bucket.kms_key
        if key is None or key.startswith("arn:"):
            return key
        return self.key_arns.get((self.account_of(bucket), bucket.region, key),
                                 f"(key of {key}, known after apply)")

    def hold_for_unknown_keys(self, document: Any, what: str) -> None:
        """Before a write in the caller's account of `document` (a role's policy, a source's
        rules): where it names a key of another account that does not exist yet because that
        account's admin_profile is not available here, raise AdminUnavailable, so that nothing
        is sent and the write is left pending with that account's changes (items.py). IAM
        refuses a policy naming a key ARN that is not one (MalformedPolicyDocument), and S3 a
        rule naming a replica key that is not one."""
        text = json.dumps(document, default=str)
        for bucket in self.config.buckets.values():
            arn = self.key_arn(bucket)
            if not bucket.account or arn is None or arn.startswith("arn:") or arn not in text:
                continue
            clients = self.clients_of(bucket)
            if clients.admin_available():
                continue
            self.note(f"{what} names the KMS key of bucket {bucket.name} (account "
                      f"{bucket.account}), which that account's administrators make: left "
                      "pending with their changes, made by the apply that makes the key")
            clients.require_admin()  # raises AdminUnavailable: nothing sent

    def account_of(self, bucket: BucketSpec) -> str:
        """The id of the account the bucket lives in."""
        other = self.config.account_of(bucket)
        return other.account_id if other else self.account

    def in_other_account(self, bucket: BucketSpec) -> bool:
        return self.account_of(bucket) != self.account

    def clients_of(self, bucket: BucketSpec) -> Any:
        """The client factory of the bucket's account (Clients.for_account)."""
        other = self.config.account_of(bucket)
        return self.clients if other is None else self.clients.for_account(
            other, self.global_region)

    def s3_of(self, bucket: BucketSpec) -> Any:
        """S3 in the bucket's Region, as its account."""
        return self.clients_of(bucket).get("s3", bucket.region)

    def s3(self, region: str) -> Any:
        """S3 in `region`, as the caller (whose account holds every rule's source)."""
        return self.clients.get("s3", region)

    @property
    def global_region(self) -> str:
        """Where IAM, STS and ListBuckets are called: the global Region of the config's
        partition (the config validator makes sure all buckets share one)."""
        return global_region(self.config.region_of_partition)

    def iam(self) -> Any:
        return self.clients.get("iam", self.global_region)
