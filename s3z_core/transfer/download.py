"""Downloading one object: ranged parallel GETs (or one streamed GET) into a temp file.

Bytes go network → (≥ 512 KiB batches) → a writer → ``pwritev``. A ranged download has its
own writer thread (many streams into one big file); a single-GET download is written by
the shared file-system pool. Either way the file lands under a temporary name (``landing``)
and is renamed only after every byte arrived and was verified; on any failure or
cancellation the temp file is removed. A body cut short mid-stream is resumed by the
transport from the last byte received, within the request's one retry budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from datetime import datetime
from pathlib import Path

from s3z_core.config import WRITE_COALESCE_BYTES
from s3z_core.errors import LocalFileError, VerificationError
from s3z_core.events import TransferStarted, Verification
from s3z_core.filesystem import fs_call
from s3z_core.metadata import stored_mtime, stored_part_size
from s3z_core.models import TransferResult
from s3z_core.transfer.control import TransferContext, TransferControl
from s3z_core.transfer.guard import finish_despite_cancel
from s3z_core.transfer.landing import TEMP_SUFFIX, Landing, temp_name
from s3z_core.transfer.paths import DestinationGuard
from s3z_core.transfer.planning import Part, plan_download
from s3z_core.transfer.progress import ProgressReporter
from s3z_core.transfer.writer import FileWriter, PartHasher, PooledWriter
from s3z_core.transport.messages import RetryNotice, StreamHead

__all__ = ["TEMP_SUFFIX", "download_file", "temp_name"]


class _VersionPin:
    """All ranges (and resumed reads) of one download must come from one object version:
    the first response's ETag pins it; a different one means the object was replaced."""

    __slots__ = ("etag",)

    def __init__(self) -> None:
        self.etag: str | None = None

    def check(self, etag: str, bucket: str, key: str) -> None:
        if not etag:
            return
        if self.etag is None:
            self.etag = etag
        elif etag != self.etag:
            raise VerificationError(
                f"s3://{bucket}/{key} changed while downloading (ETag {self.etag} became {etag})"
            )


def _md5_file(path: str) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        while chunk := fh.read(4 << 20):
            digest.update(chunk)
    return digest.hexdigest()


async def download_file(
    ctx: TransferContext,
    control: TransferControl,
    bucket: str,
    key: str,
    dest: Path,
    *,
    size: int | None = None,
    etag: str | None = None,
    mtime: datetime | float | None = None,
    guard: DestinationGuard | None = None,
) -> TransferResult:
    """``guard``: ``dest`` was derived from ``key``; the guard checks it (symlinks) in the
    pool right before the file is created."""
    started = time.monotonic()
    part_size: int | None = None
    mtime_s = mtime.timestamp() if isinstance(mtime, datetime) else mtime
    if size is None or etag is None or (ctx.config.verify and "-" in etag):
        head = await ctx.ops.head_object(bucket, key)
        size, etag = head.size, head.etag
        part_size = stored_part_size(head.metadata)
        mtime_s = stored_mtime(head.metadata) or mtime_s
        if mtime_s is None and head.last_modified is not None:
            mtime_s = head.last_modified.timestamp()

    multipart_etag = "-" in etag
    hasher: PartHasher | None = None
    if ctx.config.verify and multipart_etag and part_size:
        expected_parts = -(-size // part_size)
        if etag.rsplit("-", 1)[1] == str(expected_parts):
            hasher = PartHasher(size, part_size, composite=True)
    plan = plan_download(size, ctx.config, part_size if hasher is not None else None)
    if ctx.config.verify and not multipart_etag and not plan.ranged:
        hasher = PartHasher(size, max(size, 1))

    ctx.emit(TransferStarted(control.transfer_id, size, len(plan.ranges)))
    reporter = ProgressReporter(control.transfer_id, ctx.sink)
    landing = Landing(dest, None if guard is None else lambda: guard.path_for(key))
    loop = asyncio.get_running_loop()
    writer: FileWriter | PooledWriter | None = None
    pin = _VersionPin()
    try:
        if plan.ranged:
            fd = await fs_call(landing.open, size)
            writer = FileWriter(
                fd, str(landing.dest), loop, hasher=hasher, backlog=ctx.write_backlog
            )
        else:
            writer = PooledWriter(landing, loop, hasher=hasher, backlog=ctx.write_backlog)
        queue: list[Part] = list(plan.ranges)

        async def work(w: FileWriter | PooledWriter) -> None:
            while queue:
                part = queue.pop(0)
                await control.wait_runnable()
                async with ctx.requests:
                    await _fetch(ctx, bucket, key, part, plan.ranged, w, reporter, pin)

        async with asyncio.TaskGroup() as group:
            for _ in range(plan.streams):
                group.create_task(work(writer))
        reporter.flush()
        if reporter.total != size:
            raise VerificationError(
                f"s3://{bucket}/{key}: expected {size} bytes, received {reporter.total}"
            )
        if isinstance(writer, PooledWriter):

            def land(computed: str | None) -> Verification:
                checked = _judge(ctx.config.verify, computed, etag, bucket, key, multipart_etag)
                landing.commit(size, mtime_s)
                return checked

            verification = await writer.finish(land)
        else:
            await writer.close()
            verification = await _verify(ctx, writer, landing, etag, bucket, key, multipart_etag)
            await fs_call(landing.commit, size, mtime_s)
    except BaseException:
        if writer is not None:
            with contextlib.suppress(LocalFileError):
                await finish_despite_cancel(writer.close())
        await finish_despite_cancel(fs_call(landing.discard))
        raise
    return TransferResult(
        transfer_id=control.transfer_id,
        source=f"s3://{bucket}/{key}",
        destination=str(landing.dest),
        size=size,
        etag=etag,
        verification=verification,
        parts=len(plan.ranges),
        elapsed_s=time.monotonic() - started,
    )


async def _verify(
    ctx: TransferContext,
    writer: FileWriter,
    landing: Landing,
    etag: str,
    bucket: str,
    key: str,
    multipart_etag: bool,
) -> Verification:
    computed = writer.etag
    if ctx.config.verify and computed is None and not multipart_etag and len(etag) == 32:
        # A large single-part object downloaded in ranges: hash it once, off the loop.
        computed = await fs_call(_md5_file, str(landing.tmp))
    return _judge(ctx.config.verify, computed, etag, bucket, key, multipart_etag)


def _judge(
    verify: bool, computed: str | None, etag: str, bucket: str, key: str, multipart_etag: bool
) -> Verification:
    """What the downloaded bytes' hash says against the ETag; a mismatch fails the file."""
    if not verify:
        return Verification.UNVERIFIED
    if computed is None:
        return Verification.SIZE_ONLY
    if computed != etag:
        if len(etag) != 32 and not multipart_etag:
            return Verification.SIZE_ONLY  # not an MD5 ETag (SSE-KMS, some stores)
        raise VerificationError(
            f"s3://{bucket}/{key}: checksum mismatch (ETag {etag}, downloaded data {computed})"
        )
    return Verification.VERIFIED_COMPOSITE if multipart_etag else Verification.VERIFIED_MD5


async def _fetch(
    ctx: TransferContext,
    bucket: str,
    key: str,
    part: Part,
    ranged: bool,
    writer: FileWriter | PooledWriter,
    reporter: ProgressReporter,
    pin: _VersionPin,
) -> None:
    """Stream one range into the writer in batches of at least ``WRITE_COALESCE_BYTES``."""
    end = part.offset + part.length  # exclusive

    def on_head(head: StreamHead) -> None:
        pin.check(head.headers.get("ETag", "").strip('"'), bucket, key)
        asked = end - head.offset
        if head.content_length is not None and head.content_length != asked:
            raise VerificationError(
                f"s3://{bucket}/{key}: server sent {head.content_length} bytes for "
                f"{asked} asked (did the object change since it was listed?)"
            )

    def on_retry(notice: RetryNotice) -> None:
        reporter.retried(part.number, notice)

    pos = part.offset
    batch: list[bytes] = []
    buffered = 0
    body = ctx.ops.client.stream(
        bucket, key, start=part.offset, end=end, ranged=ranged, on_head=on_head, on_retry=on_retry
    )
    async with contextlib.aclosing(body):
        async for chunk in body:
            batch.append(chunk)
            buffered += len(chunk)
            reporter.add(len(chunk))
            if buffered >= WRITE_COALESCE_BYTES:
                await writer.submit(pos, batch)
                pos += buffered
                batch, buffered = [], 0
    if batch:
        if isinstance(writer, PooledWriter):
            writer.hold(pos, batch)  # written with the rename, in one trip
        else:
            await writer.submit(pos, batch)
