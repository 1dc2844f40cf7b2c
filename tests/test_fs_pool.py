"""The file-system pool's hand-off (s3z_core/filesystem.py): results, errors, cancellation
before a thread takes the call, calls nobody waits for, and draining at close."""

from __future__ import annotations

import asyncio
import threading

import pytest

from s3z_core.filesystem import FsPool, fs_call


@pytest.mark.asyncio
async def test_a_call_runs_off_the_loop_and_returns_or_raises_in_it() -> None:
    loop_thread = threading.get_ident()
    ran_on = await fs_call(threading.get_ident)
    assert ran_on != loop_thread
    assert await fs_call(divmod, 7, 2) == (3, 1)
    assert await fs_call(int, "12", base=8) == 10  # keyword arguments too
    with pytest.raises(FileNotFoundError):
        await fs_call(open, "/nonexistent/s3z/file")


@pytest.mark.asyncio
async def test_a_call_cancelled_before_a_thread_takes_it_never_runs() -> None:
    pool = FsPool(1)
    try:
        gate = threading.Event()
        ran: list[str] = []
        blocker = pool.submit(gate.wait, 10)  # the one thread is busy until the gate opens
        waiting = pool.submit(ran.append, "cancelled call")
        waiting.cancel()
        after = pool.submit(ran.append, "next call")
        gate.set()
        assert await blocker is True
        await after
        assert ran == ["next call"]
        with pytest.raises(asyncio.CancelledError):
            await waiting
    finally:
        pool.close()


@pytest.mark.asyncio
async def test_an_awaiting_task_cancelled_mid_call_leaves_the_call_to_finish() -> None:
    pool = FsPool(1)
    try:
        started, gate = threading.Event(), threading.Event()
        done: list[bool] = []

        def slow() -> None:
            started.set()
            gate.wait(10)
            done.append(True)

        task = asyncio.ensure_future(pool.submit(slow))
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        gate.set()
        await pool.submit(lambda: None)  # the same thread: after slow has returned
        assert done == [True]  # it ran to its end; its outcome was simply not wanted
    finally:
        pool.close()


def test_posted_calls_run_and_close_finishes_what_was_handed_over() -> None:
    pool = FsPool(2)
    seen: list[int] = []
    lock = threading.Lock()

    def record(n: int) -> None:
        with lock:
            seen.append(n)

    def fails() -> None:
        raise OSError("nobody waits for this one")

    pool.post(fails)  # an error of a posted call stops nothing
    for n in range(50):
        pool.post(record, n)
    pool.close()
    assert sorted(seen) == list(range(50))
