"""Deleting many objects: DeleteObjects in batches of 1000 keys, a few batches in flight.

Per-key failures come back in the result, never raised (``rm -r`` lists each one). A key
holding control characters goes alone through DeleteObject: some stores reject a whole
DeleteObjects document holding one (SeaweedFS: MalformedXML). Local deletes (``sync
--delete`` into a folder) run in the file-system pool, never on the event loop.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterable

from s3z_core.config import DELETE_BATCH
from s3z_core.errors import ServiceError
from s3z_core.filesystem import fs_call
from s3z_core.models import DeleteFailure, DeleteResult
from s3z_core.operations import S3Operations
from s3z_core.transfer.plans import each

DELETE_PARALLEL = 4


def has_control_chars(key: str) -> bool:
    return any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in key)


async def _delete_one(ops: S3Operations, bucket: str, key: str, result: DeleteResult) -> None:
    try:
        await ops.delete_object(bucket, key)
    except ServiceError as exc:
        result.failures.append(DeleteFailure(key, exc.code, exc.message))
    else:
        result.deleted.append(key)


async def delete_keys(
    ops: S3Operations, bucket: str, keys: Iterable[str] | AsyncIterator[str]
) -> DeleteResult:
    """Delete ``keys`` (streamed: a million-key listing never sits in memory)."""
    result = DeleteResult(deleted=[], failures=[])
    batch: list[str] = []
    running: set[asyncio.Task[DeleteResult]] = set()

    async def drain(limit: int) -> None:
        while len(running) > limit:
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                running.discard(task)
                part = task.result()
                result.deleted.extend(part.deleted)
                result.failures.extend(part.failures)

    try:
        async for key in each(keys):
            if has_control_chars(key):
                await _delete_one(ops, bucket, key, result)
                continue
            batch.append(key)
            if len(batch) == DELETE_BATCH:
                running.add(asyncio.ensure_future(ops.delete_objects(bucket, batch)))
                batch = []
                await drain(DELETE_PARALLEL - 1)
        if batch:
            running.add(asyncio.ensure_future(ops.delete_objects(bucket, batch)))
        await drain(0)
    finally:
        for task in running:
            task.cancel()
    return result


def _unlink_all(paths: list[str]) -> DeleteResult:
    result = DeleteResult(deleted=[], failures=[])
    for path in paths:
        try:
            os.unlink(path)
        except OSError as exc:
            result.failures.append(DeleteFailure(path, type(exc).__name__, exc.strerror or ""))
        else:
            result.deleted.append(path)
    return result


async def delete_local_files(paths: Iterable[str]) -> DeleteResult:
    """Remove local files (in the pool); per-file failures come back, never raised."""
    return await fs_call(_unlink_all, list(paths))
