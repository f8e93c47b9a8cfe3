"""Counts in words: "1 change", "2 changes", never "1 changes"."""

from __future__ import annotations


def noun(count: int, singular: str, plural: str = "") -> str:
    """`singular` for one, else `plural` (default: `singular` + "s")."""
    return singular if count == 1 else plural or f"{singular}s"


def count(number: int, singular: str, plural: str = "") -> str:
    """"1 change", "2 changes"; `plural` for irregular nouns ("1 copy", "2 copies")."""
    return f"{number} {noun(number, singular, plural)}"
