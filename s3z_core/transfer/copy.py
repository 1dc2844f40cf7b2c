"""Server-side copy: one CopyObject up to 5 GiB, UploadPartCopy parts (guarded) above."""

from __future__ import annotations

import asyncio
import time

from s3z_core.errors import InvalidValueError
from s3z_core.events import TransferStarted
from s3z_core.metadata import PART_SIZE_META
from s3z_core.models import TransferResult
from s3z_core.specs import TransferSpec
from s3z_core.transfer.control import TransferContext, TransferControl, size_only_result
from s3z_core.transfer.guard import create_multipart_guarded, multipart_abort_guard
from s3z_core.transfer.planning import (
    MAX_SINGLE_PUT_BYTES,
    split,
    streams_for_size,
    upload_part_size,
)
from s3z_core.transfer.progress import ProgressReporter


async def copy_object(
    ctx: TransferContext, control: TransferControl, spec: TransferSpec
) -> TransferResult:
    """``spec``'s copy inside one endpoint: the store copies, no byte comes through here."""
    started = time.monotonic()
    src_bucket, src_key, bucket, key = spec.source_bucket, spec.source_key, spec.bucket, spec.key
    head = await ctx.ops.head_object(src_bucket, src_key)
    size = head.size
    reporter = ProgressReporter(control.transfer_id, ctx.sink)
    if size <= MAX_SINGLE_PUT_BYTES:
        ctx.emit(TransferStarted(control.transfer_id, size, 1))
        await control.wait_runnable()
        async with ctx.requests:
            etag = await ctx.ops.copy_object(src_bucket, src_key, bucket, key)
        reporter.add(size)
        reporter.flush()
        parts = 1
    else:
        streams = streams_for_size(size, ctx.config)
        plan = split(size, upload_part_size(size, streams, ctx.config.part_size))
        ctx.emit(TransferStarted(control.transfer_id, size, len(plan)))
        part_size = plan[0].length
        meta = dict(head.metadata)
        meta[PART_SIZE_META] = str(part_size)  # our parts, not the source's
        upload_id = await create_multipart_guarded(
            ctx.ops,
            bucket,
            key,
            content_type=head.content_type or None,
            metadata=meta,
            cache_control=head.cache_control or None,
        )
        async with multipart_abort_guard(ctx.ops, bucket, key, upload_id):
            etags: dict[int, str] = {}
            pending = list(plan)

            async def work() -> None:
                while pending:
                    part = pending.pop(0)
                    await control.wait_runnable()
                    async with ctx.requests:
                        etags[part.number] = await ctx.ops.upload_part_copy(
                            src_bucket=src_bucket,
                            src_key=src_key,
                            bucket=bucket,
                            key=key,
                            upload_id=upload_id,
                            part_number=part.number,
                            first_byte=part.offset,
                            last_byte=part.offset + part.length - 1,
                        )
                    reporter.add(part.length)

            async with asyncio.TaskGroup() as group:
                for _ in range(min(streams, len(plan))):
                    group.create_task(work())
            etag = await ctx.ops.complete_multipart_upload(
                bucket, key, upload_id, sorted(etags.items())
            )
        reporter.flush()
        parts = len(plan)
    return size_only_result(control, spec, size, etag, parts, started)


def check_copy_prefixes(src_bucket: str, src_prefix: str, dst_bucket: str, dst_prefix: str) -> None:
    """A destination inside the source would be listed while it is written (copies of
    copies, or objects copied onto themselves): refuse it before anything runs."""
    if src_bucket == dst_bucket and dst_prefix.startswith(src_prefix):
        raise InvalidValueError(
            f"cannot copy s3://{src_bucket}/{src_prefix} into s3://{dst_bucket}/{dst_prefix}: "
            "the destination lies inside the source"
        )
