"""Downloading one object: ranged parallel GETs (or one streamed GET) into a temp file.

Bytes go network → (≥ 512 KiB batches) → the file's own writer thread → ``pwritev``.
The file is written under a temporary name in the destination folder and renamed to
its final name only after every byte arrived and was verified; on any failure or
cancellation the temp file is removed. A body cut short mid-stream resumes from the
last byte received instead of starting the range over.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from s3z_core.config import WRITE_COALESCE_BYTES
from s3z_core.errors import LocalFileError, TransportError, VerificationError
from s3z_core.events import TransferStarted, Verification
from s3z_core.models import TransferResult
from s3z_core.transfer.control import TransferContext, TransferControl
from s3z_core.transfer.guard import finish_despite_cancel
from s3z_core.transfer.planning import Part, plan_download
from s3z_core.transfer.progress import ProgressReporter
from s3z_core.transfer.upload import MTIME_META, PART_SIZE_META
from s3z_core.transfer.writer import FileWriter, PartHasher
from s3z_core.transport.client import RetryNotice
from s3z_core.transport.error_mapping import TRANSPORT_EXCEPTIONS, transport_error

TEMP_SUFFIX = ".s3z-part"
T = TypeVar("T")


TEMP_NAME_BYTES = 120  # room for the token and suffix under NAME_MAX (255 bytes)


def temp_name(dest: Path) -> Path:
    """Hidden, recognisable, unique, and short enough even when the final name is not."""
    stem = dest.name.encode()[:TEMP_NAME_BYTES].decode(errors="ignore")
    return dest.with_name(f".{stem}.{secrets.token_hex(4)}{TEMP_SUFFIX}")


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
    mtime: datetime | None = None,
) -> TransferResult:
    started = time.monotonic()
    part_size: int | None = None
    mtime_s: float | None = mtime.timestamp() if mtime else None
    if size is None or etag is None or (ctx.config.verify and "-" in etag):
        head = await ctx.ops.head_object(bucket, key)
        size, etag = head.size, head.etag
        meta_part = head.metadata.get(PART_SIZE_META, "")
        part_size = int(meta_part) if meta_part.isdigit() and int(meta_part) > 0 else None
        meta_mtime = head.metadata.get(MTIME_META, "")
        with contextlib.suppress(ValueError):
            mtime_s = float(meta_mtime) if meta_mtime else mtime_s
        if mtime_s is None and head.last_modified is not None:
            mtime_s = head.last_modified.timestamp()

    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LocalFileError(f"cannot create folder {dest.parent}: {exc.strerror}") from None

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
    tmp = temp_name(dest)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    except OSError as exc:
        raise LocalFileError(f"cannot write {dest}: {exc.strerror}") from None
    writer: FileWriter | None = None
    renamed = False
    pin = _VersionPin()
    try:
        if plan.ranged:
            _local(os.ftruncate, dest, fd, size)
        writer = FileWriter(
            fd, str(dest), asyncio.get_running_loop(), hasher=hasher, backlog=ctx.write_backlog
        )
        queue: list[Part] = list(plan.ranges)

        async def work(w: FileWriter) -> None:
            while queue:
                part = queue.pop(0)
                await control.wait_runnable()
                async with ctx.requests:
                    await _fetch(ctx, bucket, key, part, plan.ranged, w, reporter, pin)

        async with asyncio.TaskGroup() as group:
            for _ in range(plan.streams):
                group.create_task(work(writer))
        await writer.close()
        reporter.flush()
        written = _local(os.fstat, dest, fd).st_size
        if written != size or reporter.total != size:
            raise VerificationError(
                f"s3://{bucket}/{key}: expected {size} bytes, received {reporter.total}"
            )
        verification = await _verify(ctx, writer, tmp, etag, bucket, key, multipart_etag)
        os.close(fd)
        fd = -1
        if mtime_s is not None:
            _local(os.utime, dest, tmp, (mtime_s, mtime_s))
        _local(os.replace, dest, tmp, dest)
        renamed = True
    except BaseException:
        if writer is not None:
            with contextlib.suppress(LocalFileError):
                await finish_despite_cancel(writer.close())
        raise
    finally:
        if fd >= 0:
            os.close(fd)
        if not renamed:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    return TransferResult(
        transfer_id=control.transfer_id,
        source=f"s3://{bucket}/{key}",
        destination=str(dest),
        size=size,
        etag=etag,
        verification=verification,
        parts=len(plan.ranges),
        elapsed_s=time.monotonic() - started,
    )


def _local(fn: Callable[..., T], dest: Path, *args: Any) -> T:
    """A local filesystem call whose failure is this file's ``LocalFileError``."""
    try:
        return fn(*args)
    except OSError as exc:
        raise LocalFileError(f"cannot write {dest}: {exc.strerror or exc}") from None


async def _verify(
    ctx: TransferContext,
    writer: FileWriter,
    tmp: Path,
    etag: str,
    bucket: str,
    key: str,
    multipart_etag: bool,
) -> Verification:
    if not ctx.config.verify:
        return Verification.UNVERIFIED
    computed = writer.etag
    if computed is None and not multipart_etag and len(etag) == 32:
        # A large single-part object downloaded in ranges: hash it once, off the loop.
        computed = await asyncio.to_thread(_md5_file, str(tmp))
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
    writer: FileWriter,
    reporter: ProgressReporter,
    pin: _VersionPin,
) -> None:
    """Stream one range into the writer, resuming mid-body failures from the last byte."""
    client = ctx.ops.client
    pos = part.offset
    end = part.offset + part.length  # exclusive
    attempt = 0

    def on_retry(notice: RetryNotice) -> None:
        reporter.retried(part.number, notice)

    while True:
        byte_range = (pos, end - 1) if (ranged or pos > part.offset) and end > pos else None
        batch: list[bytes] = []
        buffered = 0
        try:
            async with client.open_get(bucket, key, byte_range=byte_range, on_retry=on_retry) as r:
                pin.check(r.headers.get("ETag", "").strip('"'), bucket, key)
                if r.content_length is not None and r.content_length != end - pos:
                    raise VerificationError(
                        f"s3://{bucket}/{key}: server sent {r.content_length} bytes for "
                        f"{end - pos} asked (did the object change since it was listed?)"
                    )
                content = r.content
                while True:
                    chunk, _ = await content.readchunk()
                    if not chunk:
                        break
                    batch.append(chunk)
                    buffered += len(chunk)
                    reporter.add(len(chunk))
                    if buffered >= WRITE_COALESCE_BYTES:
                        await writer.submit(pos, batch)
                        pos += buffered
                        batch, buffered = [], 0
            if batch:
                await writer.submit(pos, batch)
                pos += buffered
                batch, buffered = [], 0
            if pos == end:
                return
            if pos > end:
                raise VerificationError(f"s3://{bucket}/{key}: server sent more bytes than asked")
            err: TransportError = TransportError(
                f"body ended at byte {pos} of {end}",
                operation="GetObject",
                target=f"s3://{bucket}/{key}",
            )
        except TRANSPORT_EXCEPTIONS as exc:
            err = transport_error(exc, operation="GetObject", target=f"s3://{bucket}/{key}")
            if batch:  # what arrived is good: keep it, resume after it
                await writer.submit(pos, batch)
                pos += buffered
        attempt += 1
        delay = client.retry_wait(err, attempt, "GetObject", on_retry)
        if delay is None:
            raise err
        await asyncio.sleep(delay)
