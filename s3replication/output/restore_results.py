"""What `restore` found and did, for the one renderer (restore_text)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ExitStatus


@dataclass
class RestoreResult:
    script: str
    status: ExitStatus
    dry_run: bool
    bucket: str
    prefix: str
    to: str  # ISO 8601 UTC
    counts: dict[str, int]
    samples: dict[str, list[str]]
    rule: str = ""
    source_of_copies: str = ""  # the replica with --from replica
    inventory: bool = False
    copied: int = 0
    hidden: int = 0
    archived: list[tuple[str, str]] = field(default_factory=list)  # the first max_report
    archived_count: int = 0
    errors: list[str] = field(default_factory=list)
    failed: int = 0
    changes_file: str = ""  # the list of changes written to the log folder
    # --inventory --yes: the Batch Operations copy job ("" when nothing to copy), its
    # manifest (s3://...), where its completion report goes, how many versions it copies
    job_id: str = ""
    manifest: str = ""
    job_report: str = ""
    job_copies: int = 0
