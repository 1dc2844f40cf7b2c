"""Background prefix copies: each one an ``Engine.copy_prefix`` batch whose status is
folded from the engine's events, polled at ``GET /copies/{id}``.

The engine has one event sink; this tracker is it. Events name transfers, not batches, so
a transfer's events are folded into a small record of its own, and the record joins its
copy once the batch lists its id (``BatchHandle.transfer_ids``, read when a status is
polled and when the batch ends). A finished transfer's record is folded into its copy's
counters and dropped, so what stays in memory is the transfers still running.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Literal

from examples.fastapi_service.errors import error_body
from examples.fastapi_service.models import CopyFailure, CopyRequest, CopyStatus
from s3z_core.engine import BatchHandle, Engine
from s3z_core.errors import S3zError
from s3z_core.events import (
    BytesTransferred,
    TransferCancelled,
    TransferCompleted,
    TransferEvent,
    TransferFailed,
    TransferQueued,
)

MAX_FAILURES_SHOWN = 100
MAX_COPIES_KEPT = 1000

Outcome = Literal["completed", "failed", "cancelled"]


@dataclass(slots=True)
class _Transfer:
    source: str
    done: int = 0
    outcome: Outcome | None = None
    error: S3zError | None = None


@dataclass(slots=True)
class _Copy:
    id: str
    source: str
    destination: str
    handle: BatchHandle
    claimed: int = 0  # how many of handle.transfer_ids have joined `running` (or settled)
    running: dict[int, _Transfer] = field(default_factory=dict)
    files_done: int = 0
    files_failed: int = 0
    files_cancelled: int = 0
    bytes_done: int = 0
    failures: list[CopyFailure] = field(default_factory=list)
    state: Literal["running", "completed", "failed", "cancelled"] = "running"
    error: S3zError | None = None


class CopyTracker:
    def __init__(self) -> None:
        self._transfers: dict[int, _Transfer] = {}
        self._owner: dict[int, _Copy] = {}
        self._copies: dict[str, _Copy] = {}
        self._watchers: set[asyncio.Task[None]] = set()

    # -- the engine's event sink (called on the loop thread) ------------------------------
    def __call__(self, event: TransferEvent) -> None:
        if isinstance(event, TransferQueued):
            if event.direction == "copy":
                self._transfers[event.transfer_id] = _Transfer(event.source)
            return
        tid = getattr(event, "transfer_id", None)
        record = self._transfers.get(tid) if tid is not None else None
        if record is None or tid is None:
            return
        if isinstance(event, BytesTransferred):
            record.done += event.delta
            return
        if isinstance(event, TransferCompleted):
            record.outcome, record.done = "completed", event.size
        elif isinstance(event, TransferFailed):
            record.outcome, record.error = "failed", event.error
        elif isinstance(event, TransferCancelled):
            record.outcome = "cancelled"
        else:
            return
        owner = self._owner.get(tid)
        if owner is not None:
            self._settle(owner, tid)

    # -- copies ---------------------------------------------------------------------------
    def start(self, engine: Engine, request: CopyRequest) -> CopyStatus:
        handle = engine.copy_prefix(
            request.source_bucket,
            request.source_prefix,
            request.destination_bucket,
            request.destination_prefix,
        )
        copy = _Copy(
            id=uuid.uuid4().hex,
            source=f"s3://{request.source_bucket}/{request.source_prefix}",
            destination=f"s3://{request.destination_bucket}/{request.destination_prefix}",
            handle=handle,
        )
        self._forget_old()
        self._copies[copy.id] = copy
        watcher = asyncio.create_task(self._watch(copy))
        self._watchers.add(watcher)
        watcher.add_done_callback(self._watchers.discard)
        return self._status(copy)

    def status(self, copy_id: str) -> CopyStatus | None:
        copy = self._copies.get(copy_id)
        return None if copy is None else self._status(copy)

    def cancel(self, copy_id: str) -> CopyStatus | None:
        copy = self._copies.get(copy_id)
        if copy is None:
            return None
        copy.handle.cancel()
        return self._status(copy)

    async def close(self) -> None:
        for watcher in list(self._watchers):
            watcher.cancel()
        await asyncio.gather(*self._watchers, return_exceptions=True)

    # -- folding --------------------------------------------------------------------------
    async def _watch(self, copy: _Copy) -> None:
        try:
            result = await copy.handle.result()
        except asyncio.CancelledError:
            copy.state = "cancelled"
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # the app is shutting down, not just this copy
        except S3zError as exc:  # the listing failed: no such bucket, access denied, …
            copy.state, copy.error = "failed", exc
        else:
            copy.state = "failed" if result.failed else "completed"
        finally:
            self._claim(copy)
            # Jobs still queued when a batch is cancelled never run: no event will come.
            for tid in list(copy.running):
                self._drop(copy, tid)
                copy.files_cancelled += 1

    def _claim(self, copy: _Copy) -> None:
        ids = copy.handle.transfer_ids
        for tid in ids[copy.claimed :]:
            record = self._transfers.get(tid)
            if record is None:
                continue
            self._owner[tid] = copy
            copy.running[tid] = record
            if record.outcome is not None:
                self._settle(copy, tid)
        copy.claimed = len(ids)

    def _settle(self, copy: _Copy, tid: int) -> None:
        record = self._drop(copy, tid)
        if record.outcome == "completed":
            copy.files_done += 1
            copy.bytes_done += record.done
        elif record.outcome == "failed":
            copy.files_failed += 1
            if record.error is not None and len(copy.failures) < MAX_FAILURES_SHOWN:
                copy.failures.append(
                    CopyFailure(source=record.source, error=error_body(record.error))
                )
        else:
            copy.files_cancelled += 1

    def _drop(self, copy: _Copy, tid: int) -> _Transfer:
        self._owner.pop(tid, None)
        self._transfers.pop(tid, None)
        return copy.running.pop(tid)

    def _status(self, copy: _Copy) -> CopyStatus:
        if copy.state == "running":
            self._claim(copy)
        return CopyStatus(
            id=copy.id,
            state=copy.state,
            source=copy.source,
            destination=copy.destination,
            files_queued=copy.claimed,
            files_done=copy.files_done,
            files_failed=copy.files_failed,
            files_cancelled=copy.files_cancelled,
            bytes_done=copy.bytes_done + sum(r.done for r in copy.running.values()),
            failures=list(copy.failures),
            error=None if copy.error is None else error_body(copy.error),
        )

    def _forget_old(self) -> None:
        """Finished copies stay pollable, up to a bound: the oldest finished ones go first."""
        finished = [c.id for c in self._copies.values() if c.state != "running"]
        for copy_id in finished[: max(0, len(self._copies) - MAX_COPIES_KEPT + 1)]:
            del self._copies[copy_id]
