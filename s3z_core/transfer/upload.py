"""Uploading one file: a streamed single PUT, or multipart under the abort guard.

Multipart: the scheduler puts part descriptions (never bytes) on a bounded queue that a
fixed pool of workers drains with blocking ``get`` — no racy polling, so no part can be
dropped (the original s3z lost parts to a ``try_recv`` race). Each part streams its own
file range from its own descriptor.
"""

from __future__ import annotations

import asyncio
import hashlib
import mimetypes
import os
import stat
import time
from collections.abc import Awaitable, Mapping

from s3z_core.config import UPLOAD_CHUNK_BYTES
from s3z_core.errors import LocalFileError, ProtocolError
from s3z_core.events import TransferStarted, Verification
from s3z_core.filesystem import fs_call
from s3z_core.metadata import MTIME_META, PART_SIZE_META, format_mtime
from s3z_core.models import TransferResult
from s3z_core.operations import ObjectAttributes
from s3z_core.transfer.control import TransferContext, TransferControl
from s3z_core.transfer.guard import (
    finish_despite_cancel,
    multipart_abort_guard,
)
from s3z_core.transfer.planning import Part, UploadPlan, plan_upload
from s3z_core.transfer.progress import ProgressReporter
from s3z_core.transfer.resume import UploadState, file_fingerprint, start_upload_job
from s3z_core.transfer.sending import create_upload, put_part, put_whole
from s3z_core.transport.body import FileRange


def _md5_range(path: str, offset: int, length: int) -> bytes:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        fh.seek(offset)
        remaining = length
        while remaining:
            chunk = fh.read(min(remaining, 1 << 20))
            if not chunk:
                break
            digest.update(chunk)
            remaining -= len(chunk)
    return digest.digest()


def _stat(path: str) -> os.stat_result:
    try:
        st = os.stat(path)
    except OSError as exc:
        raise LocalFileError(f"cannot read {path}: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):  # a FIFO would block or upload as 0 bytes
        raise LocalFileError(f"cannot upload {path}: not a regular file")
    if not os.access(path, os.R_OK):
        raise LocalFileError(f"cannot read {path}: Permission denied")
    return st


def _snapshot_small(path: str, limit: int) -> tuple[os.stat_result, bytes | None, str | None]:
    """Stat a file and, when it fits in one chunk, read it whole: one trip to the pool
    instead of three (stat, open-and-read, the changed-while-uploading stat), which is most
    of a small upload's cost besides the request (each trip is a thread hand-off). The
    bytes are one consistent snapshot: the descriptor is stat'ed again after the read, so
    a file written meanwhile fails here rather than after its upload. ``O_NONBLOCK`` keeps
    a FIFO from blocking the open; a larger file comes back without bytes. The content type
    is guessed here too: the first guess of a process reads the system's mime.types files."""
    guessed = mimetypes.guess_type(path)[0]
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError as exc:
        raise LocalFileError(f"cannot read {path}: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise LocalFileError(f"cannot upload {path}: not a regular file")
        if st.st_size > limit:
            return st, None, guessed
        data = os.pread(fd, st.st_size + 1, 0) if st.st_size else b""
        after = os.fstat(fd)
    except OSError as exc:
        raise LocalFileError(f"cannot read {path}: {exc.strerror}") from None
    finally:
        os.close(fd)
    if (
        len(data) != st.st_size
        or after.st_size != st.st_size
        or after.st_mtime_ns != st.st_mtime_ns
    ):
        raise LocalFileError(f"{path} changed while it was uploading; upload it again")
    return st, data, guessed


def _check_unchanged(path: str, before: os.stat_result) -> None:
    after = _stat(path)
    if after.st_size != before.st_size or after.st_mtime_ns != before.st_mtime_ns:
        raise LocalFileError(f"{path} changed while it was uploading; upload it again")


async def upload_file(
    ctx: TransferContext,
    control: TransferControl,
    path: str,
    bucket: str,
    key: str,
    *,
    metadata: Mapping[str, str] | None = None,
    content_type: str | None = None,
    cache_control: str | None = None,
) -> TransferResult:
    started = time.monotonic()
    st, snapshot, guessed = await fs_call(_snapshot_small, path, UPLOAD_CHUNK_BYTES)
    size = st.st_size
    plan = plan_upload(size, ctx.config)
    meta = dict(metadata or {})
    if ctx.config.store_mtime:
        meta.setdefault(MTIME_META, format_mtime(st.st_mtime))
    if plan.multipart:
        meta[PART_SIZE_META] = str(plan.part_size)
    ctype = content_type or guessed or "application/octet-stream"
    attributes = ObjectAttributes(content_type=ctype, metadata=meta, cache_control=cache_control)
    reporter = ProgressReporter(control.transfer_id, ctx.sink)
    ctx.emit(TransferStarted(control.transfer_id, size, len(plan.parts)))

    if not plan.multipart:
        await control.wait_runnable()
        md5: bytes | None = None
        if ctx.config.content_md5:
            md5 = (
                hashlib.md5(snapshot, usedforsecurity=False).digest()
                if snapshot is not None
                else await fs_call(_md5_range, path, 0, size)
            )
        body = snapshot if snapshot is not None else FileRange(path, 0, size)
        etag = await put_whole(
            ctx, reporter, bucket, key, body, attributes, md5, unsigned_payload=True
        )
        if not size:
            reporter.add(0)
        reporter.flush()
        verification = Verification.VERIFIED_MD5 if md5 is not None else Verification.SIZE_ONLY
        parts = 1
    else:
        etag, parts = await _upload_multipart(
            ctx, control, path, bucket, key, plan, st, attributes, reporter
        )
        verification = (
            Verification.VERIFIED_MD5 if ctx.config.content_md5 else (Verification.SIZE_ONLY)
        )
    if snapshot is None:
        await fs_call(_check_unchanged, path, st)
    return TransferResult(
        transfer_id=control.transfer_id,
        source=path,
        destination=f"s3://{bucket}/{key}",
        size=size,
        etag=etag,
        verification=verification,
        parts=parts,
        elapsed_s=time.monotonic() - started,
    )


async def _upload_multipart(
    ctx: TransferContext,
    control: TransferControl,
    path: str,
    bucket: str,
    key: str,
    plan: UploadPlan,
    st: os.stat_result,
    attributes: ObjectAttributes,
    reporter: ProgressReporter,
) -> tuple[str, int]:
    """The object's ETag and its part count. With a journal, an upload an earlier run left
    is continued (``transfer/resume.py``): only the parts the server lacks are sent.
    ``attributes``: what the object is created with."""

    def create() -> Awaitable[str]:
        return create_upload(ctx, bucket, key, attributes)

    journal = ctx.journal
    if journal is None:
        state = UploadState(await create(), plan.parts)
    else:
        state = await start_upload_job(
            ctx, control, path, bucket, key, plan.size, file_fingerprint(st), plan.parts, create
        )
        if state.completed_etag is not None:  # killed after Complete went through
            await finish_despite_cancel(journal.finish_job(state.job_id, control.batch_id))
            reporter.add(plan.size)
            reporter.flush()
            return state.completed_etag, len(state.parts)

    def forget() -> Awaitable[None]:
        assert journal is not None
        return journal.drop_job(state.job_id)

    upload_id = state.upload_id
    target = (bucket, key, upload_id)
    async with multipart_abort_guard(
        ctx.ops,
        bucket,
        key,
        upload_id,
        keep=lambda: ctx.keeps_on_cancel,
        forget=forget if journal is not None else None,
    ):
        etags: dict[int, str] = dict(state.done)
        todo = [p for p in state.parts if p.number not in etags]
        if etags:
            reporter.add(sum(p.length for p in state.parts if p.number in etags))
        streams = max(1, min(plan.streams, len(todo)))
        queue: asyncio.Queue[Part | None] = asyncio.Queue(maxsize=streams)

        async def schedule() -> None:
            for part in todo:
                await queue.put(part)
            for _ in range(streams):
                await queue.put(None)

        async def work() -> None:
            while (part := await queue.get()) is not None:
                await control.wait_runnable()
                md5 = None
                if ctx.config.content_md5:
                    md5 = await fs_call(_md5_range, path, part.offset, part.length)
                body = FileRange(path, part.offset, part.length)
                etag = await put_part(ctx, reporter, target, part.number, body, md5)
                etags[part.number] = etag
                if journal is not None:
                    journal.record_part(state.job_id, part.number, etag)

        async with asyncio.TaskGroup() as group:
            group.create_task(schedule())
            for _ in range(streams):
                group.create_task(work())
        reporter.flush()
        missing = [p.number for p in state.parts if p.number not in etags]
        if missing:  # cannot happen with blocking gets; a loud guard, never a silent gap
            raise ProtocolError(f"parts {missing[:5]} of s3://{bucket}/{key} were never uploaded")
        # Before Complete, not after: a torn object must be aborted, never committed.
        await fs_call(_check_unchanged, path, st)
        if journal is not None:  # a crash from here on is checked against the object
            await journal.set_state(state.job_id, "completing")
        etag = await ctx.ops.complete_multipart_upload(
            bucket, key, upload_id, sorted(etags.items())
        )
    if journal is not None:
        await finish_despite_cancel(journal.finish_job(state.job_id, control.batch_id))
    return etag, len(state.parts)
