"""An upload's requests, sent the same way from a file and from a stream.

The two that carry bytes each hold one slot of the global request cap while they run, and
report their bytes and retries to the transfer's ``ProgressReporter`` (a single PUT counts
as part 1).
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping

from s3z_core.transfer.control import TransferContext
from s3z_core.transfer.guard import create_multipart_guarded
from s3z_core.transfer.progress import ProgressReporter
from s3z_core.transport.body import Body
from s3z_core.transport.messages import RetryNotice

# Content-Type and Cache-Control, as an upload carries them to its PUT or its parts' create.
ObjectHeaders = tuple[str, str | None]


async def put_whole(
    ctx: TransferContext,
    reporter: ProgressReporter,
    bucket: str,
    key: str,
    body: Body,
    headers: ObjectHeaders,
    metadata: Mapping[str, str],
    md5: bytes | None,
    *,
    unsigned_payload: bool = False,
) -> str:
    content_type, cache_control = headers
    async with ctx.requests:
        return await ctx.ops.put_object(
            bucket,
            key,
            body,
            content_type=content_type,
            metadata=metadata,
            cache_control=cache_control,
            content_md5=md5,
            progress=reporter.add,
            on_retry=lambda notice: reporter.retried(1, notice),
            unsigned_payload=unsigned_payload,
        )


def create_upload(
    ctx: TransferContext, bucket: str, key: str, headers: ObjectHeaders, metadata: Mapping[str, str]
) -> Awaitable[str]:
    """The multipart upload's id, created with the object's headers (guarded: never leaked)."""
    content_type, cache_control = headers
    return create_multipart_guarded(
        ctx.ops,
        bucket,
        key,
        content_type=content_type,
        metadata=metadata,
        cache_control=cache_control,
    )


async def put_part(
    ctx: TransferContext,
    reporter: ProgressReporter,
    target: tuple[str, str, str],
    number: int,
    body: Body,
    md5: bytes | None,
) -> str:
    """``target``: bucket, key and upload id of the multipart upload the part belongs to."""
    bucket, key, upload_id = target

    def on_retry(notice: RetryNotice) -> None:
        reporter.retried(number, notice)

    async with ctx.requests:
        return await ctx.ops.upload_part(
            bucket,
            key,
            upload_id,
            number,
            body,
            content_md5=md5,
            progress=reporter.add,
            on_retry=on_retry,
        )
