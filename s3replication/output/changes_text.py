"""Changes as text: one line per setting, grouped by resource, with what differs."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ..engine.items import Change

SYMBOL = {"create": "+", "update": "~", "delete": "-"}
WIDTH = 110


def short_value(value: Any) -> str:
    text = "absent" if value is None else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= WIDTH else text[: WIDTH - 3] + "..."


def differences(current: Any, wanted: Any, path: str = "", depth: int = 0) -> list[str]:
    """The paths where two values differ, descending into dicts a few levels."""
    if isinstance(current, dict) and isinstance(wanted, dict) and depth < 3:
        lines: list[str] = []
        for key in sorted(set(current) | set(wanted), key=str):
            if current.get(key) != wanted.get(key):
                sub = f"{path}.{key}" if path else str(key)
                lines += differences(current.get(key), wanted.get(key), sub, depth + 1)
        return lines
    prefix = f"{path}: " if path else ""
    return [f"{prefix}{short_value(current)} -> {short_value(wanted)}"]


def changes_text(changes: Iterable[Change], heading: str) -> str:
    lines = [heading]
    by_resource: dict[str, list[Change]] = {}
    for change in changes:
        by_resource.setdefault(change.resource, []).append(change)
    for resource, group in by_resource.items():
        lines.append(f"  {resource}")
        for change in group:
            symbol = SYMBOL[change.action]
            diffs = differences(change.current, change.wanted)
            setting = change.setting + (f" [{change.remark}]" if change.remark else "")
            if len(diffs) == 1:
                lines.append(f"    {symbol} {setting}: {diffs[0]}")
            else:
                lines.append(f"    {symbol} {setting}:")
                lines += [f"        {d}" for d in diffs]
    return "\n".join(lines)
