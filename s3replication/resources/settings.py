"""The shape of a managed setting: one row of a table (resources/bucket_settings.py), which
says how to read it, the part we manage, the value we want, how to write it, and the IAM
actions those calls need. A row becomes an engine `Item` for one target (a bucket, ...)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ..engine.items import Item

Target = TypeVar("Target")


def whole(_: Any, current: Any) -> Any:
    """The part we manage is all of it."""
    return current


@dataclass(frozen=True)
class Setting(Generic[Target]):
    name: str  # as plan shows it
    actions: tuple[str, ...]  # IAM actions of its read and write calls (commands/permissions)
    read: Callable[[Target], Any]  # the full current value, None when absent
    wanted: Callable[[Target], Any]  # plain data; None means "should not exist"
    write: Callable[[Target, Any], None]  # given the full current value, make it wanted
    project: Callable[[Target, Any], Any] = whole  # the part of the current value we manage
    desire: Callable[[Target, Any], Any] | None = None  # wanted, when it depends on what is there
    gate: bool = False  # an existence row: when absent, the rows after it read as absent
    fresh: bool = False  # a gate row that makes the target with nothing set (Item.fresh)
    made_by_gate: bool = False  # the gate row's write makes it as wanted (Item.made_by_gate)
    # its own document, apart from the rows around it: next to other such rows, read at the
    # same time as they are, then written one at a time (engine Item.touches, writes_alone)
    apart: bool = False
    # the document it reads and writes, when other rows or items write it too (Item.touches)
    document: str | None = None
    # what a user must know about a change besides its values (Item.remark)
    remark: Callable[[Target, Any, Any], str | None] | None = None

    def item(self, resource: str, target: Target) -> Item:
        desire, remark = self.desire, self.remark
        return Item(
            resource, self.name, self.wanted(target),
            read=lambda: self.read(target),
            write=lambda current: self.write(target, current),
            project=lambda current: self.project(target, current),
            gate=self.gate, fresh=self.fresh, made_by_gate=self.made_by_gate,
            desire=None if desire is None else (lambda current: desire(target, current)),
            touches=self.document or (self.name if self.apart else None),
            writes_alone=self.apart,
            remark=None if remark is None else (
                lambda seen, wanted: remark(target, seen, wanted)),
        )
