"""KMS keys: each alias in the config found or created (symmetric, rotation on, tagged), in its
bucket's Region; keys given by ARN are only checked, never changed.

A created key carries the tag `s3replication:alias=<alias>` before its alias exists, so a run
that crashed between CreateKey and CreateAlias adopts that key instead of making a second one.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..aws.calls import error_code, is_transient, read_or_none
from ..aws.naming import ALIAS_TAG, MANAGED_TAG, key_arn
from ..config.model import AccountSpec, BucketSpec
from ..engine.context import Context
from ..engine.items import Item
from ..engine.parallel import parallel_map
from ..engine.scope import Scope
from ..errors import AwsError
from .settings import Setting

EXISTS = "exists"
CREATE_ATTEMPTS = 6


def _aliases(targets: list[KeyTarget]) -> list[dict[str, str]]:
    """The aliases of each target's account and Region, each (account, Region) read once."""
    places = {(t.account_id, t.region): t for t in targets}

    def read(target: KeyTarget) -> dict[str, str]:
        pages = target.kms.get_paginator("list_aliases").paginate()
        return {
            a["AliasName"]: a["TargetKeyId"]
            for page in pages
            for a in page.get("Aliases", [])
            if a.get("TargetKeyId")
        }

    found = dict(zip(places, parallel_map(read, places.values()), strict=True))
    return [found[(t.account_id, t.region)] for t in targets]


def _orphan_key(kms: Any, alias: str) -> str | None:
    """A key this tool created for `alias` whose alias was never made (a crash in between)."""
    for page in kms.get_paginator("list_keys").paginate():
        for key in page.get("Keys", []):
            try:
                tags = kms.list_resource_tags(KeyId=key["KeyId"]).get("Tags", [])
            except Exception as exc:
                # keys we may not read are not ours; any other failure must not lead to a
                # second key, so it stops the run (a re-run finishes)
                if error_code(exc) in ("AccessDeniedException", "NotFoundException"):
                    continue
                raise
            if {"TagKey": ALIAS_TAG, "TagValue": alias} in tags:
                state = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"]
                if state == "Enabled":
                    return str(key["KeyId"])
    return None


def _create_key(on: KeyTarget, alias: str) -> str:
    """A new key tagged for `alias`. CreateKey is not idempotent: a retry after a lost answer
    would make a second key. So each attempt is made once, and before the next one we look
    for the key a failed attempt may have made after all (it carries the alias tag)."""
    kms = on.kms
    once = on.clients.single_attempt("kms", on.region)
    tags = [{"TagKey": k, "TagValue": v} for k, v in on.ctx.config.tags.items()]
    tags += [{"TagKey": MANAGED_TAG, "TagValue": "true"}, {"TagKey": ALIAS_TAG, "TagValue": alias}]
    for attempt in range(CREATE_ATTEMPTS):
        try:
            return str(once.create_key(
                Description=f"S3 replication encryption key ({alias})",
                KeySpec="SYMMETRIC_DEFAULT",
                KeyUsage="ENCRYPT_DECRYPT",
                Tags=tags,
            )["KeyMetadata"]["KeyId"])
        except Exception as exc:
            if attempt + 1 >= CREATE_ATTEMPTS or not is_transient(exc):
                raise
        time.sleep(random.random() * min(2.0**attempt, 8.0))
        made = _orphan_key(kms, alias)
        if made is not None:
            return made
    raise AssertionError("unreachable")


def _create_alias(kms: Any, alias: str, key_id: str) -> None:
    try:
        kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    except Exception as exc:
        if error_code(exc) != "AlreadyExistsException":
            raise
        # A retry whose first attempt made the alias (its answer was lost): fine if the alias
        # names our key.
        target = kms.describe_key(KeyId=alias)["KeyMetadata"]
        if target["KeyId"] != key_id and target.get("Arn", "").rsplit("/", 1)[-1] != key_id:
            raise AwsError(f"kms key {alias}: the alias was just created by someone else, for "
                           f"key {target['KeyId']}; re-run to use that key",
                           "AlreadyExistsException") from exc


def _create_or_adopt(on: KeyTarget) -> None:
    kms, alias = on.kms, on.key
    key_id = _orphan_key(kms, alias)
    if key_id is None:
        key_id = _create_key(on, alias)
    kms.enable_key_rotation(KeyId=key_id)
    _create_alias(kms, alias, key_id)
    on.remember(key_id)


@dataclass(frozen=True)
class KeyTarget:
    """A key of the config in one account and Region: an alias this tool finds or creates,
    or an ARN."""

    ctx: Context
    region: str
    key: str  # "alias/NAME" or a key ARN
    account: AccountSpec | None = None  # None: the caller's account

    @property
    def account_id(self) -> str:
        return self.account.account_id if self.account else self.ctx.account

    @property
    def resource(self) -> str:
        where = f", account {self.account.name}" if self.account else ""
        return f"kms key {self.key} ({self.region}{where})"

    @property
    def clients(self) -> Any:
        return self.ctx.clients.for_account(self.account, self.ctx.global_region)

    @property
    def kms(self) -> Any:
        return self.clients.get("kms", self.region)

    @property
    def known(self) -> tuple[str, str, str]:
        return (self.account_id, self.region, self.key)

    def remember(self, key_id: str) -> None:
        with self.ctx.lock:
            self.ctx.key_arns[self.known] = key_arn(self.account_id, self.region, key_id)

    @property
    def arn(self) -> str:
        if not self.key.startswith("alias/"):
            return self.key
        return self.ctx.key_arns[self.known]


def read_alias(on: KeyTarget) -> Any:
    return EXISTS if on.known in on.ctx.key_arns else None


def read_state(on: KeyTarget) -> Any:
    meta = read_or_none(lambda: on.kms.describe_key(KeyId=on.arn)["KeyMetadata"],
                        "NotFoundException")
    return "missing" if meta is None else meta.get("KeyState", "Enabled")


def refuse_state(on: KeyTarget, current: Any) -> None:
    raise AwsError(
        f"{on.resource}: the KMS key {on.arn} is {current}; replication into or out of its "
        "bucket would fail. Enable the key (or cancel its deletion), or name another key"
    )


def read_rotation(on: KeyTarget) -> bool:
    return bool(on.kms.get_key_rotation_status(KeyId=on.arn)["KeyRotationEnabled"])


def enable_rotation(on: KeyTarget, _: Any) -> None:
    on.kms.enable_key_rotation(KeyId=on.arn)


ALIAS: Setting[KeyTarget] = Setting(
    "alias", ("kms:ListAliases", "kms:ListKeys", "kms:ListResourceTags", "kms:CreateKey",
              "kms:TagResource", "kms:EnableKeyRotation", "kms:CreateAlias"),
    read_alias, lambda on: EXISTS, lambda on, _: _create_or_adopt(on),
    gate=True)
STATE: Setting[KeyTarget] = Setting(
    "key state", ("kms:DescribeKey",), read_state, lambda on: "Enabled",
    refuse_state, made_by_gate=True)  # never changed: a key not Enabled stops the run
ROTATION: Setting[KeyTarget] = Setting(
    "rotation", ("kms:GetKeyRotationStatus", "kms:EnableKeyRotation"),
    read_rotation, lambda on: True, enable_rotation,
    made_by_gate=True)  # a key the alias row makes is Enabled, its rotation on
KEY_SETTINGS: tuple[Setting[KeyTarget], ...] = (ALIAS, STATE, ROTATION)  # a key by alias
GIVEN_KEY_SETTINGS: tuple[Setting[KeyTarget], ...] = (STATE,)  # a key by ARN: only checked


def targets(ctx: Context, buckets: Iterable[BucketSpec]) -> list[KeyTarget]:
    """The KMS keys of `buckets`, each (account, Region, key) once."""
    keys = sorted({(b.account or "", b.region, b.kms_key) for b in buckets if b.kms_key})
    return [KeyTarget(ctx, region, key, ctx.config.accounts.get(account))
            for account, region, key in keys]


def lanes(ctx: Context, scope: Scope) -> list[list[Item]]:
    """One lane per KMS key used by the buckets this script touches."""
    keys = targets(ctx, scope.touched)
    by_alias = [t for t in keys if t.key.startswith("alias/")]
    for target, found in zip(by_alias, _aliases(by_alias), strict=True):
        if target.key in found:
            target.remember(found[target.key])
    return [[row.item(t.resource, t)
             for row in (KEY_SETTINGS if t.key.startswith("alias/") else GIVEN_KEY_SETTINGS)]
            for t in keys]
