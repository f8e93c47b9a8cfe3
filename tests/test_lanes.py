"""A lane's items (engine/items.py run_lane): items of different documents (`touches`) are
read at once; they are written at once too, unless they write alone, as the settings of one
bucket do: S3 answers OperationAborted, "A conflicting conditional operation is currently in
progress against this resource", to overlapping writes on one bucket
(https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from s3replication.engine.items import Item, run_lane
from s3replication.resources.bucket_settings import BUCKET_SETTINGS


class Document:
    """A setting whose reads wait until `together` reads are under way at once (so they fail
    when made one after another), and whose writes count how many overlap."""

    def __init__(self, name: str, together: threading.Barrier, writing: list[int],
                 most: list[int], lock: threading.Lock):
        self.name, self.value = name, "old"
        self.together, self.writing, self.most, self.lock = together, writing, most, lock

    def read(self) -> str:
        self.together.wait(timeout=5)
        return self.value

    def write(self, _: Any) -> None:
        with self.lock:
            self.writing[0] += 1
            self.most[0] = max(self.most[0], self.writing[0])
        threading.Event().wait(0.05)
        with self.lock:
            self.writing[0] -= 1
        self.value = "new"


def lane(alone: bool, count: int = 3, new_bucket: bool = False) -> tuple[list[Item], list[int]]:
    """A bucket (made first when `new_bucket`: then nothing of the lane is read early) and
    `count` documents."""
    together = threading.Barrier(count)
    writing, most, lock = [0], [0], threading.Lock()
    documents = [Document(f"doc{n}", together, writing, most, lock) for n in range(count)]
    gate = Item("bucket b", "bucket", "exists", read=lambda: None if new_bucket else "exists",
                write=lambda _: None, gate=True)
    return [gate] + [Item("bucket b", d.name, "new", read=d.read, write=d.write,
                          touches=d.name, writes_alone=alone) for d in documents], most


def test_documents_apart_are_read_together_and_written_together() -> None:
    items, most = lane(alone=False)
    changes = run_lane(items, apply=True)
    assert [c.setting for c in changes] == ["doc0", "doc1", "doc2"]
    assert most[0] == 3


@pytest.mark.parametrize("new_bucket", [False, True], ids=["bucket there", "bucket made"])
def test_documents_that_write_alone_are_read_together_and_written_one_at_a_time(
        new_bucket: bool) -> None:
    items, most = lane(alone=True, new_bucket=new_bucket)
    changes = run_lane(items, apply=True)
    assert [c.setting for c in changes] == ["bucket"] * new_bucket + ["doc0", "doc1", "doc2"]
    assert most[0] == 1


def test_a_plan_reads_them_together_and_writes_nothing() -> None:
    items, most = lane(alone=True)
    assert [c.setting for c in run_lane(items, apply=False)] == ["doc0", "doc1", "doc2"]
    assert most[0] == 0


def test_a_buckets_settings_between_versioning_and_tags_write_alone() -> None:
    apart = [row.name for row in BUCKET_SETTINGS if row.apart]
    assert apart == ["encryption", "SSE-C blocked", "public access block", "object ownership",
                     "TLS-only policy"]
    names = [row.name for row in BUCKET_SETTINGS]
    assert names.index("versioning") < names.index("encryption")
    assert names.index("TLS-only policy") < names.index("tags")
