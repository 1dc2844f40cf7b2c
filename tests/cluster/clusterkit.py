"""Helpers of the cross-endpoint and cluster tests: two accounts' profiles, a tree, the oracle."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from servers import boto3_client

from s3z_core.config import ClientConfig, TransferConfig
from s3z_core.credentials import Credentials
from s3z_core.engine import Engine
from s3z_core.local_server import LocalS3Server

TREE_FILES = 3_000
# multipart-sized on the destination (relay parts are 8 MiB): the last one is not a part
# multiple; the tiny files keep the tree fast
FOREIGN = "foreign/c.bin"  # multipart by boto3 (5 MiB parts, no s3z part-size metadata)
FOREIGN_SIZE = 11 * 2**20 + 7
BIG_SIZES = {"big/a.bin": 9 * 2**20, "big/b.bin": 17 * 2**20 + 12_345}


def profiles_home(home: Path, **servers: LocalS3Server) -> Path:
    """``HOME/.aws/credentials`` with one profile per server (how users name two accounts)."""
    aws = home / ".aws"
    aws.mkdir(parents=True, exist_ok=True)
    lines = []
    for name, server in servers.items():
        lines += [
            f"[{name}]",
            f"aws_access_key_id = {server.access_key}",
            f"aws_secret_access_key = {server.secret_key}",
            "",
        ]
    (aws / "credentials").write_text("\n".join(lines))
    (aws / "config").write_text("[default]\nregion = us-east-1\n")
    return home


def make_tree(root: Path, files: int = TREE_FILES) -> dict[str, str]:
    """``files`` tiny files in 30 folders plus the big ones; name -> sha256."""
    sums: dict[str, str] = {}
    for i in range(files):
        name = f"d{i % 30:02d}/f{i:05d}.txt"
        data = f"file {i}\n".encode() * (1 + i % 7)
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        sums[name] = hashlib.sha256(data).hexdigest()
    for name, size in BIG_SIZES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        block = hashlib.sha256(name.encode()).digest() * 2048  # 64 KiB, not compressible runs
        with path.open("wb") as f:
            left = size
            while left:
                chunk = block[: min(left, len(block))]
                f.write(chunk)
                left -= len(chunk)
        sums[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return sums


def bucket_sums(server: LocalS3Server, bucket: str, prefix: str = "") -> dict[str, str]:
    """name (after ``prefix``) -> sha256 of every object, read back by boto3 (the oracle)."""
    client = boto3_client(server)
    keys = [
        item["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for item in page.get("Contents", [])
    ]

    def one(key: str) -> tuple[str, str]:
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        return key[len(prefix) :], hashlib.sha256(body).hexdigest()

    with ThreadPoolExecutor(8) as pool:
        return dict(pool.map(one, keys))


def open_uploads(server: LocalS3Server, bucket: str) -> list[Any]:
    return list(boto3_client(server).list_multipart_uploads(Bucket=bucket).get("Uploads", []))


def relay_engine(source: Any, dest: Any, config: TransferConfig | None = None) -> Engine:
    """An engine on ``dest`` whose copies read from ``source`` (another account): relayed."""
    config = config or TransferConfig()

    def side(server: Any, src: Engine | None = None) -> Engine:
        client = ClientConfig(endpoint_url=server.endpoint_url, region=server.region)
        keys = Credentials(server.access_key, server.secret_key)
        return Engine(client, keys, config, source=src)

    return side(dest, side(source))
