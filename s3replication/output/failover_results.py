"""What readiness, failover and failback return (rendered by output/failover_text.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ExitStatus


@dataclass
class Check:
    """One readiness check: passed or not, and what it saw. `unknown`: nothing wrong was seen
    (`ok`), but the evidence needed to tell is missing (e.g. no replication metrics): shown as
    such, not a failure of readiness, but failback refuses on it (commands/failover.py)."""

    name: str
    ok: bool
    evidence: list[str]
    unknown: bool = False

    @property
    def state(self) -> str:
        return "FAIL" if not self.ok else "unknown" if self.unknown else "ok"


@dataclass
class AccessPointReadiness:
    name: str
    alias: str | None
    routes: dict[str, int]  # bucket -> traffic dial
    checks: list[Check]

    @property
    def ready(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def unknown(self) -> list[str]:
        """The checks that passed without the evidence to tell."""
        return [c.name for c in self.checks if c.ok and c.unknown]


@dataclass
class ReadinessResult:
    script: str
    status: ExitStatus
    access_points: list[AccessPointReadiness]


@dataclass
class FailoverResult:
    """failover or failback: the routes before and after, the readiness seen, what happened."""

    script: str
    command: str  # failover or failback
    status: ExitStatus
    access_point: str
    routes_before: dict[str, int]
    routes_after: dict[str, int]  # wanted (dry run) or read back (done)
    readiness: AccessPointReadiness
    done: bool  # routes changed
    dry_run: bool
    forced: bool = False
    message: str = ""
    notes: list[str] = field(default_factory=list)
