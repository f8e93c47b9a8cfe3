"""`make demo`: the vault's lock, shown in the sandbox after the backup-account config was
applied. For each bucket of the config under Object Lock in another account: its Object Lock
configuration, then a version written directly into it (by the account's administrators: the
account's root in the sandbox), its retention, and that neither production's way in (the
reader) nor the administrators can delete that version.

MiniStack applies a bucket's default retention to a PutObject and refuses to delete a version
under COMPLIANCE retention, but does not give replicas the destination's default retention (AWS
does: https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html, "Using
Object Lock with S3 Replication"); so the lock is shown on a version written directly.

    python -m s3replication.sandbox.vault_demo CONFIG
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from .. import sandbox
from ..aws.clients import Clients
from ..aws.naming import global_region
from ..config.load import load_config
from ..config.model import AccountSpec, BucketSpec

KEY = "orders/written-directly-into-the-vault.json"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    config = load_config(args[0])
    clients = sandbox.sandbox_clients(sandbox.ensure_running())
    sts_region = global_region(config.region_of_partition)
    vaults = [(b, config.account_of(b)) for b in config.buckets.values()
              if b.object_lock is not None and config.account_of(b) is not None]
    held = True
    for bucket, account in vaults:
        assert account is not None
        reader = clients.for_account(account, sts_region).get("s3", bucket.region)
        admin = Clients(endpoint_url=clients.endpoint_url, session=sandbox.reach_admin(account),
                        verify=False).get("s3", bucket.region)
        held = show_vault(bucket, account, reader, admin) and held
    return 0 if vaults and held else 1


def _delete(s3: Any, bucket: str, version: str) -> str:
    try:
        s3.delete_object(Bucket=bucket, Key=KEY, VersionId=version)
    except ClientError as exc:
        return f"refused ({exc.response.get('Error', {}).get('Code')})"
    return "DELETED"


def show_vault(bucket: BucketSpec, account: AccountSpec, reader: Any, admin: Any) -> bool:
    """Print the vault's lock and try to delete a locked version; True if it stays."""
    lock = reader.get_object_lock_configuration(Bucket=bucket.name)["ObjectLockConfiguration"]
    rule = lock.get("Rule", {}).get("DefaultRetention", {})
    period = (f"{rule['Days']} day(s)" if rule.get("Days") else f"{rule.get('Years')} year(s)")
    print(f"{bucket.name} (account {account.name}): Object Lock {lock.get('ObjectLockEnabled')}, "
          f"default retention {rule.get('Mode')} {period}")
    version = admin.put_object(Bucket=bucket.name, Key=KEY, Body=b'{"order": 78}')["VersionId"]
    kept = admin.get_object_retention(Bucket=bucket.name, Key=KEY, VersionId=version)
    retention = kept["Retention"]
    print(f"  version {version} of {KEY}, written directly (MiniStack gives replicas no default "
          f"retention; AWS does): {retention['Mode']} until {retention['RetainUntilDate']}")
    by_reader, by_admin = (_delete(reader, bucket.name, version),
                           _delete(admin, bucket.name, version))
    print(f"  delete that version as production's way in (the reader): {by_reader}")
    print(f"  delete that version as the vault's administrators: {by_admin}")
    return "DELETED" not in (by_reader, by_admin)


if __name__ == "__main__":
    sys.exit(main())
