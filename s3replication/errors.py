"""Named errors, caught once at the command line and turned into one line and an exit code."""

from __future__ import annotations

import enum


class ExitStatus(enum.IntEnum):
    OK = 0
    FAILURE = 1  # an AWS or runtime failure
    BAD_INPUT = 2  # bad config or usage
    ATTENTION = 3  # looked, and something needs attention
    INTERRUPTED = 130


class ReplicationToolError(Exception):
    """Base of every error the tool understands; its message is one readable line."""

    exit_status = ExitStatus.FAILURE


class ConfigError(ReplicationToolError):
    """The config file is broken; `problems` lists every problem found in one pass."""

    exit_status = ExitStatus.BAD_INPUT

    def __init__(self, path: str, problems: list[str]):
        self.path = path
        self.problems = list(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = [f"{path}: {count} {noun}:"] + [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class UsageError(ReplicationToolError):
    exit_status = ExitStatus.BAD_INPUT


class AwsError(ReplicationToolError):
    """An AWS call failed in a way we can name: the call, the resource and the error code."""

    def __init__(self, message: str, code: str = ""):
        self.code = code
        super().__init__(message)


class AdminUnavailable(AwsError):
    """A write in an account of ACCOUNTS with an `admin_profile` that this machine cannot use
    (the profile is not configured, or its credentials fail): nothing was sent. apply leaves
    such writes pending, for that account's administrators (engine/items.py)."""

    def __init__(self, account: str, account_id: str, profile: str, detail: str):
        self.account, self.account_id, self.profile = account, account_id, profile
        super().__init__(f'account "{account}" ({account_id}): its admin_profile "{profile}" '
                         f"is not available here ({detail}); its writes are for that "
                         "account's administrators", "AdminUnavailable")


class NoCredentialsFound(ReplicationToolError):
    def __init__(self) -> None:
        super().__init__(
            "no AWS credentials found: run with --sandbox to try it locally, "
            "or set AWS_PROFILE (or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
        )


class NameTaken(ReplicationToolError):
    """Names of alarms, topics or dashboards this run would write belong to another config
    (or to someone's hand-made resource): refused before anything changes, every clash
    listed. Exit 1: it is found by reading AWS, not in the config file alone."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        lines = ["refused, nothing changed: another config (or someone by hand) already uses "
                 "names this one would write:"] + [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class RegionUnreachable(AwsError):
    """A Region that did not answer (no connection, or no answer in time) during this run: no
    further call is sent to it (aws/clients.py, fail-fast mode)."""

    def __init__(self, region: str, detail: str = ""):
        self.region, self.detail = region, detail
        super().__init__(f"{region} unreachable" + (f" ({detail})" if detail else "")
                         + "; no further call goes to it in this run", "RegionUnreachable")
