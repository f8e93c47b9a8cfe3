"""KMS keys: each alias in the config found or created (symmetric, rotation on, tagged), in its
bucket's Region; keys given by ARN are only checked, never changed.

A created key carries the tag `s3replication:alias=<alias>` before its alias exists, so a run
that crashed between CreateKey and CreateAlias adopts that key instead of making a second one.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

from ..aws.calls import error_code, is_transient, read_or_none
from ..aws.naming import ALIAS_TAG, MANAGED_TAG, key_arn
from ..engine.context import Context
from ..engine.items import Item, parallel_map
from ..engine.scope import Scope
from ..errors import AwsError
from .settings import Setting

EXISTS = "exists"
CREATE_ATTEMPTS = 6


def _aliases_by_region(ctx: Context, regions: set[str]) -> dict[str, dict[str, str]]:
    def read(region: str) -> dict[str, str]:
        pages = ctx.clients.get("kms", region).get_paginator("list_aliases").paginate()
        return {
            a["AliasName"]: a["TargetKeyId"]
            for page in pages
            for a in page.get("Aliases", [])
            if a.get("TargetKeyId")
        }

    ordered = sorted(regions)
    return dict(zip(ordered, parallel_map(read, ordered), strict=True))


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


def _create_key(ctx: Context, region: str, alias: str) -> str:
    """A new key tagged for `alias`. CreateKey is not idempotent: a retry after a lost answer
    would make a second key. So each attempt is made once, and before the next one we look
    for the key a failed attempt may have made after all (it carries the alias tag)."""
    kms = ctx.clients.get("kms", region)
    once = ctx.clients.single_attempt("kms", region)
    tags = [{"TagKey": k, "TagValue": v} for k, v in ctx.config.tags.items()]
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


def _create_or_adopt(ctx: Context, region: str, alias: str) -> None:
    kms = ctx.clients.get("kms", region)
    key_id = _orphan_key(kms, alias)
    if key_id is None:
        key_id = _create_key(ctx, region, alias)
    kms.enable_key_rotation(KeyId=key_id)
    _create_alias(kms, alias, key_id)
    with ctx.lock:
        ctx.key_arns[(region, alias)] = key_arn(ctx.account, region, key_id)


@dataclass(frozen=True)
class KeyTarget:
    """A key of the config in one Region: an alias this tool finds or creates, or an ARN."""

    ctx: Context
    region: str
    key: str  # "alias/NAME" or a key ARN

    @property
    def resource(self) -> str:
        return f"kms key {self.key} ({self.region})"

    @property
    def kms(self) -> Any:
        return self.ctx.clients.get("kms", self.region)

    @property
    def arn(self) -> str:
        if not self.key.startswith("alias/"):
            return self.key
        return self.ctx.key_arns[(self.region, self.key)]


def read_alias(on: KeyTarget) -> Any:
    return EXISTS if (on.region, on.key) in on.ctx.key_arns else None


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
    read_alias, lambda on: EXISTS, lambda on, _: _create_or_adopt(on.ctx, on.region, on.key),
    gate=True)
STATE: Setting[KeyTarget] = Setting(
    "key state", ("kms:DescribeKey",), read_state, lambda on: "Enabled",
    refuse_state)  # never changed: a key not Enabled stops the run
ROTATION: Setting[KeyTarget] = Setting(
    "rotation", ("kms:GetKeyRotationStatus", "kms:EnableKeyRotation"),
    read_rotation, lambda on: True, enable_rotation)
KEY_SETTINGS: tuple[Setting[KeyTarget], ...] = (ALIAS, STATE, ROTATION)  # a key by alias
GIVEN_KEY_SETTINGS: tuple[Setting[KeyTarget], ...] = (STATE,)  # a key by ARN: only checked


def lanes(ctx: Context, scope: Scope) -> list[list[Item]]:
    """One lane per KMS key used by the buckets this script touches."""
    keys = sorted({(b.region, b.kms_key) for b in scope.touched if b.kms_key})
    alias_regions = {region for region, key in keys if key.startswith("alias/")}
    found = _aliases_by_region(ctx, alias_regions) if alias_regions else {}
    result: list[list[Item]] = []
    for region, key in keys:
        target = KeyTarget(ctx, region, key)
        rows = KEY_SETTINGS if key.startswith("alias/") else GIVEN_KEY_SETTINGS
        existing = found.get(region, {}).get(key)
        if existing:
            ctx.key_arns[(region, key)] = key_arn(ctx.account, region, existing)
        result.append([row.item(target.resource, target) for row in rows])
    return result
