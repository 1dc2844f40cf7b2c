"""Handles to running work: one transfer, or a batch. Await them, cancel, pause, resume."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Generator
from typing import TYPE_CHECKING, Any, overload

from s3z_core.errors import S3zError
from s3z_core.models import BatchResult, TransferResult
from s3z_core.specs import SpecEnds, TransferSpec

if TYPE_CHECKING:
    from s3z_core.transfer.batch import Batch
    from s3z_core.transfer.control import TransferContext, TransferControl


class TransferHandle(SpecEnds):
    """One running transfer. ``await handle`` or ``await handle.result()``."""

    def __init__(
        self,
        ctx: TransferContext,
        control: TransferControl,
        task: asyncio.Task[TransferResult],
        spec: TransferSpec,
    ) -> None:
        self._ctx = ctx
        self._control = control
        self._task = task
        self.spec = spec
        self.transfer_id = control.transfer_id

    async def result(self) -> TransferResult:
        """The result; raises the typed error, or CancelledError if it was cancelled."""
        return await asyncio.shield(self._task)

    def __await__(self) -> Generator[Any, None, TransferResult]:
        return self.result().__await__()

    def cancel(self) -> None:
        self._control.gate.resume()
        self._task.cancel()

    def pause(self) -> None:
        self._ctx.pause(self.transfer_id)

    def resume(self) -> None:
        self._ctx.resume(self.transfer_id)

    def done(self) -> bool:
        return self._task.done()

    @property
    def state(self) -> str:
        if not self._task.done():
            return "paused" if self._control.gate.paused else "running"
        if self._task.cancelled():
            return "cancelled"
        return "failed" if self._task.exception() is not None else "completed"


class BatchHandle:
    """Many transfers as one job; per-file failures are in the result, never raised."""

    def __init__(self, batch: Batch, task: asyncio.Task[BatchResult]) -> None:
        self._batch = batch
        self._task = task

    @property
    def transfer_ids(self) -> list[int]:
        return list(self._batch.transfer_ids)

    async def result(self) -> BatchResult:
        return await asyncio.shield(self._task)

    def __await__(self) -> Generator[Any, None, BatchResult]:
        return self.result().__await__()

    def cancel(self) -> None:
        self._batch.gate.resume()
        self._task.cancel()

    def pause(self) -> None:
        self._batch.gate.pause()

    def resume(self) -> None:
        self._batch.gate.resume()

    def done(self) -> bool:
        return self._task.done()


@overload
async def finish(handle: TransferHandle) -> TransferResult: ...


@overload
async def finish(handle: BatchHandle) -> BatchResult: ...


async def finish(handle: TransferHandle | BatchHandle) -> TransferResult | BatchResult:
    """Await a handle; if *we* are cancelled (Ctrl-C), cancel it and wait for its cleanup
    (aborted uploads, removed temp files) before passing the cancellation on."""
    try:
        return await handle.result()
    except asyncio.CancelledError:
        handle.cancel()
        with contextlib.suppress(asyncio.CancelledError, S3zError):
            await handle.result()  # its own outcome is moot: we are cancelled
        raise
