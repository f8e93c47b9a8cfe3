"""KMS keys: each alias in the config found or created (symmetric, rotation on, tagged), in its
bucket's Region; keys given by ARN are only checked, never changed.

A created key carries the tag `s3replication:alias=<alias>` before its alias exists, so a run
that crashed between CreateKey and CreateAlias adopts that key instead of making a second one.
"""

from __future__ import annotations

import random
import time
from typing import Any

from ..aws.calls import error_code, is_not_found, is_transient
from ..aws.naming import ALIAS_TAG, MANAGED_TAG, key_arn
from ..engine.context import Context
from ..engine.items import Item, parallel_map
from ..errors import AwsError

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


def _state_item(ctx: Context, resource: str, region: str, arn_of: Any) -> Item:
    def read() -> Any:
        arn = arn_of()
        try:
            meta = ctx.clients.get("kms", region).describe_key(KeyId=arn)["KeyMetadata"]
        except Exception as exc:
            if is_not_found(exc, "NotFoundException"):
                return "missing"
            raise
        return meta.get("KeyState", "Enabled")

    def write(current: Any) -> None:
        raise AwsError(
            f"{resource}: the KMS key {arn_of()} is {current}; replication into or out of its "
            "bucket would fail. Enable the key (or cancel its deletion), or name another key"
        )

    return Item(resource, "key state", "Enabled", read, write)


def lanes(ctx: Context) -> list[list[Item]]:
    """One lane per KMS key used by the buckets this script touches."""
    keys = sorted({(b.region, b.kms_key) for b in ctx.touched_buckets() if b.kms_key})
    alias_regions = {region for region, key in keys if key.startswith("alias/")}
    found = _aliases_by_region(ctx, alias_regions) if alias_regions else {}
    result: list[list[Item]] = []
    for region, key in keys:
        resource = f"kms key {key} ({region})"
        if not key.startswith("alias/"):
            result.append([_state_item(ctx, resource, region, lambda key=key: key)])
            continue
        target = found.get(region, {}).get(key)
        if target:
            ctx.key_arns[(region, key)] = key_arn(ctx.account, region, target)

        def read_alias(region: str = region, key: str = key) -> Any:
            return EXISTS if (region, key) in ctx.key_arns else None

        def create(_: Any, region: str = region, key: str = key) -> None:
            _create_or_adopt(ctx, region, key)

        def arn_of(region: str = region, key: str = key) -> str:
            return ctx.key_arns[(region, key)]

        def read_rotation(region: str = region, arn_of: Any = arn_of) -> bool:
            kms = ctx.clients.get("kms", region)
            return bool(kms.get_key_rotation_status(KeyId=arn_of())["KeyRotationEnabled"])

        def rotate(_: Any, region: str = region, arn_of: Any = arn_of) -> None:
            ctx.clients.get("kms", region).enable_key_rotation(KeyId=arn_of())

        result.append(
            [
                Item(resource, "alias", EXISTS, read_alias, create, gate=True),
                _state_item(ctx, resource, region, arn_of),
                Item(resource, "rotation", True, read_rotation, rotate),
            ]
        )
    return result
