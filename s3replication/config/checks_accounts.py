"""ACCOUNTS: the other AWS accounts buckets may live in, and how the scripts reach each one;
and the checks that tie buckets and rules to them."""

from __future__ import annotations

import re
from typing import Any

from s3replication.config.messages import close_match, show, unknown_keys
from s3replication.config.model import AccountSpec, BucketSpec, RuleSpec

ACCOUNT_KEYS = ("account_id", "role_arn", "profile", "admin_profile")
_ACCOUNT_ID = re.compile(r"\d{12}")
_KEY_ARN = re.compile(r"arn:aws[-a-z]*:kms:[a-z0-9-]+:(\d{12}):key/.+")
_ROLE_ARN = re.compile(r"arn:aws[-a-z]*:iam::(\d{12}):role/[\w+=,.@/-]{1,512}", re.ASCII)


def accounts(value: object, problems: list[str]) -> dict[str, AccountSpec]:
    if not isinstance(value, dict):
        problems.append(f"ACCOUNTS: must be a dict of account name to settings, "
                        f"not {type(value).__name__}")
        return {}
    found: dict[str, AccountSpec] = {}
    for name, settings in value.items():
        setting = f"ACCOUNTS[{show(name)}]"
        if not isinstance(name, str) or not name:
            problems.append(f"{setting}: the name must be a non-empty str")
            continue
        if not isinstance(settings, dict):
            problems.append(f'{setting}: must be a dict such as {{"account_id": "222222222222", '
                            f'"role_arn": "arn:aws:iam::222222222222:role/NAME"}}, '
                            f"not {show(settings)}")
            continue
        found[name] = _account(setting, name, settings, problems)
    return found


def _account(setting: str, name: str, settings: dict[Any, Any],
             problems: list[str]) -> AccountSpec:
    unknown_keys(setting, settings, ACCOUNT_KEYS, problems)
    account_id: Any = settings.get("account_id")
    if "account_id" not in settings:
        problems.append(f'{setting}: "account_id" is required')
    elif not (isinstance(account_id, str) and _ACCOUNT_ID.fullmatch(account_id)):
        problems.append(f'{setting}["account_id"]: {show(account_id)} is not an AWS account id '
                        '(12 digits, as a str such as "222222222222")')
    role_arn, profile = settings.get("role_arn"), settings.get("profile")
    if (role_arn is None) == (profile is None):
        problems.append(f'{setting}: give exactly one of "role_arn" (a role to assume in that '
                        'account) or "profile" (a named AWS profile)')
    if role_arn is not None:
        match = _ROLE_ARN.fullmatch(role_arn) if isinstance(role_arn, str) else None
        if match is None:
            problems.append(f'{setting}["role_arn"]: {show(role_arn)} is not an IAM role ARN '
                            '"arn:aws:iam::ACCOUNT:role/NAME"')
        elif isinstance(account_id, str) and match[1] != account_id:
            problems.append(f'{setting}["role_arn"]: the role is in account {match[1]}, but '
                            f'"account_id" is {show(account_id)}')
    if profile is not None and not (isinstance(profile, str) and profile):
        problems.append(f'{setting}["profile"]: must be a non-empty str, not {show(profile)}')
    admin_profile = settings.get("admin_profile")
    if admin_profile is not None and not (isinstance(admin_profile, str) and admin_profile):
        problems.append(f'{setting}["admin_profile"]: must be a non-empty str (the named AWS '
                        f"profile of that account's administrators), not {show(admin_profile)}")
    return AccountSpec(name, str(account_id), role_arn, profile, admin_profile)


def check_bucket_accounts(specs: dict[str, BucketSpec], known: dict[str, AccountSpec],
                          problems: list[str]) -> None:
    """Each bucket's "account" names an entry of ACCOUNTS, and a key given by ARN is in it."""
    for spec in specs.values():
        if spec.account is None:
            continue
        setting = f'BUCKETS[{show(spec.name)}]["account"]'
        account: Any = spec.account
        if not isinstance(account, str):
            problems.append(f"{setting}: must be a name from ACCOUNTS, not {show(account)}")
        elif account not in known:
            hint = close_match(account, known)
            also = f' (did you mean "{hint}"?)' if hint else ""
            listed = ", ".join(show(n) for n in known) or "none: ACCOUNTS is empty"
            problems.append(f"{setting}: unknown account {show(account)}{also}; ACCOUNTS "
                            f"has {listed}")
        elif isinstance(spec.kms_key, str) and (match := _KEY_ARN.fullmatch(spec.kms_key)):
            if match[1] != known[account].account_id:
                problems.append(
                    f'BUCKETS[{show(spec.name)}]["kms_key"]: the key is in account {match[1]}, '
                    f"but the bucket is in account {show(account)} "
                    f"({known[account].account_id}); name a key of that account")


def check_rule_accounts(all_rules: tuple[RuleSpec, ...], specs: dict[str, BucketSpec],
                        problems: list[str]) -> None:
    """Only destinations may live in another account: the source's rules, role and monitoring
    are the caller's."""
    for rule in all_rules:
        source = specs.get(rule.source) if isinstance(rule.source, str) else None
        if source is not None and source.account is not None:
            problems.append(
                f"{rule.setting}: source {show(source.name)} is in account "
                f"{show(source.account)}; a rule's source must be in the caller's account "
                "(only destinations may be in another account)")


def check_vault_admins(raw_buckets: object, specs: dict[str, BucketSpec],
                       known: dict[str, AccountSpec], problems: list[str]) -> None:
    """A bucket with `object_lock` in another account needs that account's `admin_profile`:
    without it, production's own way in (role_arn or profile) would hold the writes that
    could loosen the vault, and a vault production can change is not a vault. Read from the
    raw settings, whatever the checks of `object_lock` itself say of its value."""
    if not isinstance(raw_buckets, dict):
        return
    for spec in specs.values():
        settings = raw_buckets.get(spec.name)
        account = known.get(spec.account) if isinstance(spec.account, str) else None
        if (account is None or not isinstance(settings, dict)
                or settings.get("object_lock") is None or account.admin_profile):
            continue
        problems.append(
            f'BUCKETS[{show(spec.name)}]["object_lock"]: the bucket is in account '
            f"{show(account.name)} ({account.account_id}), which has no \"admin_profile\"; "
            f'set ACCOUNTS[{show(account.name)}]["admin_profile"] to the named AWS profile of '
            "that account's own administrators (a vault production can change is not a vault)")
