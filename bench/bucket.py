"""Untimed housekeeping on the benchmark bucket (create, seed, empty, inspect), done
in-process with boto3 so it never depends on the tools being measured.

One exception, for speed only: many small objects (100,000 listing keys, 10,000 files of
4 KiB) are seeded with obstore's PUTs from 64 coroutines when it is installed: 5,000 empty
objects took 2.7 s against 6.3 s with boto3's pool on this (busy) box. Each is one plain
PUT either way, so the stored objects are the same; every check still goes through boto3."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from bench.backends import Backend
from bench.dataset import FileSet

_POOL_WORKERS = 16
_FAST_PUT_WORKERS = 64
# boto3's upload_file switches to multipart at 8 MiB: below it both clients make one PUT.
_FAST_PUT_BELOW_BYTES = 8 << 20


class BucketAdmin:
    """The harness's own S3 client for one backend and bucket."""

    def __init__(self, backend: Backend, bucket: str) -> None:
        self.bucket = bucket
        self._backend = backend
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

        def delete(start: int) -> None:
            batch = [{"Key": k} for k in keys[start : start + 1000]]
            self._client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
            )

        self._run_all(delete, list(range(0, len(keys), 1000)))

    def upload_file_set(self, file_set: FileSet, prefix: str) -> None:
        """Seed ``prefix`` with the set (skipped when already there with the right sizes)."""
        present = self.list_sizes(prefix)
        missing = [n for n in file_set.sha256 if present.get(n) != file_set.spec.size_bytes]

        if file_set.spec.size_bytes < _FAST_PUT_BELOW_BYTES and self._fast_put(
            [(prefix + n, file_set.path(n)) for n in missing]
        ):
            return

        def put(name: str) -> None:
            self._client.upload_file(str(file_set.path(name)), self.bucket, prefix + name)

        self._run_all(put, missing)

    def put_small_objects(self, prefix: str, names: Iterable[str]) -> None:
        """Create many empty objects (for the listing benchmark: only the keys matter, and
        an empty object costs the server a metadata entry, no volume write)."""
        present = self.list_sizes(prefix)
        missing = [n for n in names if n not in present]
        if self._fast_put([(prefix + n, b"") for n in missing]):
            return

        def put(name: str) -> None:
            self._client.put_object(Bucket=self.bucket, Key=prefix + name, Body=b"")

        self._run_all(put, missing)

    def _fast_put(self, items: list[tuple[str, Path | bytes]]) -> bool:
        """PUT every (key, file or bytes) with obstore; False when it is not installed."""
        if not items:
            return True
        try:
            import obstore
            from obstore.store import S3Store
        except ImportError:
            return False
        store = S3Store(
            self.bucket,
            endpoint=self._backend.endpoint_url,
            access_key_id=self._backend.access_key,
            secret_access_key=self._backend.secret_key,
            region=self._backend.region,
            virtual_hosted_style_request=False,
            client_options={"allow_http": True, "timeout": "300s"},
        )

        async def put_all() -> None:
            queue = iter(items)

            async def worker() -> None:
                for key, body in queue:
                    await obstore.put_async(store, key, body)

            await asyncio.gather(*(worker() for _ in range(_FAST_PUT_WORKERS)))

        asyncio.run(put_all())
        return True

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
    def _run_all(func: Any, names: list[Any]) -> None:
        if not names:
            return
        with ThreadPoolExecutor(_POOL_WORKERS) as pool:
            for _ in pool.map(func, names):
                pass
