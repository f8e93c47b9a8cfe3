"""ShopCo's storefront data served through a Multi-Region Access Point, with failover.

A worked example of ACCESS_POINTS (see config/s3_config.py for every other setting):

    cfg=config/examples/failover.py
    python cr_replication.py --config $cfg apply
    python cr_replication.py --config $cfg readiness
    python cr_replication.py --config $cfg failover storefront --to shopco-web-usw2 --yes
    python cr_replication.py --config $cfg failback storefront --yes

The shop reads and writes through the access point's global endpoint, never a bucket's own
name, so a failover moves every reader and writer at once: the routes say which bucket takes
the traffic (traffic dial 100: active; 0: passive), switched in about two minutes
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/MrapFailover.html). AWS advises
two-way replication with replica modification sync between the buckets of an access point
with failover controls, so that writes made during a failover flow back
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointBucketReplication.html):
the two rules below.
"""

BUCKETS = {
    "shopco-web-use1": {"region": "us-east-1", "kms_key": None},
    "shopco-web-usw2": {"region": "us-west-2", "kms_key": None},
}

# Two-way CRR: each bucket replicates to the other, metadata changes on replicas included.
CRR_RULES = [
    {"id": "web-east-to-west", "source": "shopco-web-use1", "destination": "shopco-web-usw2",
     "replica_modifications": True},
    {"id": "web-west-to-east", "source": "shopco-web-usw2", "destination": "shopco-web-use1",
     "replica_modifications": True},
]
SRR_RULES = []

# Multi-Region Access Points, by name (3 to 50 lowercase letters, digits and hyphens).
#   buckets  (required) 2 or more buckets of BUCKETS, each in a different Region; AWS fixes
#            them when it creates the access point.
#   active   the buckets that take traffic at first (the others are passive); default all.
#            Only set when apply creates the access point: afterwards `failover` and
#            `failback` own the routes, and apply never changes them back.
#   alias    (optional) the alias AWS gave it, e.g. "mfzwi23gnjvgw.mrap": failover and
#            failback find it without us-west-2 (apply also records it in a tag of each
#            bucket, so this is needed only where a bucket cannot take one more tag).
ACCESS_POINTS = {
    "storefront": {"buckets": ["shopco-web-use1", "shopco-web-usw2"],
                   "active": ["shopco-web-use1"]},
}

MONITORING = {"sns_topic": "shopco-web-alerts", "latency_threshold_seconds": 900}
