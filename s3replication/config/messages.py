"""How the loader words a problem: values as the user wrote them, unknown keys with a hint."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping


def show(value: object) -> str:
    """A value as the user would have written it, strings in double quotes; a character that
    does not print (a line or paragraph separator such as U+0085 or U+2028, a control
    character) as its escape, so that every problem stays on one line."""
    if not isinstance(value, str):
        return repr(value)
    return "".join(c if c.isprintable() else json.dumps(c)[1:-1]
                   for c in json.dumps(value, ensure_ascii=False))


def close_match(name: str, known: Iterable[str]) -> str | None:
    """The known name closest to `name`, if one is close enough to suggest."""
    hint = difflib.get_close_matches(name, list(known), n=1)
    return hint[0] if hint else None


def unknown_keys(setting: str, value: Mapping[object, object], known: tuple[str, ...],
                 problems: list[str]) -> None:
    for key in value:
        if key not in known:
            hint = close_match(str(key), known)
            also = f' (did you mean "{hint}"?)' if hint else ""
            problems.append(f"{setting}: unknown key {show(key)}{also}")
