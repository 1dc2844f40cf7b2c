"""Batches: a producer streams planned jobs into a bounded queue drained by a fixed worker pool.

Failure isolation by construction: ``run_tracked`` turns *anything* one file's job raises —
an S3 error, a local ``OSError``, even a bug — into that file's typed error and exactly one
terminal event, so the batch goes on; a plan that breaks (a listing that fails half-way)
is recorded as a failure of its own while the files already queued still finish. Every
failure is reported at the end, none skipped. The queue bound keeps memory flat however
long the listing or directory walk is.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from s3z_core.config import require_positive
from s3z_core.errors import (
    LocalFileError,
    S3zError,
    TransferCancelledError,
    UnexpectedError,
    first_error,
)
from s3z_core.events import PathSkipped, TransferCancelled, TransferCompleted, TransferFailed
from s3z_core.models import BatchResult, TransferFailure, TransferResult
from s3z_core.transfer.control import PauseGate, TransferContext, TransferControl
from s3z_core.transfer.jobs import Job, build_job
from s3z_core.transfer.paths import DestinationGuard
from s3z_core.transfer.plans import PlanItem, Skipped
from s3z_core.transfer.ranking import UNRANKED, RankedQueue
from s3z_core.transfer.resume import batch_item, discard_journalled

log = logging.getLogger("s3z.transfer")


def file_error(exc: BaseException, label: str) -> S3zError:
    """What a failure of one file is, as the typed error its row and result carry."""
    exc = first_error(exc)
    if isinstance(exc, S3zError):
        return exc
    if isinstance(exc, OSError):
        return LocalFileError(f"{label}: {exc.strerror or exc}")
    log.error("unexpected error in %s", label, exc_info=exc)
    return UnexpectedError(f"{label}: unexpected {type(exc).__name__}: {exc} (a bug in s3z)")


async def run_tracked(
    ctx: TransferContext, control: TransferControl, run: Callable[[], Awaitable[TransferResult]]
) -> TransferResult:
    """Run one transfer and emit exactly one terminal event for it; whatever goes wrong
    comes out as an ``S3zError`` (or the cancellation itself)."""
    tid = control.transfer_id
    try:
        result = await run()
    except asyncio.CancelledError:
        control.finished = True
        ctx.emit(TransferCancelled(tid))
        raise
    except Exception as exc:
        error = file_error(exc, control_label(control))
        control.finished = True
        ctx.emit(TransferFailed(tid, error))
        if error is exc:
            raise
        raise error from exc
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


class Batch:
    def __init__(
        self,
        ctx: TransferContext,
        workers: int,
        keep_results: bool = True,
        guard: DestinationGuard | None = None,
        resume_id: int | None = None,
    ) -> None:
        require_positive("workers", workers)
        self.ctx = ctx
        # The journal's record of this batch (``Journal.open_batch``): items it lists as
        # done are not sent again, items that arrive are added, and a batch that ends
        # at all (not interrupted) is forgotten.
        self.resume_id = resume_id if ctx.journal is not None else None
        self.keep_results = keep_results
        self.workers = workers
        self.guard = guard
        self.gate = PauseGate()
        self.result = BatchResult()
        self.transfer_ids: list[int] = []
        self.started = time.monotonic()

    def _fail(self, job: Job, error: S3zError) -> None:
        self.result.failed.append(
            TransferFailure(job.control.transfer_id, job.source, job.destination, error, job.spec)
        )

    def _plan_failed(self, exc: Exception, where: str) -> None:
        error = file_error(exc, where)
        self.result.failed.append(TransferFailure(0, where, "", error))

    async def run(self, plan: AsyncIterator[PlanItem], where: str = "") -> BatchResult:
        """Run every planned item; ``where`` names the plan's source in a failure of its own."""
        ranks = self.ctx.ranks

        def rank(job: Job | None) -> float:  # the end markers go last, after every job
            if job is None:
                return float("inf")
            return ranks.get(job.control.transfer_id, UNRANKED)

        queue: RankedQueue[Job | None] = RankedQueue(self.workers * 2, rank, lambda: bool(ranks))
        journal, batch_id = self.ctx.journal, self.resume_id
        done: dict[str, str] = {}
        if journal is not None and batch_id is not None:
            done = await journal.done_items(batch_id)

        async def produce() -> None:
            try:
                async for item in plan:
                    if isinstance(item, Skipped):
                        self.result.skipped.append((item.path, item.reason))
                        self.ctx.emit(PathSkipped(item.path, item.reason))
                        continue
                    if done and item.error is None:
                        ident = batch_item(item.spec)
                        if ident is not None and done.get(ident[0]) == ident[1]:
                            self.result.resumed += 1
                            continue
                    job = build_job(
                        self.ctx,
                        item.spec,
                        gate=self.gate,
                        guard=self.guard,
                        error=item.error,
                        transfer_id=item.transfer_id,
                    )
                    job.control.batch_id = batch_id
                    if self.keep_results:
                        self.transfer_ids.append(job.control.transfer_id)
                    if job.error is not None:
                        job.control.finished = True
                        self.ctx.emit(TransferFailed(job.control.transfer_id, job.error))
                        self.ctx.forget(job.control.transfer_id)
                        self._fail(job, job.error)
                        continue
                    await queue.put(job)
            except Exception as exc:  # noqa: BLE001 - a broken plan fails itself, not the files queued
                self._plan_failed(exc, where or "planning")
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
                    self._fail(job, TransferCancelledError("cancelled"))
                    continue
                task = asyncio.create_task(run_tracked(self.ctx, job.control, job.run))
                track_task(self.ctx, job.control, task)
                try:
                    self.result.add(await task, self.keep_results)
                    ident = batch_item(job.spec) if batch_id is not None else None
                    if journal is not None and batch_id is not None and ident is not None:
                        journal.mark_done(batch_id, *ident)
                except asyncio.CancelledError:
                    current = asyncio.current_task()
                    if current is not None and current.cancelling():
                        raise
                    self._fail(job, TransferCancelledError("cancelled"))
                except S3zError as exc:
                    self._fail(job, exc)

        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(produce())
                for _ in range(self.workers):
                    group.create_task(consume())
        except BaseExceptionGroup as group_error:
            raise first_error(group_error) from None
        if journal is not None and batch_id is not None:
            # It ran to its end (failures included: they are reported, and running the
            # command again retries everything, as before). Only an interrupted batch
            # stays, for resume. What an earlier run of it left for a file this run did
            # not send (deleted or excluded since) is cleaned up now, never just forgotten.
            for job in await journal.close_batch(batch_id):
                try:
                    await discard_journalled(self.ctx.ops, journal, job)
                except S3zError as exc:
                    log.warning(
                        "upload %s of s3://%s/%s kept in the journal (abort failed: %s)",
                        job.upload_id, job.bucket, job.key, exc,
                    )  # fmt: skip
        return self.result
