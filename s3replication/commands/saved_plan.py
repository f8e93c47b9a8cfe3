"""Saved plans, as Terraform has them: `plan --out FILE` writes the plan, `apply FILE` makes
exactly those changes, or refuses when AWS or the config moved since (the way a team reviews a
change in a pull request and applies it on merge).

The file is one JSON document (`FORMAT`, `VERSION`): the script, the caller's account, the
config file's path and the SHA-256 of its content, and each change as data, with the state
it was computed from (`current`: the part of the setting the tool manages, as read when the
plan was made) and what it makes it (`wanted`). `apply FILE` checks the file, the script and
the config's content before any AWS call (a bad file, or one for the other script: exit 2; a
config edited since: exit 3), the account once it is known (exit 2), then plans again: when
any change differs from the saved one (a setting someone changed, one now in sync, one out of
sync since), it refuses, naming each, with nothing changed (exit 3); else it applies, which
makes the changes it finds: those of the plan.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..config.model import Config
from ..engine.items import Change
from ..errors import ExitStatus, ReplicationToolError, UsageError
from ..output.changes_text import short_value

log = logging.getLogger(__name__)
FORMAT = "ecommerce-s3-replication plan"
VERSION = 1
SCRIPTS = {"crr": "cr_replication", "srr": "sr_replication"}


class PlanMoved(ReplicationToolError):
    """What a saved plan was computed from changed since: the plan no longer says what an
    apply would do. Nothing was changed."""

    exit_status = ExitStatus.ATTENTION

    def __init__(self, path: Path, what: str, moved: list[str]):
        self.moved = list(moved)
        lines = [f"refused, nothing changed: {what} changed since the plan {path} was made; "
                 "plan again, review, and apply the new plan:"]
        super().__init__("\n".join(lines + [f"  - {line}" for line in self.moved]))


@dataclass(frozen=True)
class SavedPlan:
    path: Path
    script: str  # cr_replication or sr_replication
    account: str
    config_path: str  # as given to plan, relative to where it ran when it could be
    config_sha256: str
    changes: list[dict[str, Any]]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _shown_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path.resolve())


def as_data(value: Any) -> Any:
    """A value as the file holds it (and as it reads back): plain JSON."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def write(path: Path, config: Config, kind: str, account: str, changes: list[Change]) -> None:
    """The plan, written whole or not at all (a temporary file beside it, then renamed)."""
    document = {
        "format": FORMAT,
        "version": VERSION,
        "script": SCRIPTS[kind],
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "account": account,
        "config": {"path": _shown_path(config.path), "sha256": digest(config.path)},
        "changes": [as_data(c.as_dict()) for c in changes],
    }
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    os.replace(partial, path)


def _bad(path: Path, why: str) -> UsageError:
    return UsageError(f"{path}: not a plan this tool can apply: {why}")


def _field(document: dict[str, Any], path: Path, name: str, kind: type) -> Any:
    value: Any = document
    for part in name.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if not isinstance(value, kind):
        raise _bad(path, f'"{name}" is missing or not a {kind.__name__}')
    return value


def read(path: Path) -> SavedPlan:
    """The plan in `path`; a file that is not one (or of another version) is a usage error."""
    try:
        document = json.loads(path.read_text())
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the plan file ({exc.strerror or exc})") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise _bad(path, f"not JSON ({exc})") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise _bad(path, f'no "format": "{FORMAT}" (write one with plan --out FILE)')
    if document.get("version") != VERSION:
        raise _bad(path, f"version {document.get('version')!r}; this tool reads version "
                         f"{VERSION} (make the plan again with this version)")
    changes = _field(document, path, "changes", list)
    for change in changes:
        if not isinstance(change, dict) or not {"resource", "setting"} <= set(change):
            raise _bad(path, "a change without resource and setting")
    return SavedPlan(path, _field(document, path, "script", str),
                     _field(document, path, "account", str),
                     _field(document, path, "config.path", str),
                     _field(document, path, "config.sha256", str), changes)


def check(config: Config, kind: str, args: argparse.Namespace) -> None:
    """Before the first AWS call: `plan --out` can write where it is told; `apply FILE` is a
    plan of this script (else exit 2) made from this config as it is now (else exit 3)."""
    out = getattr(args, "out", None)
    if out is not None and not Path(out).parent.is_dir():
        raise UsageError(f"--out {out}: no such folder {Path(out).parent}")
    if getattr(args, "plan_file", None) is None:
        return
    saved = read(Path(args.plan_file))
    if saved.script != SCRIPTS[kind]:
        raise UsageError(f"{saved.path}: a plan of {saved.script}.py, not of "
                         f"{SCRIPTS[kind]}.py: apply it with {saved.script}.py")
    now = digest(config.path)
    if now != saved.config_sha256:
        raise PlanMoved(saved.path, "the config", [
            f"{_shown_path(config.path)}: sha256 {saved.config_sha256[:12]}... when planned "
            f"(from {saved.config_path}), {now[:12]}... now"])


def check_account(saved: SavedPlan, account: str) -> None:
    if saved.account != account:
        raise UsageError(f"{saved.path}: a plan for AWS account {saved.account}; these "
                         f"credentials are account {account}")


def _by_setting(changes: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    found: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for change in changes:
        found.setdefault((change["resource"], change["setting"]), []).append(change)
    return found


def moved(planned: list[dict[str, Any]], now: list[Change]) -> list[str]:
    """Each setting whose change now differs from the plan's, in one line: what it was when
    planned and what it is now."""
    before, after = _by_setting(planned), _by_setting([as_data(c.as_dict()) for c in now])
    lines = []
    for key in dict.fromkeys([*before, *after]):
        was, found = before.get(key, []), after.get(key, [])
        if [(c.get("current"), c.get("wanted")) for c in was] == \
                [(c.get("current"), c.get("wanted")) for c in found]:
            continue
        resource, setting = key
        then = short_value(was[0].get("current")) if was else "as wanted"
        today = short_value(found[0].get("current")) if found else "as wanted"
        if was and found and was[0].get("current") == found[0].get("current"):
            lines.append(f"{resource}: {setting}: the plan makes it "
                         f"{short_value(was[0].get('wanted'))}, apply would now make it "
                         f"{short_value(found[0].get('wanted'))}")
        else:
            lines.append(f"{resource}: {setting}: {then} when planned, {today} now")
    return lines


def refuse_if_moved(saved: SavedPlan, now: list[Change]) -> None:
    found = moved(saved.changes, now)
    if found:
        raise PlanMoved(saved.path, "AWS", found)
    log.info("saved plan %s: AWS is as it was when planned", saved.path)
