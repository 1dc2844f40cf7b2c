"""Download writers: network tasks hand over bytes, and never touch the disk themselves.

``FileWriter`` owns the dedicated writer thread of one ranged download (many streams into
one file; two threads when it verifies MD5s); ``PooledWriter`` writes a single-GET download
through the shared file-system pool, one batch at a time, so a thousand small files never
start a thousand threads.

Network tasks hand over lists of chunks (≥ 512 KiB) with their file offset; the thread
writes each list with one ``os.pwritev`` (the transport hands over fresh bytes objects, so
joining or copying into a buffer would only add a copy — measured in PY_PERF.md). The
queue is bounded by an asyncio semaphore the thread releases, so a slow disk slows the
network instead of growing memory. Hashing (per-part MD5 for ETag verification,
``hashing.py``) also runs here, off the event loop; hashlib releases the GIL on large
buffers.
"""

from __future__ import annotations

import _thread
import asyncio
import contextlib
import functools
import os
import queue
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from s3z_core.config import WRITER_QUEUE_DEPTH
from s3z_core.errors import LocalFileError, S3zError
from s3z_core.filesystem import pool
from s3z_core.transfer.hashing import PartHasher
from s3z_core.transfer.landing import Landing

_IOV_MAX = 512
T = TypeVar("T")


class FileWriter:
    """Owns the destination descriptor and the threads that write to it: one, or ``threads``
    when ``span`` is given — a batch goes to thread ``offset // span % threads``, so each
    range (``span`` bytes, the download's range length) is written and hashed in order by
    one thread, while another hashes another range. MD5 runs at ~440 MB/s here: one thread
    hashing a 1 GiB download took 2.4 s, longer than the whole transfer took without it."""

    def __init__(
        self,
        fd: int,
        path: str,
        loop: asyncio.AbstractEventLoop,
        *,
        hasher: PartHasher | None = None,
        depth: int = WRITER_QUEUE_DEPTH,
        backlog: asyncio.Semaphore | None = None,
        on_written: Callable[[int, int], None] | None = None,
        threads: int = 1,
        span: int = 0,
    ) -> None:
        self._fd = fd
        self._on_written = on_written  # (offset, length) on the loop, once the bytes are written
        self._path = path
        self._loop = loop
        self._hasher = hasher
        self._slots = asyncio.Semaphore(depth)
        self._backlog = backlog  # shared across files; released with the file's own slot
        count = max(1, threads) if span > 0 else 1
        self._span = span if count > 1 else 0
        self._queues: list[queue.SimpleQueue[tuple[int, list[bytes]] | None]] = [
            queue.SimpleQueue() for _ in range(count)
        ]
        self._running = count
        self._done: asyncio.Future[None] = loop.create_future()
        self._error: S3zError | None = None
        self._closed = False
        # Bare threads: ``threading.Thread.start`` would block until the thread signals it
        # started, which cost ~0.16 s per 1,000 small files (profiled). ``close`` is the join.
        for work in self._queues:
            _thread.start_new_thread(self._run, (work,))

    async def submit(self, offset: int, chunks: list[bytes]) -> None:
        if self._error is not None:
            raise self._error
        # Once closed the thread is gone: a batch queued then would never give its backlog
        # place back, and the shared backlog would shrink for every later download.
        self._refuse_if_closed()
        await self._slots.acquire()
        if self._backlog is not None:
            try:
                await self._backlog.acquire()
            except BaseException:
                self._slots.release()
                raise
        if self._closed:  # closed while this batch waited for a place
            self._release()
            self._refuse_if_closed()
        index = offset // self._span % len(self._queues) if self._span else 0
        self._queues[index].put((offset, chunks))

    def _refuse_if_closed(self) -> None:
        if self._closed:
            raise LocalFileError(f"internal error: {self._path} written after its writer closed")

    async def close(self) -> None:
        """Flush everything queued, stop the thread; raise the first write error."""
        if not self._closed:
            self._closed = True
            for work in self._queues:
                work.put(None)
        await asyncio.shield(self._done)
        if self._error is not None:
            raise self._error

    @property
    def etag(self) -> str | None:
        return self._hasher.etag() if self._hasher is not None else None

    def _release(self) -> None:
        self._slots.release()
        if self._backlog is not None:
            self._backlog.release()

    def _written(self, offset: int, length: int) -> None:
        self._release()
        if self._on_written is not None:
            self._on_written(offset, length)

    def _finish(self, _: Any = None) -> None:
        self._running -= 1  # on the loop: no lock needed
        if not self._running and not self._done.done():
            self._done.set_result(None)

    def _run(self, work: queue.SimpleQueue[tuple[int, list[bytes]] | None]) -> None:
        try:
            while True:
                item = work.get()
                if item is None:
                    return
                offset, chunks = item
                if self._error is None:  # another thread's error stops this one's writes too
                    error = write_batch(self._fd, self._path, offset, chunks, self._hasher)
                    if error is not None:
                        self._error = self._error or error
                        self._call(self._release)
                        continue
                    if self._on_written is not None:
                        length = sum(len(c) for c in chunks)
                        self._call(functools.partial(self._written, offset, length))
                        continue
                self._call(self._release)
        finally:
            self._call(self._finish)

    def _call(self, fn: Any) -> None:
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            self._loop.call_soon_threadsafe(fn)


def write_chunks(fd: int, offset: int, chunks: Sequence[bytes]) -> None:
    """``pwritev`` the chunks at ``offset``, continuing every short write exactly."""
    pending: list[bytes | memoryview] = list(chunks)
    while pending:
        batch = pending[:_IOV_MAX]
        written = os.pwritev(fd, batch, offset)
        offset += written
        # Drop fully written buffers; keep the unwritten tail of a partial one.
        while batch and written >= len(batch[0]):
            written -= len(batch[0])
            batch.pop(0)
            pending.pop(0)
        if written:
            pending[0] = memoryview(pending[0])[written:]


def write_batch(
    fd: int, path: str, offset: int, chunks: Sequence[bytes], hasher: PartHasher | None
) -> S3zError | None:
    """Write (and hash) one batch on a writer thread; the error instead of raising it.

    A writer thread must never die of an exception: the loop would wait on it forever.
    """
    try:
        write_chunks(fd, offset, chunks)
        if hasher is not None:
            hasher.update(offset, chunks)
    except OSError as exc:
        return LocalFileError(f"cannot write {path}: {exc.strerror}")
    except S3zError as exc:
        return exc
    except Exception as exc:  # noqa: BLE001 - thread edge: never die silently
        return LocalFileError(f"internal error writing {path}: {type(exc).__name__}: {exc}")
    return None


class PooledWriter:
    """A single-GET download written by the file-system pool, one batch at a time.

    Batches of one file are written in order (the MD5 needs them in order): ``submit`` waits
    for the previous batch before handing over the next, so reading batch n+1 overlaps with
    writing batch n. The temp file is created by the first write (or at commit, for an empty
    object), in the pool too.
    """

    def __init__(
        self,
        landing: Landing,
        *,
        hasher: PartHasher | None = None,
        backlog: asyncio.Semaphore | None = None,
    ) -> None:
        self._landing = landing
        self._hasher = hasher
        self._backlog = backlog
        self._last: asyncio.Future[S3zError | None] | None = None
        self._error: S3zError | None = None
        self._closed = False
        self._tail: tuple[int, list[bytes]] | None = None

    @property
    def etag(self) -> str | None:
        return self._hasher.etag() if self._hasher is not None else None

    def _run(self, offset: int, chunks: list[bytes]) -> S3zError | None:
        try:
            fd = self._landing.open()
        except S3zError as exc:
            return exc
        return write_batch(fd, str(self._landing.dest), offset, chunks, self._hasher)

    async def _settle(self) -> None:
        last, self._last = self._last, None
        if last is not None:
            error = await asyncio.shield(last)
            self._error = self._error or error
        if self._error is not None:
            raise self._error

    async def submit(self, offset: int, chunks: list[bytes]) -> None:
        if self._closed:
            raise LocalFileError(f"internal error: {self._landing.dest} written after close")
        await self._settle()
        if self._backlog is not None:
            await self._backlog.acquire()
        self._last = pool().submit(self._run, offset, chunks)
        if self._backlog is not None:
            backlog = self._backlog
            self._last.add_done_callback(lambda _f: backlog.release())

    async def close(self) -> None:
        """Wait for the last batch; raise the first write error."""
        self._closed = True
        await self._settle()

    def hold(self, offset: int, chunks: list[bytes]) -> None:
        """Keep the body's last batch for :meth:`finish`, which writes it and lands the file
        in the same trip to the pool: a small download is then one hand-off to a thread,
        not two (each one costs the loop a GIL round trip, the biggest per-file cost left)."""
        if self._closed or self._tail is not None:
            raise LocalFileError(f"internal error: {self._landing.dest} written after close")
        self._tail = (offset, chunks)

    async def finish(self, land: Callable[[str | None], T]) -> T:
        """Write the held batch, then run ``land(etag of everything written)`` in the pool
        (verify, rename); raise the first write error or what ``land`` raised."""
        self._closed = True
        await self._settle()
        tail, self._tail = self._tail, None

        def run() -> T:
            if tail is not None:
                error = self._run(*tail)
                if error is not None:
                    raise error
            return land(self.etag)

        return await pool().submit(run)
