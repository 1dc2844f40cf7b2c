"""Cleanup that must finish even while the surrounding task is being cancelled.

Ctrl-C, a closed window or a cancelled handle all arrive as ``CancelledError``; the
abort of a multipart upload (or a writer's final flush) must still run to completion,
or parts would keep costing storage. The upload id may even exist before we have read
it (CreateMultipartUpload in flight when the cancel lands), so creation is guarded too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar, Unpack

from s3z_core.errors import MultipartAbortError, S3zError
from s3z_core.operations import ObjectAttributes, S3Operations

T = TypeVar("T")
log = logging.getLogger("s3z.transfer")


async def _wait_out(task: asyncio.Future[T]) -> tuple[T, bool]:
    """Wait for ``task`` whatever happens to us; say whether we were cancelled meanwhile."""
    cancelled = False
    while True:
        try:
            return await asyncio.shield(task), cancelled
        except asyncio.CancelledError:
            if task.done():
                if task.cancelled():
                    raise
                return task.result(), True
            cancelled = True


async def finish_despite_cancel(aw: Coroutine[Any, Any, T] | Awaitable[T]) -> T:
    """Await ``aw`` to the end; if we were cancelled meanwhile, re-raise that afterwards."""
    result, cancelled = await _wait_out(asyncio.ensure_future(aw))
    if cancelled:
        raise asyncio.CancelledError
    return result


async def _abort(ops: S3Operations, bucket: str, key: str, upload_id: str) -> S3zError | None:
    """Abort the upload; the error when that failed (logged: the parts keep costing storage)."""
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
        return exc
    return None


async def create_multipart_guarded(
    ops: S3Operations, bucket: str, key: str, **attributes: Unpack[ObjectAttributes]
) -> str:
    """CreateMultipartUpload that cannot leak: cancelled mid-request, it waits for the id
    the server may already have assigned, aborts that upload, then re-raises."""
    task = asyncio.ensure_future(ops.create_multipart_upload(bucket, key, **attributes))
    upload_id, cancelled = await _wait_out(task)
    if cancelled:
        await _abort(ops, bucket, key, upload_id)
        raise asyncio.CancelledError
    return upload_id


@asynccontextmanager
async def multipart_abort_guard(
    ops: S3Operations,
    bucket: str,
    key: str,
    upload_id: str,
    *,
    keep: Callable[[], bool] | None = None,
    forget: Callable[[], Awaitable[None]] | None = None,
) -> AsyncIterator[None]:
    """From the moment an upload id exists, any failure or cancellation aborts it.

    When the abort itself fails, a failure becomes ``MultipartAbortError`` naming the upload
    (so the user can clean it up). A cancellation stays a cancellation — replacing it with
    an error would break the caller's cancel — and the failed abort is logged with the id.

    Resume: a cancellation while ``keep()`` says so (the engine is suspending, the journal
    holds the upload) leaves the upload in place for the next run; a real failure still
    aborts. ``forget`` (the journal's entry) runs after every abort.
    """
    try:
        yield
    except Exception as exc:
        abort_error = await _abort(ops, bucket, key, upload_id)
        if forget is not None:
            await finish_despite_cancel(forget())
        if abort_error is not None:
            raise MultipartAbortError(
                bucket=bucket, key=key, upload_id=upload_id, cause=exc, abort_error=abort_error
            ) from exc
        raise
    except BaseException:
        if keep is not None and keep():
            raise
        await _abort(ops, bucket, key, upload_id)
        if forget is not None:
            await finish_despite_cancel(forget())
        raise
