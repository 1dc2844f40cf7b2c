"""Untimed housekeeping on the benchmark bucket (create, seed, empty, inspect), done
in-process with boto3 so it never depends on the tools being measured."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from bench.backends import Backend
from bench.dataset import FileSet

_POOL_WORKERS = 16


class BucketAdmin:
    """The harness's own S3 client for one backend and bucket."""

    def __init__(self, backend: Backend, bucket: str) -> None:
        self.bucket = bucket
        self._client: Any = boto3.client(
            "s3",
            endpoint_url=backend.endpoint_url,
            region_name=backend.region,
            aws_access_key_id=backend.access_key,
            aws_secret_access_key=backend.secret_key,
            config=Config(
                s3={"addressing_style": "path"},
                max_pool_connections=_POOL_WORKERS,
                retries={"max_attempts": 5, "mode": "standard"},
            ),
        )

    def ensure_bucket(self) -> None:
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self._client.create_bucket(Bucket=self.bucket)

    def list_sizes(self, prefix: str) -> dict[str, int]:
        """Every key under ``prefix`` (relative to it) with its size."""
        found: dict[str, int] = {}
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                found[item["Key"][len(prefix) :]] = int(item["Size"])
        return found

    def delete_prefix(self, prefix: str) -> None:
        keys = [prefix + rel for rel in self.list_sizes(prefix)]
        for start in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[start : start + 1000]]
            self._client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
            )

    def upload_file_set(self, file_set: FileSet, prefix: str) -> None:
        """Seed ``prefix`` with the set (skipped when already there with the right sizes)."""
        present = self.list_sizes(prefix)
        missing = [n for n in file_set.sha256 if present.get(n) != file_set.spec.size_bytes]

        def put(name: str) -> None:
            self._client.upload_file(str(file_set.path(name)), self.bucket, prefix + name)

        self._run_all(put, missing)

    def put_small_objects(self, prefix: str, names: Iterable[str]) -> None:
        """Create many tiny objects (for the listing benchmark)."""
        present = self.list_sizes(prefix)
        missing = [n for n in names if n not in present]

        def put(name: str) -> None:
            self._client.put_object(Bucket=self.bucket, Key=prefix + name, Body=name.encode())

        self._run_all(put, missing)

    def uploaded_content_problem(self, prefix: str, expected: FileSet) -> str | None:
        """Download every uploaded object and compare sha256 (used when --verify-uploads)."""

        def digest(name: str) -> tuple[str, str]:
            body = self._client.get_object(Bucket=self.bucket, Key=prefix + name)["Body"]
            h = hashlib.sha256()
            for chunk in body.iter_chunks(1 << 20):
                h.update(chunk)
            return name, h.hexdigest()

        with ThreadPoolExecutor(_POOL_WORKERS) as pool:
            results = dict(pool.map(digest, sorted(expected.sha256)))
        bad = [n for n, h in results.items() if h != expected.sha256[n]]
        return f"{len(bad)} uploaded objects with wrong sha256 (e.g. {bad[0]})" if bad else None

    @staticmethod
    def _run_all(func: Any, names: list[str]) -> None:
        if not names:
            return
        with ThreadPoolExecutor(_POOL_WORKERS) as pool:
            for _ in pool.map(func, names):
                pass
