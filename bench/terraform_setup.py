"""A Terraform working directory for the benchmark, offline.

``bench/terraform/`` holds the configuration (``main.tf``, ``variables.tf``), the same for
every run; ``terraform_workdir`` copies it into a working directory and writes the only
parts that vary: ``terraform.tfvars.json`` (the MiniStack URL, the prefix and the N pairs)
and ``terraformrc``, a CLI configuration that installs ``hashicorp/aws`` from the local
filesystem mirror (found by ``mirror()``) into a shared plugin cache.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from bench.common import DST_REGION, REPLICATION_EVENTS, SRC_REGION, WORK_DIR
from bench.emulator_quirks import ACCESS_KEY, ACCOUNT, SECRET_KEY

CONFIG_DIR = Path(__file__).resolve().parent / "terraform"
CONFIG_FILES = ("main.tf", "variables.tf")
PLUGIN_CACHE = WORK_DIR / "tf-plugin-cache"
_MIRROR_DIRS = (
    Path("/opt/tf-plugins"),
    Path.home() / ".terraform.d" / "plugins",
    Path("/usr/share/terraform/plugins"),
    Path("/usr/local/share/terraform/plugins"),
)


def _find_mirror() -> Path | None:
    """The folder that holds ``registry.terraform.io/hashicorp/aws`` (``$BENCH_TF_MIRROR``
    first, then the usual places, then a search of ``/`` to depth 4)."""
    env = os.environ.get("BENCH_TF_MIRROR")
    candidates = ([Path(env)] if env else []) + list(_MIRROR_DIRS)
    for c in candidates:
        if (c / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
            return c
    find = ["find", "/", "-maxdepth", "4", "-name", "registry.terraform.io", "-not", "-path",
            "/proc/*"]
    try:
        out = subprocess.run(find, capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in out.splitlines():
        p = Path(line)
        if (p / "hashicorp" / "aws").is_dir():
            return p.parent
    return None


_MIRROR: list[Path | None] = []


def mirror() -> Path | None:
    """The provider mirror, looked for once per process."""
    if not _MIRROR:
        _MIRROR.append(_find_mirror())
    return _MIRROR[0]


def terraform_available() -> bool:
    return shutil.which("terraform") is not None and mirror() is not None


def terraform_resource_count(n_pairs: int) -> int:
    """Resources in ``bench/terraform/main.tf`` for ``n_pairs`` pairs."""
    return 9 + 18 * n_pairs


def tfvars(n_pairs: int, endpoint: str, prefix: str) -> dict[str, object]:
    """The values of ``bench/terraform/variables.tf`` for one run."""
    pairs = {
        f"{i:03d}": {"src": f"{prefix}-src-{i:03d}", "dst": f"{prefix}-dst-{i:03d}",
                     "prefix": f"data/{i:03d}/", "priority": i + 1}
        for i in range(n_pairs)
    }
    return {"endpoint": endpoint, "prefix": prefix, "account": ACCOUNT,
            "src_region": SRC_REGION, "dst_region": DST_REGION,
            "replication_events": list(REPLICATION_EVENTS), "pairs": pairs}


def _cli_config_text(mirror_dir: Path) -> str:
    return f"""provider_installation {{
  filesystem_mirror {{
    path    = {json.dumps(str(mirror_dir))}
    include = ["registry.terraform.io/hashicorp/aws"]
  }}
  direct {{
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }}
}}
plugin_cache_dir = {json.dumps(str(PLUGIN_CACHE))}
disable_checkpoint = true
"""


def terraform_workdir(
    n_pairs: int, endpoint: str, workdir: str | os.PathLike[str], prefix: str = "bench"
) -> Path:
    """Prepare ``workdir`` (created; an old configuration and state are replaced) for
    ``n_pairs`` CRR pairs against ``endpoint``; return it."""
    wd = Path(workdir).resolve()
    wd.mkdir(parents=True, exist_ok=True)
    mirror_dir = mirror()
    if mirror_dir is None:
        raise RuntimeError("no filesystem mirror of registry.terraform.io/hashicorp/aws found")
    for stale in ("terraform.tfstate", "terraform.tfstate.backup"):
        (wd / stale).unlink(missing_ok=True)
    for name in CONFIG_FILES:
        shutil.copyfile(CONFIG_DIR / name, wd / name)
    variables = tfvars(n_pairs, endpoint, prefix)
    (wd / "terraform.tfvars.json").write_text(json.dumps(variables, indent=2) + "\n")
    (wd / "terraformrc").write_text(_cli_config_text(mirror_dir))
    return wd


def tf_env(workdir: Path) -> dict[str, str]:
    """The environment of every ``terraform`` command: offline, no ambient AWS settings."""
    PLUGIN_CACHE.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(
        TF_CLI_CONFIG_FILE=str(workdir.resolve() / "terraformrc"),
        TF_PLUGIN_CACHE_DIR=str(PLUGIN_CACHE),
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        CHECKPOINT_DISABLE="1",
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_EC2_METADATA_DISABLED="true",
    )
    # Never let ambient settings steer the provider elsewhere.
    for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "TF_LOG"):
        env.pop(k, None)
    return env
