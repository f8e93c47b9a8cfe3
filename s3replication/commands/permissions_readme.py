"""The README's caller-permissions list, generated from the NEEDS table:

    python -m s3replication.commands.permissions_readme --readme   # rewrites it in README.md
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .permission_needs import (
    ANY,
    ANY_FOR_ALIASES,
    COMMANDS,
    HERE,
    NEEDS,
    THERE,
    Need,
    is_read_action,
)

README = Path(__file__).resolve().parent.parent.parent / "README.md"
START, END = "<!-- permissions:start -->", "<!-- permissions:end -->"
STS_NOTE = ("- `sts:GetCallerIdentity` (every command: the account id) needs no permission "
            "(https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html)")
SERVICES = {"s3": "S3", "kms": "KMS", "iam": "IAM", "sns": "SNS",
            "cloudwatch": "CloudWatch", "sts": "STS", "athena": "Athena", "glue": "Glue"}
OTHER_ACCOUNTS = (
    "**In each account of ACCOUNTS that holds buckets of the config**, for the role (or "
    "profile) the scripts reach it with, on the buckets of the config that live there and "
    "their KMS keys (`permissions` prints these policies under the key \"ACCOUNT_ID (NAME)\"; "
    "the caller's list above is for its own buckets). The role must also trust the caller "
    "(https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_permissions-to-switch.html), "
    "and the destination's bucket and key policies allow the source's replication role "
    "(apply writes those statements: "
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/"
    "setting-repl-config-perm-overview.html#setting-repl-config-crossacct). "
    "With `admin_profile` set for the account, the role (or profile) needs the reads alone "
    "(`Get*`, `List*`, `Describe*`: \"ACCOUNT_ID (NAME)\") and every action marked "
    "*admin_profile* is the admin profile's instead (\"ACCOUNT_ID (NAME admin)\").")
ADMIN_NOTE = "*admin_profile* when set"
KINDS = {ANY: "any resource", ANY_FOR_ALIASES: "any resource (where a key is named by alias)"}


def _line(action: str, needs: list[Need], there: bool = False) -> str:
    """One action's line: on what, for which commands, and the notes (`there`: whether the
    admin profile holds it, for an account with one)."""
    commands = [c for c in COMMANDS if any(c in n.commands for n in needs)]
    kinds = ", ".join(dict.fromkeys(KINDS.get(n.resource, n.resource) for n in needs))
    notes = [ADMIN_NOTE] if there and not is_read_action(action) else []
    notes += [n.why for n in needs if n.why]
    notes += [f"only {n.condition}" for n in needs if n.condition]
    notes += ["optional" for n in needs if n.optional]
    note = f"; {'; '.join(dict.fromkeys(notes))}" if notes else ""
    return f"- `{action}` on {kinds}: {', '.join(commands)}{note}"


def _section(where: str, suffix: str = "") -> list[str]:
    """The lines of the rows of NEEDS for `where` (HERE or THERE), by service."""
    lines: list[str] = []
    for prefix, title in SERVICES.items():
        rows: dict[str, list[Need]] = {}
        for need in NEEDS:
            if need.action.split(":")[0] == prefix and where in need.accounts:
                rows.setdefault(need.action, []).append(need)
        if rows:
            lines.append(f"\n**{title}{suffix}**\n")
            lines += [_line(action, needs, where == THERE) for action, needs in rows.items()]
    return lines


def readme_list() -> str:
    """The README's caller-permissions list, from NEEDS: one line per action, the caller's
    account first, then what each account of ACCOUNTS needs."""
    lines = [START,
             "<!-- generated from s3replication/commands/permission_needs.py: "
             "`make readme-permissions` -->",
             "", STS_NOTE]
    lines += _section(HERE)
    lines += ["", OTHER_ACCOUNTS, *_section(THERE, ", in that account")]
    lines.append(END)
    return "\n".join(lines)


def with_readme_list(text: str) -> str:
    """`text` (the README) with the part between the markers replaced by `readme_list()`."""
    head, start, rest = text.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise ValueError(f"README.md lacks the markers {START} ... {END}")
    return head + readme_list() + tail


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m s3replication.commands.permissions_readme")
    parser.add_argument("--readme", action="store_true",
                        help="rewrite the caller-permissions list in README.md")
    args = parser.parse_args(argv)
    if args.readme:
        README.write_text(with_readme_list(README.read_text()))
        print(f"{README}: caller permissions list rewritten")
    else:
        print(readme_list())
    return 0


if __name__ == "__main__":
    sys.exit(main())
