"""Batches: a producer streams jobs into a bounded queue drained by a fixed worker pool.

Per-file failure isolation: one file failing (or being cancelled by the user) is
recorded and the batch goes on; every failure is reported at the end, none skipped.
The queue bound keeps memory flat however long the listing or directory walk is.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from s3z_core.config import require_positive
from s3z_core.errors import LocalFileError, S3zError, TransferCancelledError
from s3z_core.events import (
    Direction,
    TransferCancelled,
    TransferCompleted,
    TransferFailed,
    TransferQueued,
)
from s3z_core.models import BatchResult, TransferFailure, TransferResult
from s3z_core.transfer.control import PauseGate, TransferContext, TransferControl


@dataclass(slots=True)
class Job:
    control: TransferControl
    source: str
    destination: str
    run: Callable[[], Awaitable[TransferResult]] | None
    error: S3zError | None = None  # a job that failed while being planned (unsafe key, …)


def first_error(exc: BaseException) -> BaseException:
    """TaskGroups wrap failures in groups; callers want the first real error."""
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc


async def run_tracked(
    ctx: TransferContext, control: TransferControl, run: Callable[[], Awaitable[TransferResult]]
) -> TransferResult:
    """Run one transfer and emit exactly one terminal event for it.

    This is the boundary where a local ``OSError`` the transfer code did not name becomes
    a ``LocalFileError`` of this file, so one bad file never takes its batch down.
    """
    tid = control.transfer_id
    try:
        try:
            result = await run()
        except BaseExceptionGroup as group:
            raise first_error(group) from None
        except OSError as exc:
            raise LocalFileError(f"{control_label(control)}: {exc.strerror or exc}") from None
    except asyncio.CancelledError:
        control.finished = True
        ctx.emit(TransferCancelled(tid))
        raise
    except S3zError as exc:
        control.finished = True
        ctx.emit(TransferFailed(tid, exc))
        raise
    finally:
        ctx.forget(tid)
    control.finished = True
    ctx.emit(
        TransferCompleted(tid, result.size, result.verification, result.etag, result.elapsed_s)
    )
    return result


def control_label(control: TransferControl) -> str:
    return control.label or f"transfer {control.transfer_id}"


def track_task(ctx: TransferContext, control: TransferControl, task: asyncio.Task[Any]) -> None:
    """A task cancelled before its first step never runs ``run_tracked``: still give its
    transfer a terminal event and forget its control, so no UI row is left hanging."""
    control.task = task

    def done(t: asyncio.Task[Any]) -> None:
        if t.cancelled() and not control.finished:
            control.finished = True
            ctx.emit(TransferCancelled(control.transfer_id))
            ctx.forget(control.transfer_id)

    task.add_done_callback(done)


def queue_job(
    ctx: TransferContext,
    direction: Direction,
    source: str,
    destination: str,
    size: int | None,
    gate: PauseGate | None = None,
) -> TransferControl:
    control = ctx.new_control(gate)
    control.label = source
    ctx.emit(TransferQueued(control.transfer_id, direction, source, destination, size))
    return control


class Batch:
    def __init__(self, ctx: TransferContext, workers: int, keep_results: bool = True) -> None:
        require_positive("workers", workers)
        self.ctx = ctx
        self.keep_results = keep_results
        self.workers = workers
        self.gate = PauseGate()
        self.result = BatchResult()
        self.transfer_ids: list[int] = []
        self.started = time.monotonic()

    def _fail(self, job: Job, error: S3zError) -> None:
        self.result.failed.append(
            TransferFailure(job.control.transfer_id, job.source, job.destination, error)
        )

    async def run(self, jobs: AsyncIterator[Job]) -> BatchResult:
        queue: asyncio.Queue[Job | None] = asyncio.Queue(maxsize=self.workers * 2)

        async def produce() -> None:
            try:
                async for job in jobs:
                    if self.keep_results:
                        self.transfer_ids.append(job.control.transfer_id)
                    if job.error is not None:
                        self.ctx.emit(TransferFailed(job.control.transfer_id, job.error))
                        self.ctx.forget(job.control.transfer_id)
                        self._fail(job, job.error)
                        continue
                    await queue.put(job)
            finally:
                current = asyncio.current_task()
                if current is None or not current.cancelling():
                    # Cancelled, the consumers are gone too: a put on a full queue would
                    # wait forever (the batch would hang on Ctrl-C).
                    for _ in range(self.workers):
                        await queue.put(None)

        async def consume() -> None:
            while (job := await queue.get()) is not None:
                await self.gate.wait()
                if job.control.cancelled or job.run is None:
                    job.control.finished = True
                    self.ctx.emit(TransferCancelled(job.control.transfer_id))
                    self.ctx.forget(job.control.transfer_id)
                    self._fail(job, TransferCancelledError(f"{job.source}: cancelled"))
                    continue
                task = asyncio.create_task(run_tracked(self.ctx, job.control, job.run))
                track_task(self.ctx, job.control, task)
                try:
                    self.result.add(await task, self.keep_results)
                except asyncio.CancelledError:
                    current = asyncio.current_task()
                    if current is not None and current.cancelling():
                        raise
                    self._fail(job, TransferCancelledError(f"{job.source}: cancelled"))
                except S3zError as exc:
                    self._fail(job, exc)

        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(produce())
                for _ in range(self.workers):
                    group.create_task(consume())
        except BaseExceptionGroup as group_error:
            raise first_error(group_error) from None
        return self.result
