"""File-system work off the event loop: a small, bounded pool of worker threads.

Under qasync the event loop is the GUI thread, and even in the CLI a file create costs
~1 ms on a slow disk during which no socket is served (profiled: 1.0 s of a 1,000-file
download went to ``os.open`` on the loop). So every file-system call of the transfer path —
walks, creates, renames, stats, destination checks — runs here. The pool is bounded (it
never grows with the number of files) and shared by every engine in the process; its
threads are daemons so a forgotten engine cannot keep the process alive, and at exit they
finish what was handed to them first.

``iterate`` runs a blocking generator (the directory walk) in the pool and hands its items
to the loop in batches, one batch ahead: the walk never runs on the loop, and a long walk
is consumed as it goes, with memory bounded by two batches.

Four threads, not more: each thread's every syscall gives up the GIL and takes it back, and
with eight threads 1,000 small downloads cost the process ~45 % more CPU outside the loop
thread (8 interleaved runs, SeaweedFS on this 2-core machine: pool CPU median 1.66 s with
eight threads, 1.43 s with four, 1.17 s with two; wall 2.33, 2.16, 2.00 s). Two would be
faster still on a local disk; four keeps a file system with slow creates (a network share)
from queueing every file behind two calls.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import itertools
import queue
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, ParamSpec, TypeVar

T = TypeVar("T")
P = ParamSpec("P")

FS_THREADS = 4
WALK_BATCH = 256

_Work = tuple[
    asyncio.AbstractEventLoop | None,
    "asyncio.Future[Any] | None",
    Callable[..., Any],
    tuple[Any, ...],
]


class FsPool:
    """The pool's threads and their queue. A call is handed over as (loop, future, fn, args)
    and its outcome set on the loop's own future with one ``call_soon_threadsafe``: half the
    CPU of ``run_in_executor`` per call (47-60 against 91-93 us over 20,000 calls here),
    which wraps a ``concurrent.futures.Future`` (a lock, a condition, two callbacks) in an
    asyncio one. A call whose future was cancelled before a thread took it is not run, as
    an executor's pending work is not."""

    def __init__(self, threads: int) -> None:
        self._work: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._serve, name=f"s3z-fs_{i}", daemon=True)
            for i in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Run ``fn(*args)`` in a pool thread; await the future for its result (in the loop)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._work.put((loop, future, fn, args))
        return future

    def post(self, fn: Callable[..., object], *args: Any) -> None:
        """Run ``fn(*args)`` in a pool thread, nobody waiting (closing a descriptor); an
        error is its own business (the callers' calls never raise what matters)."""
        self._work.put((None, None, fn, args))

    def _serve(self) -> None:
        while (work := self._work.get()) is not None:
            _run(*work)
            del work  # nothing of a finished call is kept while waiting for the next

    def close(self) -> None:
        """Finish what was handed over, then stop the threads (at exit: queued clean-ups,
        a temp file's removal, still run, as an executor's shutdown would let them)."""
        for _ in self._threads:
            self._work.put(None)
        for thread in self._threads:
            thread.join()


def _run(
    loop: asyncio.AbstractEventLoop | None,
    future: asyncio.Future[Any] | None,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
) -> None:
    if loop is None or future is None:  # posted: nobody waits for it
        with contextlib.suppress(Exception):
            fn(*args)
        return
    if future.cancelled():
        return
    try:
        outcome, failed = fn(*args), False
    except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task
        outcome, failed = exc, True
    with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
        loop.call_soon_threadsafe(_settle, future, outcome, failed)


def _settle(future: asyncio.Future[Any], outcome: Any, failed: bool) -> None:
    if future.done():  # cancelled meanwhile
        return
    if failed:
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


_pools: dict[int, FsPool] = {}
_pool_lock = threading.Lock()


def pool(threads: int = FS_THREADS) -> FsPool:
    """The process's pool of ``threads`` threads (made on first use, closed at exit)."""
    made = _pools.get(threads)
    if made is None:
        with _pool_lock:
            made = _pools.get(threads)
            if made is None:
                made = _pools[threads] = FsPool(threads)
                atexit.register(made.close)
    return made


async def fs_call(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run one blocking file-system call in the pool and wait for it without blocking."""
    if kwargs:
        return await pool().submit(lambda: fn(*args, **kwargs))
    return await pool().submit(fn, *args)


async def cpu_call(fn: Callable[..., T], *args: Any) -> T:
    """Run CPU-bound work (a listing page's parse) off the loop, on one thread of its own:
    each thread running Python competes with the loop for the GIL, and four parsing pages
    at once held the loop's steps up for 20-30 ms (``ls -r`` of 100,000 keys)."""
    return await pool(1).submit(fn, *args)


def _take(items: Iterator[T], count: int) -> list[T]:
    return list(itertools.islice(items, count))


async def iterate(items: Iterator[T], batch: int = WALK_BATCH) -> AsyncIterator[T]:
    """The items of a blocking iterator, produced in the pool one batch ahead.

    The iterator is advanced by one pool thread at a time, never concurrently. If the consumer
    stops early, the iterator is closed once the batch in flight has finished.
    """
    executor = pool()
    pending = executor.submit(_take, items, batch)
    try:
        while True:
            chunk = await pending
            if not chunk:
                return
            pending = executor.submit(_take, items, batch)
            for item in chunk:
                yield item
    finally:
        close: Callable[[], object] = getattr(items, "close", lambda: None)

        def finish(done: asyncio.Future[list[T]]) -> None:
            if not done.cancelled():
                done.exception()  # retrieved: an abandoned batch's error is no news
            close()

        if pending.done():
            finish(pending)
        else:
            pending.add_done_callback(finish)
