"""Two-way replication (A to B and B to A, both with replica modification sync) on MiniStack."""

from __future__ import annotations

from s3replication import sandbox
from s3replication.aws.clients import Clients
from tests.shop import run_script, shop_config

TWO_WAY = '''
BUCKETS = {
    "shop-east": {"region": "us-east-1", "kms_key": "alias/shop-east"},
    "shop-west": {"region": "us-west-2", "kms_key": "alias/shop-west"},
}
CRR_RULES = [
    {"id": "east-to-west", "source": "shop-east", "destination": "shop-west",
     "replica_modifications": True},
    {"id": "west-to-east", "source": "shop-west", "destination": "shop-east",
     "replica_modifications": True},
]
SRR_RULES = []
'''


def test_two_way_replication_both_directions(ministack_endpoint, reset_ministack, tmp_path):
    def clients() -> Clients:
        return Clients(endpoint_url=ministack_endpoint, session=sandbox.sandbox_session())

    config = str(shop_config(tmp_path, base=TWO_WAY))
    first = run_script("crr", "apply", "--config", config, clients=clients)
    assert first.status == 0, first.stderr
    assert run_script("crr", "plan", "--config", config, clients=clients).status == 0
    aws = clients()
    east, west = aws.get("s3", "us-east-1"), aws.get("s3", "us-west-2")
    for bucket in ("shop-east", "shop-west"):
        s3 = east if bucket == "shop-east" else west
        rule = s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]["Rules"][0]
        assert rule["SourceSelectionCriteria"]["ReplicaModifications"] == {"Status": "Enabled"}
    east.put_object(Bucket="shop-east", Key="from-east.txt", Body=b"e")
    west.put_object(Bucket="shop-west", Key="from-west.txt", Body=b"w")
    for s3, bucket, key in ((west, "shop-west", "from-east.txt"),
                            (east, "shop-east", "from-west.txt")):
        assert s3.head_object(Bucket=bucket, Key=key)["ReplicationStatus"] == "REPLICA"
    # a replica is not replicated back: one version of each object on each side
    for s3, bucket in ((east, "shop-east"), (west, "shop-west")):
        versions = s3.list_object_versions(Bucket=bucket)["Versions"]
        assert sorted(v["Key"] for v in versions) == ["from-east.txt", "from-west.txt"]
