"""What plan, apply and destroy print: the changes made (or to make), the changes left
pending in another account for its administrators (an account of ACCOUNTS whose admin_profile
is not available here) with who must run what, and the notes."""

from __future__ import annotations

from . import plural, results, texts
from .changes_text import changes_text


def changes_result_text(result: results.ChangesResult) -> str:
    """What plan, apply or destroy prints (--json aside)."""
    made = [c for c in result.changes if c.pending is None]
    count = len(made)
    changes = plural.count(count, "change")
    if result.errors is not None:
        return _with_notes(result, changes_text(
            made, f"Made {changes} before failing; fix the cause and run the "
                  "same command again:") + pending_text(result))
    if result.command == "destroy":
        if not result.changes:
            return "Nothing to destroy.\n" + texts.KEPT_ON_DESTROY
        heading = (f"destroy would make {changes} (run destroy --yes to make them):"
                   if result.dry_run else f"Destroyed ({changes}):")
        return (changes_text(made, heading) + pending_text(result) + "\n"
                + texts.KEPT_ON_DESTROY)
    if not result.changes:
        return _with_notes(result, "No changes: everything matches the config.")
    heading = (f"Applied {changes}:" if result.command == "apply" else
               f"{changes} would be made (run apply to make them):")
    return _with_notes(result, changes_text(made, heading) + pending_text(result))


def pending_text(result: results.ChangesResult) -> str:
    """The changes left to another account's administrators, and who must run what."""
    pending = [c for c in result.changes if c.pending is not None]
    if not pending:
        return ""
    heading = (f"Pending, not made ({plural.count(len(pending), 'change')}, for another "
               "account's administrators):")
    return ("\n" + changes_text(pending, heading)
            + "".join(f"\n  => {line}" for line in result.waiting))


def _with_notes(result: results.ChangesResult, body: str) -> str:
    if not result.notes:
        return body
    return body + "\nNotes:\n" + "\n".join(f"  ! {note}" for note in result.notes)
