"""The boto3 peer as a user would write it: ``upload_file`` / ``download_file`` with the
default ``TransferConfig``, directories through a thread pool of 10 (boto3 has no
directory transfer of its own). Run as a fresh process by the bench:

    python boto3_client.py upload|download|list ENDPOINT BUCKET PREFIX [PATH]

Credentials and region come from the standard AWS environment variables.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

DIRECTORY_POOL_THREADS = 10


def _client(endpoint_url: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        config=Config(s3={"addressing_style": "path"}, max_pool_connections=DIRECTORY_POOL_THREADS),
    )


def _keys(client: Any, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return keys


def main(argv: list[str]) -> int:
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    action, endpoint_url, bucket, prefix = argv[:4]
    client = _client(endpoint_url)
    if action == "list":
        for key in _keys(client, bucket, prefix):
            print(key)
        return 0
    if len(argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    local = Path(argv[4])
    if action == "upload":
        files = [local] if local.is_file() else sorted(p for p in local.iterdir() if p.is_file())
        jobs = [(str(f), prefix + f.name) for f in files]

        def put(job: tuple[str, str]) -> None:
            client.upload_file(job[0], bucket, job[1])

        _run(put, jobs)
        return 0
    if action == "download":
        keys = _keys(client, bucket, prefix)
        local.mkdir(parents=True, exist_ok=True)

        def get(key: str) -> None:
            target = local / key[len(prefix) :]
            target.parent.mkdir(parents=True, exist_ok=True)
            client.download_file(bucket, key, str(target))

        _run(get, keys)
        return 0
    print(f"unknown action {action!r}", file=sys.stderr)
    return 2


def _run(func: Any, jobs: list[Any]) -> None:
    if len(jobs) == 1:
        func(jobs[0])
        return
    with ThreadPoolExecutor(DIRECTORY_POOL_THREADS) as pool:
        for _ in pool.map(func, jobs):
            pass


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
