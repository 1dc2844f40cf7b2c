"""An upload's requests, sent the same way from a file and from a stream.

The two that carry bytes each hold one slot of the global request cap while they run, and
report their bytes and retries to the transfer's ``ProgressReporter`` (a single PUT counts
as part 1).
"""

from __future__ import annotations

from collections.abc import Awaitable

from s3z_core.operations import ObjectAttributes
from s3z_core.transfer.control import TransferContext
from s3z_core.transfer.guard import create_multipart_guarded
from s3z_core.transfer.progress import ProgressReporter
from s3z_core.transport.body import Body
from s3z_core.transport.messages import RetryNotice


async def put_whole(
    ctx: TransferContext,
    reporter: ProgressReporter,
    bucket: str,
    key: str,
    body: Body,
    attributes: ObjectAttributes,
    md5: bytes | None,
    *,
    unsigned_payload: bool = False,
) -> str:
    async with ctx.requests:
        return await ctx.ops.put_object(
            bucket,
            key,
            body,
            content_md5=md5,
            progress=reporter.add,
            on_retry=lambda notice: reporter.retried(1, notice),
            unsigned_payload=unsigned_payload,
            **attributes,
        )


def create_upload(
    ctx: TransferContext, bucket: str, key: str, attributes: ObjectAttributes
) -> Awaitable[str]:
    """The multipart upload's id, created with the object's attributes (guarded: never
    leaked)."""
    return create_multipart_guarded(ctx.ops, bucket, key, **attributes)


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
