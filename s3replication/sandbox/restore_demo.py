"""`make demo`: a bad deploy, for `restore` to undo. On the shipped config's catalog rule, a
few product records are written, the moment after them is noted, and then a bad deploy
rewrites two, deletes one and adds one; replication copies all of it to the replica. Prints
the moment (ISO 8601, UTC) on stdout, for `restore --to`; what it did goes to stderr.

Restore compares times to the second (S3's LastModified), so the moment is taken a second after
the last good write, and the bad deploy starts a second after it.

    python -m s3replication.sandbox.restore_demo
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

from .. import sandbox
from ..config.load import DEFAULT_CONFIG_PATH, load_config

RULE = "catalog-usw2"
PREFIX = "catalog/restore-demo/"


def main() -> int:
    config = load_config(DEFAULT_CONFIG_PATH)
    rule = next(r for r in config.all_rules() if r.id == RULE)
    bucket = config.buckets[rule.source]
    s3 = sandbox.sandbox_clients(sandbox.ensure_running()).get("s3", bucket.region)

    def put(key: str, body: str) -> None:
        s3.put_object(Bucket=bucket.name, Key=PREFIX + key, Body=body.encode(),
                      ContentType="application/json")

    for n in range(1, 5):
        put(f"order-{n}.json", f'{{"order": {n}, "total": {n * 10}}}')
    time.sleep(1.1)
    moment = datetime.now(UTC).replace(microsecond=0)
    time.sleep(1.1)
    put("order-1.json", '{"order": 1, "total": 0, "bad": "deploy"}')
    put("order-2.json", '{"order": 2, "total": 0, "bad": "deploy"}')
    s3.delete_object(Bucket=bucket.name, Key=PREFIX + "order-3.json")
    put("order-99.json", '{"order": 99, "bad": "deploy"}')
    sys.stderr.write(f"wrote 4 records under s3://{bucket.name}/{PREFIX}, then at "
                     f"{moment:%Y-%m-%dT%H:%M:%SZ} a bad deploy: 2 rewritten, 1 deleted, "
                     "1 added (replicated like any write)\n")
    sys.stdout.write(f"{moment:%Y-%m-%dT%H:%M:%SZ}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
