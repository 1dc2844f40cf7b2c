"""Request bodies: in-memory bytes, or a file range streamed from disk in 256 KiB preads.

The reads run in the file-system pool (``s3z_core.filesystem``), never on the event loop.

A file range never sits in memory whole (the original s3z buffered single PUTs and hit
1.5 GiB RSS). Each attempt opens its own descriptor, so a retry rereads from the
range start and parallel parts never share a file offset.

In-memory bodies above one chunk are sent as slices of a ``memoryview``: an
``io.BytesIO`` around them would copy the whole buffer (aiohttp exports it), which
doubled every in-flight part of a streamed upload. A buffer body (a stream's part, filled
in place) must not change while its request runs; nothing reuses one.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from typing import TypeVar

from s3z_core.config import UPLOAD_CHUNK_BYTES
from s3z_core.errors import LocalFileError
from s3z_core.filesystem import FsPool, pool
from s3z_core.records import record
from s3z_core.transport.bandwidth import Pace


@record
class FileRange:
    path: str
    offset: int
    length: int


Body = bytes | bytearray | memoryview | FileRange | None
ProgressCallback = Callable[[int], None]
Chunk = TypeVar("Chunk", bytes, memoryview)


class SentCounter:
    """How many body bytes the current attempt handed to the socket (for progress rewind),
    and the local read error that stopped it, if any: aiohttp wraps exceptions raised
    inside a body generator as connection errors, which must not be retried as such."""

    __slots__ = ("local_error", "sent")

    def __init__(self) -> None:
        self.sent = 0
        self.local_error: LocalFileError | None = None


def _open_and_read(path: str, offset: int, want: int, whole: bool) -> tuple[int, bytes]:
    """Open and read the first chunk in one trip to the pool; a range that fits in one
    chunk is closed at once (the descriptor comes back as -1)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        data = os.pread(fd, want, offset)
    except BaseException:
        os.close(fd)
        raise
    if whole and len(data) == want:
        os.close(fd)
        return -1, data
    return fd, data


def _read_error(rng: FileRange, exc: OSError, counter: SentCounter) -> LocalFileError:
    counter.local_error = LocalFileError(f"cannot read {rng.path}: {exc.strerror}")
    return counter.local_error


def stream_file_range(
    rng: FileRange,
    counter: SentCounter,
    progress: ProgressCallback | None,
    pace: Pace | None = None,
) -> AsyncIterator[bytes]:
    """The range in 256 KiB chunks, read by the file-system pool one chunk ahead of the socket:
    the event loop never waits on the disk, and a small file costs one trip to the pool.
    ``pace``: the bandwidth cap's bucket, awaited before each chunk goes."""
    return _metered(_read_ahead(rng, counter), counter, progress, pace)


async def _read_ahead(rng: FileRange, counter: SentCounter) -> AsyncGenerator[bytes, None]:
    executor = pool()
    end = rng.offset + rng.length
    want = min(UPLOAD_CHUNK_BYTES, rng.length)
    try:
        fd, chunk = await executor.submit(
            _open_and_read, rng.path, rng.offset, want, want == rng.length
        )
    except OSError as exc:
        raise _read_error(rng, exc, counter) from None
    pos = rng.offset
    ahead: asyncio.Future[bytes] | None = None
    try:
        while True:
            if not chunk:
                counter.local_error = LocalFileError(
                    f"{rng.path} shrank while uploading (expected {end} bytes, EOF at {pos})"
                )
                raise counter.local_error
            pos += len(chunk)
            if pos < end:
                ahead = executor.submit(os.pread, fd, min(UPLOAD_CHUNK_BYTES, end - pos), pos)
            yield chunk
            if ahead is None:
                return
            try:
                chunk = await ahead
            except OSError as exc:
                raise _read_error(rng, exc, counter) from None
            ahead = None
    finally:
        if fd >= 0:
            _close_when_idle(executor, fd, ahead)


def _close_when_idle(executor: FsPool, fd: int, reading: asyncio.Future[bytes] | None) -> None:
    """Close the descriptor in the pool, after a read still in flight on it has finished."""
    if reading is None or reading.done():
        if reading is not None and not reading.cancelled():
            reading.exception()  # retrieved: the attempt is over either way
        executor.post(os.close, fd)
        return

    def later(done: asyncio.Future[bytes]) -> None:
        if not done.cancelled():
            done.exception()
        executor.post(os.close, fd)

    reading.add_done_callback(later)


def stream_memory(
    data: bytes | bytearray | memoryview,
    counter: SentCounter,
    progress: ProgressCallback | None,
    pace: Pace | None = None,
) -> AsyncIterator[memoryview]:
    """One attempt's body from memory, in chunks that share the buffer (no copy)."""
    return _metered(_slices(data), counter, progress, pace)


async def _slices(data: bytes | bytearray | memoryview) -> AsyncGenerator[memoryview, None]:
    view = memoryview(data)
    try:
        for start in range(0, len(view), UPLOAD_CHUNK_BYTES):
            yield view[start : start + UPLOAD_CHUNK_BYTES]
    finally:
        view.release()  # the buffer is not exported past the attempt


async def _metered(
    chunks: AsyncGenerator[Chunk, None],
    counter: SentCounter,
    progress: ProgressCallback | None,
    pace: Pace | None,
) -> AsyncIterator[Chunk]:
    """Paced before a chunk goes, counted once the socket took it: a file and a buffer
    are sent, rewound and capped the same way. ``chunks`` is closed with the attempt, so a
    descriptor or an exported buffer never outlives it."""
    async with aclosing(chunks):
        async for chunk in chunks:
            if pace is not None:
                await pace(len(chunk))
            yield chunk
            counter.sent += len(chunk)
            if progress is not None:
                progress(len(chunk))
