"""readiness, failover and failback as text and as `--json` data (registered with the one
renderer, output/render.py)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from .failover_results import AccessPointReadiness, FailoverResult, ReadinessResult
from .render import data, text


def _readiness_data(point: AccessPointReadiness) -> dict[str, Any]:
    found = asdict(point)
    for check, shown in zip(point.checks, found["checks"], strict=True):
        shown["state"] = check.state
    return {**found, "ready": point.ready, "unknown": point.unknown}


def _routes(routes: dict[str, int]) -> str:
    return ", ".join(f"{b} {d}" for b, d in sorted(routes.items())) or "none"


def readiness_lines(point: AccessPointReadiness) -> list[str]:
    verdict = "ready" if point.ready else "NOT ready"
    if point.ready and point.unknown:
        verdict += f" ({', '.join(point.unknown)} unknown)"
    lines = [f"access point {point.name}" + (f" ({point.alias})" if point.alias else "")
             + f": {verdict}"]
    for check in point.checks:
        lines.append(f"  {check.state:<4} {check.name}")
        lines += [f"         {line}" for line in check.evidence]
    return lines


@data.register
def _(result: ReadinessResult) -> dict[str, Any]:
    return {"script": result.script, "command": "readiness", "status": int(result.status),
            "access_points": [_readiness_data(p) for p in result.access_points]}


@text.register
def _(result: ReadinessResult) -> str:
    lines: list[str] = []
    for point in result.access_points:
        lines += readiness_lines(point)
    return "\n".join(lines)


@data.register
def _(result: FailoverResult) -> dict[str, Any]:
    found = asdict(result)
    found["status"] = int(result.status)
    found["readiness"] = _readiness_data(result.readiness)
    return found


@text.register
def _(result: FailoverResult) -> str:
    after = "now:   " if result.done else "after: "
    lines = [f"{result.command} of access point {result.access_point}",
             f"  routes before: {_routes(result.routes_before)}",
             f"  routes {after}{_routes(result.routes_after)}", "",
             "readiness, checked before the routes changed:"]
    lines += readiness_lines(result.readiness)
    if result.forced and result.done:
        lines.append("forced: " + ("readiness failed" if not result.readiness.ready else
                                   f"{', '.join(result.readiness.unknown)} unknown")
                     + " and the routes were changed anyway")
    lines += [f"note: {note}" for note in result.notes]
    lines.append(result.message)
    return "\n".join(lines)
