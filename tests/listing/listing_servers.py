"""Helpers of the parallel-listing tests on real servers: our client for a server, fast
bulk PUTs and deletes (64 and 8 requests in flight), dropping a filled bucket, and running a
coroutine from a sync test (hypothesis and module fixtures are sync)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import TypeVar

from servers import S3Endpoint

from s3z_core.config import ClientConfig, RetryPolicy
from s3z_core.credentials import Credentials
from s3z_core.errors import ServiceError
from s3z_core.listing import iter_objects
from s3z_core.operations import S3Operations
from s3z_core.transport.client import S3Client

T = TypeVar("T")


def run(coro: Awaitable[T]) -> T:
    async def wrapped() -> T:
        return await coro

    return asyncio.run(wrapped())


@asynccontextmanager
async def client_ops(server: S3Endpoint) -> AsyncIterator[S3Operations]:
    config = ClientConfig(
        endpoint_url=server.endpoint_url,
        region=server.region,
        addressing_style="path",
        retry=RetryPolicy(max_attempts=4, base_delay_s=0.01, max_delay_s=0.05),
    )
    client = S3Client(config, Credentials(server.access_key, server.secret_key))
    try:
        yield S3Operations(client)
    finally:
        await client.close()


async def put_all(ops: S3Operations, bucket: str, keys: list[str]) -> None:
    pending = iter(keys)

    async def worker() -> None:
        for key in pending:
            await ops.put_object(bucket, key, b"")

    await asyncio.gather(*(worker() for _ in range(64)))


async def delete_all(ops: S3Operations, bucket: str, *, keep_bucket: bool = False) -> None:
    keys = [o.key async for o in iter_objects(ops, bucket)]
    batches = [keys[i : i + 1000] for i in range(0, len(keys), 1000)]
    gate = asyncio.Semaphore(8)

    async def batch(chunk: list[str]) -> None:
        printable = [k for k in chunk if k.isprintable()]
        async with gate:
            if printable:
                await ops.delete_objects(bucket, printable)
            for key in chunk:  # DeleteObjects cannot carry control characters everywhere
                if not key.isprintable():
                    await ops.delete_object(bucket, key)

    await asyncio.gather(*(batch(c) for c in batches))
    if not keep_bucket:
        await ops.delete_bucket(bucket)


async def drop_bucket(ops: S3Operations, bucket: str) -> None:
    """Delete ``bucket`` and what is in it. SeaweedFS deletes a bucket with its objects in one
    request (0.3 s, where 30,000 keys in DeleteObjects batches take ~17 s); a server that
    refuses (S3's BucketNotEmpty: moto, rclone) is emptied by ``delete_all`` first."""
    try:
        await ops.delete_bucket(bucket)
    except ServiceError as exc:
        if exc.code != "BucketNotEmpty":
            raise
        await delete_all(ops, bucket)
