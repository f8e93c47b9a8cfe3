"""Load `config/s3_config.py`, check every setting in one pass, and return frozen settings.

The dataclasses it returns are in `model.py`; the checks of each setting are in
`checks_buckets.py`, `checks_rules.py`, `checks_tags.py` and `checks_monitoring.py`.
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

from s3replication.config.checks_access_points import access_points
from s3replication.config.checks_accounts import (
    accounts,
    check_bucket_accounts,
    check_rule_accounts,
    check_vault_admins,
)
from s3replication.config.checks_buckets import buckets, check_one_partition
from s3replication.config.checks_inventory import inventory
from s3replication.config.checks_monitoring import monitoring
from s3replication.config.checks_rules import check_across_rules, rules
from s3replication.config.checks_tags import tags
from s3replication.config.messages import close_match, show
from s3replication.config.model import CRR, SRR, Config
from s3replication.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent  # the folder of the two scripts
DEFAULT_CONFIG_PATH = PROJECT_ROOT / "config" / "s3_config.py"
DEFAULT_LOG_FILE = "logs/replication_logs.txt"

REQUIRED_NAMES = ("BUCKETS", "CRR_RULES", "SRR_RULES")
OPTIONAL_NAMES = ("TAGS", "MONITORING", "LOG_FILE", "ACCOUNTS", "ACCESS_POINTS",
                  "INVENTORY")


def load_config(path: str | Path) -> Config:
    """Run the config file, check every setting, and return the frozen Config.

    Raises ConfigError listing every problem found, each naming the setting as written.
    """
    namespace = _execute(path)
    problems: list[str] = []
    _check_names(namespace, problems)
    other_accounts = accounts(namespace.get("ACCOUNTS", {}), problems)
    declared, specs = buckets(namespace.get("BUCKETS", {}), problems)
    check_bucket_accounts(specs, other_accounts, problems)
    check_vault_admins(namespace.get("BUCKETS", {}), specs, other_accounts, problems)
    check_one_partition(specs, problems)
    crr = rules(CRR, namespace.get("CRR_RULES", []), declared, specs, problems)
    srr = rules(SRR, namespace.get("SRR_RULES", []), declared, specs, problems)
    check_across_rules(crr + srr, specs, problems)
    check_rule_accounts(crr + srr, specs, problems)
    points = access_points(namespace.get("ACCESS_POINTS", {}), specs, problems)
    reports = inventory(namespace.get("INVENTORY"), specs, crr + srr, problems)
    config_tags = tags("TAGS", namespace.get("TAGS", {}), problems)
    alerts = monitoring(namespace.get("MONITORING", {}), problems)
    log_file = _log_file(namespace.get("LOG_FILE", DEFAULT_LOG_FILE), problems)
    if problems:
        raise ConfigError(str(path), problems)
    return Config(path=Path(path).resolve(), buckets=specs, crr_rules=crr, srr_rules=srr,
                  tags=config_tags, monitoring=alerts, log_file=log_file,
                  accounts=other_accounts, access_points=points,
                  inventory=reports)


def _execute(path: str | Path) -> dict[str, Any]:
    """Run the file in a fresh namespace: it is never imported, nor put in sys.modules."""
    try:
        source = Path(path).read_text(encoding="utf-8")
        code = compile(source, str(path), "exec")
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read the file: {exc.strerror or exc}"]) from None
    except SyntaxError as exc:
        raise ConfigError(str(path), [f"line {exc.lineno}: syntax error: {exc.msg}"]) from None
    except ValueError as exc:  # not UTF-8, or a null byte (a ValueError before Python 3.12)
        raise ConfigError(str(path), [f"cannot read the file: {exc}"]) from None
    namespace: dict[str, Any] = {"__name__": "s3_config", "__file__": str(path)}
    try:
        exec(code, namespace)  # the config is the user's own Python, by design
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - any failure in it is a ConfigError
        lines = [n for f, n in traceback.walk_tb(exc.__traceback__)
                 if f.f_code.co_filename == str(path)]
        where = f"line {lines[-1]}: " if lines else ""
        raise ConfigError(str(path), [f"{where}{type(exc).__name__}: {exc}"]) from None
    return namespace


def _check_names(namespace: dict[str, Any], problems: list[str]) -> None:
    for name in REQUIRED_NAMES:
        if name not in namespace:
            rest = "" if name == "BUCKETS" else " (use [] for no rules)"
            problems.append(f"{name}: missing; it is required{rest}")
    known = REQUIRED_NAMES + OPTIONAL_NAMES
    for name in namespace:
        if name.isupper() and not name.startswith("_") and name not in known:
            hint = close_match(name, known)
            rest = f" (did you mean {hint}?)" if hint else ""
            problems.append(f"{name}: unknown setting{rest}")


def _log_file(value: object, problems: list[str]) -> Path:
    """LOG_FILE; a relative path is relative to the project root (the folder of the two
    scripts), wherever the config file is."""
    if not isinstance(value, (str, Path)) or not str(value):
        problems.append(f"LOG_FILE: must be a non-empty path, not {show(value)}")
        return PROJECT_ROOT / DEFAULT_LOG_FILE
    resolved = PROJECT_ROOT / value  # an absolute value stays as is
    if resolved.is_dir():
        problems.append(f"LOG_FILE: {show(value)} is a folder; name a file in it")
    return resolved
