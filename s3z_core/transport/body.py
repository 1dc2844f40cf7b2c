"""Request bodies: in-memory bytes, or a file range streamed from disk in 256 KiB preads.

A file range never sits in memory whole (the original s3z buffered single PUTs and hit
1.5 GiB RSS). Each attempt opens its own descriptor, so a retry rereads from the
range start and parallel parts never share a file offset.

In-memory bodies above one chunk are sent as slices of a ``memoryview``: an
``io.BytesIO`` around them would copy the whole buffer (aiohttp exports it), which
doubled every in-flight part of a streamed upload. A buffer body (a stream's part, filled
in place) must not change while its request runs; nothing reuses one.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from s3z_core.config import UPLOAD_CHUNK_BYTES
from s3z_core.errors import LocalFileError


@dataclass(frozen=True, slots=True)
class FileRange:
    path: str
    offset: int
    length: int


Body = bytes | bytearray | memoryview | FileRange | None
ProgressCallback = Callable[[int], None]


class SentCounter:
    """How many body bytes the current attempt handed to the socket (for progress rewind),
    and the local read error that stopped it, if any: aiohttp wraps exceptions raised
    inside a body generator as connection errors, which must not be retried as such."""

    __slots__ = ("local_error", "sent")

    def __init__(self) -> None:
        self.sent = 0
        self.local_error: LocalFileError | None = None


async def stream_file_range(
    rng: FileRange, counter: SentCounter, progress: ProgressCallback | None
) -> AsyncIterator[bytes]:
    try:
        fd = os.open(rng.path, os.O_RDONLY)
    except OSError as exc:
        counter.local_error = LocalFileError(f"cannot read {rng.path}: {exc.strerror}")
        raise counter.local_error from None
    try:
        pos = rng.offset
        end = rng.offset + rng.length
        while pos < end:
            want = min(UPLOAD_CHUNK_BYTES, end - pos)
            try:
                chunk = os.pread(fd, want, pos)
            except OSError as exc:
                counter.local_error = LocalFileError(f"cannot read {rng.path}: {exc.strerror}")
                raise counter.local_error from None
            if not chunk:
                counter.local_error = LocalFileError(
                    f"{rng.path} shrank while uploading (expected {end} bytes, EOF at {pos})"
                )
                raise counter.local_error
            pos += len(chunk)
            yield chunk
            counter.sent += len(chunk)
            if progress is not None:
                progress(len(chunk))
    finally:
        os.close(fd)


async def stream_memory(
    data: bytes | bytearray | memoryview, counter: SentCounter, progress: ProgressCallback | None
) -> AsyncIterator[memoryview]:
    """One attempt's body from memory, in chunks that share the buffer (no copy)."""
    view = memoryview(data)
    try:
        for start in range(0, len(view), UPLOAD_CHUNK_BYTES):
            chunk = view[start : start + UPLOAD_CHUNK_BYTES]
            yield chunk
            counter.sent += len(chunk)
            if progress is not None:
                progress(len(chunk))
    finally:
        view.release()  # the buffer is not exported past the attempt
