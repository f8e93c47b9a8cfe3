"""The settings: frozen dataclasses (model), the loader (load) and the checks of each setting."""

from s3replication.config.checks_buckets import REGIONS, bucket_name_problem, region_problem
from s3replication.config.load import (
    DEFAULT_CONFIG_PATH,
    DEFAULT_LOG_FILE,
    PROJECT_ROOT,
    ConfigError,
    load_config,
)
from s3replication.config.model import (
    CRR,
    RULE_LISTS,
    SRR,
    AccountSpec,
    BucketSpec,
    Config,
    Monitoring,
    RuleSpec,
)

__all__ = [
    "CRR", "DEFAULT_CONFIG_PATH", "DEFAULT_LOG_FILE", "PROJECT_ROOT", "REGIONS", "RULE_LISTS",
    "SRR", "AccountSpec", "BucketSpec", "Config", "ConfigError", "Monitoring", "RuleSpec",
    "bucket_name_problem", "load_config", "region_problem",
]
