"""Tags (TAGS, and a rule's tags filter), checked against S3's tag rules."""

from __future__ import annotations

import re

from s3replication.config.messages import show

_TAG_CHARS = re.compile(r"[\w\s.:/=+@-]*")


def tags(setting: str, value: object, problems: list[str]) -> dict[str, str]:
    """Tags as dict of str to str, checked against S3's tag rules; {} when any is bad."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"{setting}: must be a dict of str to str, not {show(value)}")
        return {}
    before = len(problems)
    for key, text in value.items():
        where = f"{setting}[{show(key)}]"
        if not (isinstance(key, str) and 1 <= len(key) <= 128 and _TAG_CHARS.fullmatch(key)):
            problems.append(f"{where}: a tag key must be a str of 1 to 128 letters, digits, "
                            "spaces and _.:/=+-@")
        elif key.lower().startswith("aws:"):
            problems.append(f'{where}: tag keys beginning with "aws:" are reserved by AWS')
        if not (isinstance(text, str) and len(text) <= 256 and _TAG_CHARS.fullmatch(text)):
            problems.append(f"{where}: value {show(text)} must be a str of at most 256 "
                            "letters, digits, spaces and _.:/=+-@")
    return dict(value) if len(problems) == before else {}
