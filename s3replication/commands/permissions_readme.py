"""The README's caller-permissions list, generated from the NEEDS table:

    python -m s3replication.commands.permissions_readme --readme   # rewrites it in README.md
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .permission_needs import ANY, COMMANDS, NEEDS, Need

README = Path(__file__).resolve().parent.parent.parent / "README.md"
START, END = "<!-- permissions:start -->", "<!-- permissions:end -->"
STS_NOTE = ("- `sts:GetCallerIdentity` (every command: the account id) needs no permission "
            "(https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html)")
SERVICES = {"s3": "S3", "kms": "KMS", "iam": "IAM", "sns": "SNS",
            "cloudwatch": "CloudWatch"}


def readme_list() -> str:
    """The README's caller-permissions list, from NEEDS: one line per action."""
    lines = [START,
             "<!-- generated from s3replication/commands/permission_needs.py: "
             "`make readme-permissions` -->",
             "", STS_NOTE]
    for prefix, title in SERVICES.items():
        rows: dict[str, list[Need]] = {}
        for need in NEEDS:
            if need.action.split(":")[0] == prefix:
                rows.setdefault(need.action, []).append(need)
        lines.append(f"\n**{title}**\n")
        for action, needs in rows.items():
            commands = [c for c in COMMANDS if any(c in n.commands for n in needs)]
            kinds = ", ".join(dict.fromkeys("any resource" if n.resource == ANY
                                            else n.resource for n in needs))
            notes = [n.why for n in needs if n.why]
            notes += [f"only {n.condition}" for n in needs if n.condition]
            notes += ["optional" for n in needs if n.optional]
            note = f"; {'; '.join(dict.fromkeys(notes))}" if notes else ""
            lines.append(f"- `{action}` on {kinds}: {', '.join(commands)}{note}")
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
