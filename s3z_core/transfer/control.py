"""What every running transfer shares: the S3 operations, the global request cap, the
event sink, and per-transfer pause gates.

The global semaphore caps in-flight part/range requests across all files, so 32 files
× 8 streams never means 256 sockets and 256 buffers at once.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import field
from typing import TYPE_CHECKING, Any

from s3z_core.config import WRITE_BACKLOG_BATCHES, TransferConfig
from s3z_core.events import EventSink, TransferPaused, TransferResumed, Verification
from s3z_core.models import TransferResult
from s3z_core.operations import S3Operations
from s3z_core.records import record
from s3z_core.specs import TransferSpec
from s3z_core.transfer.budget import ByteBudget

if TYPE_CHECKING:
    from s3z_core.journal import Journal


class PauseGate:
    """Pausing stops scheduling new parts; parts already in flight finish."""

    def __init__(self) -> None:
        self._open = asyncio.Event()
        self._open.set()

    @property
    def paused(self) -> bool:
        return not self._open.is_set()

    def pause(self) -> None:
        self._open.clear()

    def resume(self) -> None:
        self._open.set()

    async def wait(self) -> None:
        if not self._open.is_set():
            await self._open.wait()


@record(frozen=False)
class TransferControl:
    transfer_id: int
    gate: PauseGate = field(default_factory=PauseGate)
    task: asyncio.Task[Any] | None = None
    parent_gate: PauseGate | None = None
    cancelled: bool = False  # cancelled while still queued: skip it
    finished: bool = False  # its one terminal event has been emitted
    label: str = ""  # what users call it (source path or URL), for error messages
    batch_id: int | None = None  # the journal's batch this transfer belongs to

    async def wait_runnable(self) -> None:
        if self.parent_gate is not None:
            await self.parent_gate.wait()
        await self.gate.wait()


def size_only_result(
    control: TransferControl, spec: TransferSpec, size: int, etag: str, parts: int, started: float
) -> TransferResult:
    """The result of a transfer no byte of which came through here to hash (a server-side
    copy, a folder marker): only the size vouches for it. ``started``: monotonic clock."""
    elapsed = time.monotonic() - started
    return TransferResult(
        control.transfer_id,
        spec.source,
        spec.destination,
        size,
        etag,
        Verification.SIZE_ONLY,
        parts,
        elapsed,
    )


# Transfer ids are unique for the life of the process, across engines: a GUI that rebuilds
# its engine (new settings, another connection) must never see a new transfer take an old
# row's id. An app whose ids must outlive the process (a persisted queue) passes its own
# source (``TransferIds``: any callable returning the next id).
_TRANSFER_IDS = itertools.count(1)
TransferIds = Callable[[], int]


def process_transfer_ids() -> int:
    """The default id source: one counter for every engine of this process."""
    return next(_TRANSFER_IDS)


class TransferContext:
    def __init__(
        self,
        ops: S3Operations,
        config: TransferConfig,
        sink_ref: Callable[[], EventSink],
        source_ops: S3Operations | None = None,
        ids: TransferIds = process_transfer_ids,
        *,
        journal: Journal | None = None,
        endpoint: str = "",
    ) -> None:
        self.ops = ops
        self._ids = ids
        # Another endpoint or account to copy from: its copies are relayed (transfer/relay.py)
        # through one shared byte budget instead of server-side copies.
        self.source_ops = source_ops
        self.relay_budget = ByteBudget(config.relay_memory)
        self.config = config
        self._sink_ref = sink_ref
        # Resume: the journal records multipart uploads and ranged downloads as they go;
        # ``endpoint`` names the server in it. ``suspending``: the cancellations that follow
        # keep what is resumable (uploads, temp files) instead of cleaning up.
        self.journal = journal
        self.endpoint = endpoint
        self.suspending = False
        self.requests = asyncio.Semaphore(config.max_in_flight_requests)
        # Shared by every file's writer: bounds download memory when the disk is the slow end.
        self.write_backlog = asyncio.Semaphore(WRITE_BACKLOG_BATCHES)
        self.controls: dict[int, TransferControl] = {}
        # Which queued transfer of a batch starts next: the lowest rank first, unranked ones
        # after the ranked in arrival order (a GUI's row order and priorities).
        self.ranks: dict[int, float] = {}

    def emit(self, event: object) -> None:
        self._sink_ref()(event)  # type: ignore[arg-type]

    @property
    def sink(self) -> EventSink:
        return self._sink_ref()

    def new_control(
        self, parent_gate: PauseGate | None = None, transfer_id: int | None = None
    ) -> TransferControl:
        tid = self._ids() if transfer_id is None else transfer_id
        control = TransferControl(tid, parent_gate=parent_gate)
        self.controls[control.transfer_id] = control
        return control

    def pause(self, transfer_id: int) -> None:
        control = self.controls.get(transfer_id)
        if control is not None and not control.gate.paused:
            control.gate.pause()
            self.emit(TransferPaused(transfer_id))

    def resume(self, transfer_id: int) -> None:
        control = self.controls.get(transfer_id)
        if control is not None and control.gate.paused:
            control.gate.resume()
            self.emit(TransferResumed(transfer_id))

    def cancel(self, transfer_id: int) -> bool:
        control = self.controls.get(transfer_id)
        if control is None:
            return False
        if control.task is None:  # still queued: it will be skipped, reported as cancelled
            control.cancelled = True
            control.gate.resume()
            return True
        if control.task.done():
            return False
        control.gate.resume()  # a paused transfer must wake up to clean up
        control.task.cancel()
        return True

    @property
    def keeps_on_cancel(self) -> bool:
        """A cancellation now is a suspension to resume later, not a discard."""
        return self.journal is not None and self.suspending

    def forget(self, transfer_id: int) -> None:
        self.controls.pop(transfer_id, None)
        self.ranks.pop(transfer_id, None)
