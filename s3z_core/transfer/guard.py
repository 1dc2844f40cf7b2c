"""Cleanup that must finish even while the surrounding task is being cancelled.

Ctrl-C, a closed window or a cancelled handle all arrive as ``CancelledError``; the
abort of a multipart upload (or a writer's final flush) must still run to completion,
or parts would keep costing storage.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from s3z_core.errors import S3zError
from s3z_core.operations import S3Operations

T = TypeVar("T")
log = logging.getLogger("s3z.transfer")


async def finish_despite_cancel(coro: Coroutine[Any, Any, T]) -> T:
    """Await ``coro`` to the end; if we were cancelled meanwhile, re-raise that afterwards."""
    task: asyncio.Task[T] = asyncio.ensure_future(coro)
    cancelled = False
    while True:
        try:
            result = await asyncio.shield(task)
            break
        except asyncio.CancelledError:
            if task.done():
                if task.cancelled():
                    raise
                result = task.result()
                break
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError
    return result


@asynccontextmanager
async def multipart_abort_guard(
    ops: S3Operations, bucket: str, key: str, upload_id: str
) -> AsyncIterator[None]:
    """From the moment an upload id exists, any failure or cancellation aborts it."""
    try:
        yield
    except BaseException:
        try:
            await finish_despite_cancel(ops.abort_multipart_upload(bucket, key, upload_id))
        except S3zError as exc:
            log.warning(
                "could not abort multipart upload %s of s3://%s/%s (%s); it may keep using "
                "storage until aborted",
                upload_id,
                bucket,
                key,
                exc,
            )
        raise
