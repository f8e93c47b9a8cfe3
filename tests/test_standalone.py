"""The project stands alone: the README, docs and code cite AWS documentation by URL, never
notes kept outside this repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTSIDE = ("../shared", "shared/reference", "reference §", "reference notes")


def tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.split()
    return [ROOT / name for name in listed
            if not name.startswith("tests/") and name.endswith((".py", ".md", ".txt", ".toml"))]


def test_no_file_points_outside_the_repository() -> None:
    files = tracked_files()
    assert any(f.name == "README.md" for f in files)
    pointing = [f"{path.relative_to(ROOT)}: {needle}" for path in files
                for needle in OUTSIDE if needle in path.read_text(encoding="utf-8")]
    assert pointing == []
