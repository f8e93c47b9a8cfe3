"""The newest complete S3 Inventory report of one of the config's buckets: what
`audit --inventory` and `restore --inventory` read, found the same way for both.

Before the first report is delivered there is none, which is the expected state for up to 48
hours after apply: S3 delivers the first report within 48 hours
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/configure-inventory.html). That is
`NoReportYet`, not a failure: exit 3, said once.
"""

from __future__ import annotations

from ..config.model import BucketSpec
from ..engine.context import Context
from ..errors import ExitStatus, UsageError
from ..inventory.reports import Report, ReportError, newest_report
from ..resources.inventory import INVENTORY_ID, REPORT_PREFIX, report_bucket


class NoReportYet(ReportError):
    """No complete report of a bucket yet (see the module)."""

    exit_status = ExitStatus.ATTENTION


def find_report(ctx: Context, bucket: BucketSpec, command: str) -> Report:
    """The newest complete report of `bucket`; `command` ("audit --inventory", ...) names what
    needs it in the errors."""
    reports = report_bucket(ctx, bucket.region)
    if reports is None:
        raise UsageError(f"{command} needs INVENTORY in the config (and a report bucket for "
                         f"{bucket.region})")
    found = newest_report(ctx.s3(reports.region), reports.name, REPORT_PREFIX, bucket.name,
                          INVENTORY_ID)
    if found is None:
        raise NoReportYet(f"no inventory report of {bucket.name} yet in "
                          f"s3://{reports.name}/{REPORT_PREFIX}/{bucket.name}/{INVENTORY_ID}/: "
                          f"S3 delivers the first within 48 hours of apply; run {command} "
                          "again then")
    return found
