"""`permissions`: the IAM policies the caller needs to run every command of a script on a config,
and, for buckets in accounts of ACCOUNTS, those the role or profile of each such account needs
there (built in caller_policies from the table in permission_needs).

    python -m s3replication.commands.permissions --readme   # same as permissions_readme --readme
"""

from __future__ import annotations

import argparse
import sys

from ..engine.context import Context
from ..errors import ExitStatus
from ..output.results import PermissionsResult
from .caller_policies import policies


def permissions(ctx: Context, args: argparse.Namespace) -> PermissionsResult:
    """The command: the policies on stdout, as JSON (whatever --json says), nothing else: the
    caller's account id -> its documents, then "ID (NAME)" -> each other account's."""
    return PermissionsResult(ExitStatus.OK, policies(ctx.config, ctx.account))


if __name__ == "__main__":
    from .permissions_readme import main

    sys.exit(main())
