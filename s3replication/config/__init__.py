"""The settings: frozen dataclasses (model), and the loader that checks the config file (load)."""

from s3replication.config.load import (
    DEFAULT_CONFIG_PATH,
    DEFAULT_LOG_FILE,
    PROJECT_ROOT,
    REGIONS,
    ConfigError,
    bucket_name_problem,
    load_config,
    region_problem,
)
from s3replication.config.model import (
    CRR,
    RULE_LISTS,
    SRR,
    BucketSpec,
    Config,
    Monitoring,
    RuleSpec,
)

__all__ = [
    "CRR", "DEFAULT_CONFIG_PATH", "DEFAULT_LOG_FILE", "PROJECT_ROOT", "REGIONS", "RULE_LISTS",
    "SRR", "BucketSpec", "Config", "ConfigError", "Monitoring", "RuleSpec", "bucket_name_problem",
    "load_config", "region_problem",
]
