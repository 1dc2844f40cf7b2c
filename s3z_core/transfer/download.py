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
import time
from datetime import datetime
from pathlib import Path

from s3z_core.config import HASHING_WRITER_THREADS, WRITE_COALESCE_BYTES
from s3z_core.errors import LocalFileError, VerificationError
from s3z_core.events import TransferStarted, Verification
from s3z_core.filesystem import fs_call
from s3z_core.metadata import stored_mtime, stored_part_size
from s3z_core.models import TransferResult
from s3z_core.transfer.control import TransferContext, TransferControl
from s3z_core.transfer.guard import finish_despite_cancel
from s3z_core.transfer.hashing import PartHasher
from s3z_core.transfer.landing import TEMP_SUFFIX, Landing, temp_name
from s3z_core.transfer.paths import DestinationGuard
from s3z_core.transfer.planning import DownloadPlan, Part, plan_download, streams_for_size
from s3z_core.transfer.progress import ProgressReporter
from s3z_core.transfer.resume import (
    RESUMABLE_DOWNLOAD_BYTES,
    DownloadState,
    RangeProgress,
    find_download,
    hash_file,
)
from s3z_core.transfer.writer import FileWriter, PooledWriter
from s3z_core.transport.messages import RetryNotice, StreamHead

__all__ = ["TEMP_SUFFIX", "VersionPin", "download_file", "temp_name"]


class VersionPin:
    """All ranges (and resumed reads) of one download must come from one object version:
    the first response's ETag pins it (or ``etag``, one already known from a HEAD); a
    different one means the object was replaced."""

    __slots__ = ("etag",)

    def __init__(self, etag: str | None = None) -> None:
        self.etag = etag or None

    def check(self, etag: str, bucket: str, key: str) -> None:
        if not etag:
            return
        if self.etag is None:
            self.etag = etag
        elif etag != self.etag:
            raise VerificationError(
                f"s3://{bucket}/{key} changed while downloading (ETag {self.etag} became {etag})"
            )


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
    version_id: str = "",
) -> TransferResult:
    """``guard``: ``dest`` was derived from ``key``; the guard checks it (symlinks) in the
    pool right before the file is created. ``version_id``: every HEAD and GET asks for that
    version (``?versionId=``), so an older version lands byte for byte."""
    started = time.monotonic()
    part_size: int | None = None
    mtime_s = mtime.timestamp() if isinstance(mtime, datetime) else mtime
    if size is None or not etag or (ctx.config.verify and "-" in etag):  # "": not known
        head = await ctx.ops.head_object(bucket, key, version_id=version_id or None)
        size, etag = head.size, head.etag
        part_size = stored_part_size(head.metadata)
        mtime_s = stored_mtime(head.metadata) or mtime_s
        if mtime_s is None and head.last_modified is not None:
            mtime_s = head.last_modified.timestamp()

    multipart_etag = "-" in etag
    composite_part: int | None = None  # the part size a composite ETag is recomputed with
    if ctx.config.verify and multipart_etag and part_size:
        expected_parts = -(-size // part_size)
        if etag.rsplit("-", 1)[1] == str(expected_parts):
            composite_part = part_size
    journal = ctx.journal
    resumable = journal is not None and size >= RESUMABLE_DOWNLOAD_BYTES
    state = await find_download(ctx, dest, bucket, key, size, etag) if resumable else None
    reporter = ProgressReporter(control.transfer_id, ctx.sink)
    if state is not None and state.landed:  # killed after the rename: it is all there
        assert journal is not None
        return await _already_landed(
            ctx, control, state, reporter, bucket, key, dest, etag, started
        )
    hasher: PartHasher | None = None
    if composite_part is not None and state is None:
        hasher = PartHasher(size, composite_part, composite=True)
    if state is not None:
        streams = min(streams_for_size(size, ctx.config), len(state.ranges))
        plan = DownloadPlan(size, True, state.ranges, max(1, streams))
    else:
        threshold = RESUMABLE_DOWNLOAD_BYTES if resumable else None
        plan = plan_download(size, ctx.config, composite_part, threshold)
    if ctx.config.verify and not multipart_etag and not plan.ranged:
        hasher = PartHasher(size, max(size, 1))

    ctx.emit(TransferStarted(control.transfer_id, size, len(plan.ranges)))
    landing = Landing(dest, None if guard is None else lambda: guard.path_for(key))
    if state is not None and state.tmp is not None:
        landing.adopt(state.tmp)
    loop = asyncio.get_running_loop()
    writer: FileWriter | PooledWriter | None = None
    pin = VersionPin()
    query = [("versionId", version_id)] if version_id else []
    try:
        queue: list[Part] = list(plan.ranges)
        if plan.ranged:
            fd = await fs_call(landing.open, size)
            if journal is not None and resumable and state is None:
                job_id = await journal.start_job(
                    "download",
                    ctx.endpoint,
                    bucket,
                    key,
                    str(dest),
                    size=size,
                    fingerprint=etag,
                    part_size=plan.ranges[0].length,
                    temp_path=str(landing.tmp),
                    batch_id=control.batch_id,
                )
                state = DownloadState(job_id, plan.ranges, list(plan.ranges))
            progress = None
            if journal is not None and state is not None:
                progress = RangeProgress(journal, state.job_id, state.ranges).written
                queue = list(state.todo)
                if state.resumed:
                    pin.etag = etag  # the bytes kept came from this version only
                    reporter.add(size - sum(p.length for p in queue))
            writer = FileWriter(
                fd,
                str(landing.dest),
                loop,
                hasher=hasher,
                backlog=ctx.write_backlog,
                on_written=progress,
                threads=HASHING_WRITER_THREADS if hasher is not None else 1,
                span=plan.ranges[0].length,
            )
        else:
            writer = PooledWriter(landing, hasher=hasher, backlog=ctx.write_backlog)

        async def work(w: FileWriter | PooledWriter) -> None:
            while queue:
                part = queue.pop(0)
                await control.wait_runnable()
                async with ctx.requests:
                    await _fetch(ctx, bucket, key, part, plan.ranged, w, reporter, pin, query)

        if plan.streams == 1:  # a single GET: no task group, no task of its own per file
            await work(writer)
        else:
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
            computed = writer.etag
            if computed is None:  # nothing streamed saw every byte in order
                computed = await _hash_read_back(ctx, landing, size, etag, composite_part)
            verification = _judge(ctx.config.verify, computed, etag, bucket, key, multipart_etag)
            if journal is not None and state is not None:  # a crash from here: see landed
                await journal.set_state(state.job_id, "landing")
            await fs_call(landing.commit, size, mtime_s)
            if journal is not None and state is not None:
                await finish_despite_cancel(journal.finish_job(state.job_id, control.batch_id))
    except BaseException as exc:
        if writer is not None:
            with contextlib.suppress(LocalFileError):
                await finish_despite_cancel(writer.close())
        suspended = isinstance(exc, asyncio.CancelledError) and ctx.keeps_on_cancel
        if state is not None and suspended:
            await finish_despite_cancel(fs_call(landing.release))  # kept for the next run
        else:
            await finish_despite_cancel(fs_call(landing.discard))
            if journal is not None and state is not None:
                await finish_despite_cancel(journal.drop_job(state.job_id))
        raise
    parts = len(plan.ranges)
    return _downloaded(control, bucket, key, landing.dest, size, etag, verification, parts, started)


def _downloaded(
    control: TransferControl,
    bucket: str,
    key: str,
    dest: Path,
    size: int,
    etag: str,
    verification: Verification,
    parts: int,
    started: float,
) -> TransferResult:
    """The result of a download, whether its bytes came now or in a run that was killed
    after the rename (``started``: when this run began, on the monotonic clock)."""
    elapsed = time.monotonic() - started
    source = f"s3://{bucket}/{key}"
    return TransferResult(
        control.transfer_id, source, str(dest), size, etag, verification, parts, elapsed
    )


async def _hash_read_back(
    ctx: TransferContext, landing: Landing, size: int, etag: str, composite_part: int | None
) -> str | None:
    """The hash of the whole temp file, read back off the loop: a resumed download (part of
    it came from an earlier run) or a single-part object fetched in ranges (its one MD5
    needs the bytes in order). None when the ETag cannot be recomputed."""
    if not ctx.config.verify:
        return None
    if composite_part is not None:
        return await fs_call(hash_file, str(landing.tmp), size, composite_part, True)
    if "-" not in etag and len(etag) == 32:
        return await fs_call(hash_file, str(landing.tmp), size, max(size, 1), False)
    return None


async def _already_landed(
    ctx: TransferContext,
    control: TransferControl,
    state: DownloadState,
    reporter: ProgressReporter,
    bucket: str,
    key: str,
    dest: Path,
    etag: str,
    started: float,
) -> TransferResult:
    """The journal said "landing" and the file is in place: the earlier run verified it
    before the rename, so only its entry is left to forget."""
    assert ctx.journal is not None
    size = sum(p.length for p in state.ranges)
    ctx.emit(TransferStarted(control.transfer_id, size, len(state.ranges)))
    await ctx.journal.finish_job(state.job_id, control.batch_id)
    reporter.add(size)
    reporter.flush()
    verification = Verification.UNVERIFIED
    if ctx.config.verify:
        verification = Verification.VERIFIED_COMPOSITE if "-" in etag else Verification.VERIFIED_MD5
    parts = len(state.ranges)
    return _downloaded(control, bucket, key, dest, size, etag, verification, parts, started)


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
    pin: VersionPin,
    query: list[tuple[str, str]],
) -> None:
    """Stream one range into the writer in batches of at least ``WRITE_COALESCE_BYTES``."""
    end = part.offset + part.length  # exclusive

    def on_head(head: StreamHead) -> None:
        pin.check(head.etag, bucket, key)
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
        bucket,
        key,
        start=part.offset,
        end=end,
        ranged=ranged,
        on_head=on_head,
        on_retry=on_retry,
        query=query,
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
