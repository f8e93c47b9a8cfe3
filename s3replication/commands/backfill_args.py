"""`backfill`'s arguments, checked before the first AWS call (cli_parser's `check`).

The sandbox's MiniStack has no S3 Batch Operations (CreateJob is not served), so
`--sandbox --method batch` is refused here, before any request: without this the run made the
batch role and only then failed on CreateJob. Exit 2, as for any usage error: the command line
asks for what this environment cannot do, and nothing has been sent or changed (a `--manifest`
that needs a job is known only once read: that refusal is exit 1). Outside the
sandbox (AWS, or an endpoint named by AWS_ENDPOINT_URL, which may serve Batch Operations) the
job is tried as asked.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import ReplicationToolError, UsageError

NO_BATCH_OPERATIONS = "the sandbox (MiniStack) has no S3 Batch Operations"
COPY_INSTEAD = ("copies the objects the audit finds missing in place, so that S3 replicates "
                "them")


def check(config: Any, kind: str, args: argparse.Namespace) -> None:
    """Refuse what cannot run here, before any call."""
    if getattr(args, "sandbox", False) and args.method == "batch" and not args.job:
        raise UsageError(f"--method batch: {NO_BATCH_OPERATIONS}; use --method copy (the "
                         f"sandbox's default), which {COPY_INSTEAD}")


def refuse_batch_in_sandbox(args: argparse.Namespace) -> None:
    """The same refusal when batch is the method chosen by default (`--manifest` of objects to
    re-drive, known only once its first line has been read): reads only, nothing changed.
    Exit 1, not 2: the manifest was read, and exit 2 promises no call at all."""
    if getattr(args, "sandbox", False):
        raise ReplicationToolError(f"--manifest {args.manifest} needs a Batch Replication job: "
                         f"{NO_BATCH_OPERATIONS}; `backfill --method copy` (without "
                         f"--manifest) {COPY_INSTEAD}")
