"""A sandbox world for the verify, audit and backfill tests: the shipped config (or a variant)
on a fresh MiniStack, the scripts run in-process, and the objects and versions of each bucket."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s3replication import sandbox
from s3replication.aws.clients import Clients
from s3replication.config import Config, load_config
from tests.shop import Run, run_script, shop_config


@dataclass
class World:
    endpoint: str
    config_path: Path
    config: Config = field(init=False)
    aws: Clients = field(init=False)

    def __post_init__(self) -> None:
        self.config = load_config(self.config_path)
        self.aws = self.clients()

    @classmethod
    def make(cls, endpoint: str, tmp_path: Path, extra: str = "") -> World:
        return cls(endpoint, shop_config(tmp_path, extra))

    def clients(self) -> Clients:
        return Clients(endpoint_url=self.endpoint, session=sandbox.sandbox_session())

    def run(self, kind: str, *argv: str) -> Run:
        return run_script(kind, *argv, "--config", str(self.config_path), clients=self.clients)

    def run_json(self, kind: str, *argv: str) -> tuple[int, dict[str, Any]]:
        run = self.run(kind, *argv, "--json")
        assert run.stdout, run.stderr
        return run.status, json.loads(run.stdout)

    def apply(self, *kinds: str) -> None:
        for kind in kinds:
            run = self.run(kind, "apply")
            assert run.status == 0, run.stdout + run.stderr

    def s3(self, bucket: str) -> Any:
        return self.aws.get("s3", self.config.buckets[bucket].region)

    def put(self, bucket: str, key: str, body: bytes = b"data", tags: str = "", **extra: Any
            ) -> str:
        if tags:
            extra["Tagging"] = tags
        return self.s3(bucket).put_object(Bucket=bucket, Key=key, Body=body, **extra)["VersionId"]

    def put_many(self, bucket: str, keys: list[str], tags: str = "") -> None:
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda key: self.put(bucket, key, tags=tags), keys))

    def versions(self, bucket: str, prefix: str = "") -> list[dict[str, Any]]:
        """Every version and delete marker under `prefix`."""
        found: list[dict[str, Any]] = []
        pages = self.s3(bucket).get_paginator("list_object_versions")
        for page in pages.paginate(Bucket=bucket, Prefix=prefix):
            found += page.get("Versions", []) + page.get("DeleteMarkers", [])
        return found

    def version_counts(self) -> dict[str, int]:
        """Versions and delete markers in each bucket of the config that exists."""
        existing = {b["Name"] for b in self.aws.get("s3", "us-east-1").list_buckets()["Buckets"]}
        return {name: len(self.versions(name)) for name in self.config.buckets
                if name in existing}

    def delete_replica(self, bucket: str, key: str) -> None:
        """Delete every version of `key` by version id, as an operator might by hand."""
        for version in self.versions(bucket, key):
            if version["Key"] == key:
                self.s3(bucket).delete_object(Bucket=bucket, Key=key,
                                              VersionId=version["VersionId"])

    def keys(self, bucket: str, prefix: str = "") -> set[str]:
        """Keys whose current version is an object."""
        return {v["Key"] for v in self.versions(bucket, prefix)
                if v.get("IsLatest") and "Size" in v}
