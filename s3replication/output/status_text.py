"""`status` as text (registered with the one renderer, output/render.py)."""

from __future__ import annotations

from ..monitoring import alarm_names
from . import results, texts
from .render import text


def access_point_lines(points: dict[str, dict[str, int]]) -> list[str]:
    """Each Multi-Region Access Point's routes: which buckets take traffic now."""
    if not points:
        return []
    lines = ["Multi-Region Access Points (traffic dial per bucket):"]
    for name, routes in points.items():
        shown = ", ".join(f"{b} {d} ({'active' if d else 'passive'})"
                          for b, d in sorted(routes.items()))
        lines.append(f"  {name}: {shown or 'missing: run apply'}")
    return lines


def object_lock_lines(locks: dict[str, dict]) -> list[str]:
    """Each locked bucket's default retention, as read."""
    if not locks:
        return []
    lines = ["Object Lock (default retention of new versions, replicas included):"]
    for name, lock in locks.items():
        period = next((f"{lock[u]} {u[:-1] if lock[u] == 1 else u}"
                       for u in ("days", "years") if lock.get(u)), "")
        shown = (f"{lock['mode']} {period}" if lock.get("mode") else
                 "enabled, no default retention" if lock.get("enabled") else "not enabled")
        extra = f" ({lock['attention']})" if lock.get("attention") else ""
        lines.append(f"  {name}: {shown}{extra}")
    return lines


@text.register
def _(result: results.StatusResult) -> str:
    script = result.script
    if not result.rules:
        return "\n".join([f"{script}.py has no rules in the config."]
                         + access_point_lines(result.access_points)
                         + object_lock_lines(result.object_lock))
    suffixes = (alarm_names.FAILED.suffix, alarm_names.SLOW.suffix, alarm_names.BACKLOG.suffix)
    table = [texts.STATUS_COLUMNS] + [(
        r.rule, f"{r.source} -> {r.destination}", "on" if r.rtc else "off",
        "/".join(texts.STATUS_STATES.get(r.alarms.get(c), "?") if c in r.alarms else "-"
                 for c in suffixes),
        *("-" if value is None else f"{value:g}" for value in r.figures.values()),
        r.verdict,
    ) for r in result.rules]
    widths = [max(len(line[n]) for line in table) for n in range(len(texts.STATUS_COLUMNS))]
    lines = [f"Replication status of {script}.py's rules (last {result.window_minutes} minutes):"]
    lines += ["  " + "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
              for line in table]
    lines.append("  (ALARMS: states of the failed-operations/latency/backlog alarms; NODATA: "
                 "insufficient data; -: no such alarm for the rule)")
    for r in result.rules:
        lines += [f"  {r.rule}: {reason}" for reason in r.reasons]
    return "\n".join(lines + access_point_lines(result.access_points)
                     + object_lock_lines(result.object_lock))
