"""Keeps the queue across restarts: loads the saved rows at launch, saves snapshots as rows
come, change status, move or go, and a last one at shutdown.

Saving is debounced (at most one snapshot every ``SAVE_EVERY_S``) and never waits on the GUI
thread: the snapshot is plain values handed to the archive's own thread. Rows that were
running when the user chose "keep for later" are saved paused, however their cancellation
ended, so they come back resumable; their bytes are in the engine's journal.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable

from s3z_gui.models.folder_command import FolderCommand
from s3z_gui.models.queue_archive import QueueArchive, SavedRow
from s3z_gui.models.transfer_groups import TransferGroup
from s3z_gui.models.transfer_ids import TransferIdSource
from s3z_gui.models.transfer_model import TransferQueueModel
from s3z_gui.models.transfer_store import Column, Status, TickChanges, TransferRow

log = logging.getLogger(__name__)

SAVE_EVERY_S = 2.0


def saved_row(row: TransferRow, suspended: bool) -> SavedRow:
    status = row.status
    if suspended and status == Status.CANCELLED:
        status = Status.PAUSED  # cancelled by the close: kept for later
    if not status.finished and row.spec is None:
        status = Status.CANCELLED  # nothing says how to run it again
    return SavedRow(
        row.transfer_id,
        row.priority,
        row.direction,
        row.source,
        row.destination,
        row.size,
        row.done_bytes,
        status,
        row.error,
        row.error_code,
        row.connection,
        row.spec,
    )


def restored_row(saved: SavedRow) -> TransferRow:
    return TransferRow(
        saved.transfer_id,
        saved.direction,
        saved.source,
        saved.destination,
        saved.size,
        done_bytes=saved.done_bytes,
        status=saved.status,
        error=saved.error,
        error_code=saved.error_code,
        spec=saved.spec,
        priority=saved.priority,
        connection=saved.connection,
        restored=not saved.status.finished,
    )


def saved_folder(group: TransferGroup, suspended: set[int]) -> FolderCommand | None:
    """The command that re-runs an unfinished folder (its batch did not run to its end)."""
    command = group.command
    if command is None:
        return None
    if group.status.finished and group.group_id not in suspended:
        return None  # cancelled for good (a "Cancel" close), or ended
    return dataclasses.replace(command, children=tuple(r.transfer_id for r in group.children))


def restored_group(command: FolderCommand) -> TransferGroup:
    return TransferGroup(
        0,
        command.direction,
        command.name,
        command.source,
        command.destination,
        command.bucket,
        command.local,
        open=False,
        command=command,
        restored=True,
    )


class QueueKeeper:
    def __init__(
        self,
        archive: QueueArchive,
        model: TransferQueueModel,
        ids: TransferIdSource,
        suspended: Callable[[], set[int]],
        suspended_groups: Callable[[], set[int]] = set,
    ) -> None:
        self.archive = archive
        self._model = model
        self._ids = ids
        self._suspended = suspended
        self._suspended_groups = suspended_groups
        self._pending: asyncio.TimerHandle | None = None
        self._closed = False
        model.ticked.connect(self._ticked)
        model.orderChanged.connect(self.save_soon)
        model.rowsRemoved.connect(lambda *_: self.save_soon())

    async def restore(self) -> int:
        """Put the saved rows back (unfinished ones paused); how many are unfinished."""
        saved = await self.archive.load()
        self._ids.skip_to(saved.next_id)
        rows = [restored_row(r) for r in saved.rows]
        by_id = {r.transfer_id: r for r in rows}
        store = self._model.store
        for command in saved.folders:
            children = [by_id[i] for i in command.children if i in by_id]
            store.restore_group(restored_group(command), children)
        store.add_restored(rows)
        return sum(1 for r in rows if r.restored) + len(saved.folders)

    def _ticked(self, changes: TickChanges) -> None:
        if changes.new_row_count or any(Column.STATUS in c for c in changes.changed.values()):
            self.save_soon()

    def save_soon(self) -> None:
        if self._closed or self._pending is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop yet (a session built before it runs): saved at close
            return
        self._pending = loop.call_later(SAVE_EVERY_S, self._save_now)

    def _save_now(self) -> None:
        self._pending = None
        if not self._closed:
            self.archive.save(self.snapshot(), self._ids.next_id, self.folders())

    def snapshot(self) -> list[SavedRow]:
        suspended = self._suspended()
        return [saved_row(row, row.transfer_id in suspended) for row in self._model.ordered_rows()]

    def folders(self) -> list[FolderCommand]:
        suspended = self._suspended_groups()
        found = (saved_folder(g, suspended) for g in self._model.store.groups)
        return [f for f in found if f is not None]

    async def close(self) -> None:
        """The last snapshot (after the engine closed: statuses are final), then the file."""
        if self._closed:
            return
        self._closed = True
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        try:
            await self.archive.save_now(self.snapshot(), self._ids.next_id, self.folders())
        except Exception as exc:  # noqa: BLE001 - a failed save must not stop the shutdown
            log.warning("the transfer queue was not saved: %s", exc)
        await asyncio.to_thread(self.archive.close)
