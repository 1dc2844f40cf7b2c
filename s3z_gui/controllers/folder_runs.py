"""Folder transfers as resumable engine batches (issue 14): each folder runs as its own
batch under a journal batch record, so a folder kept for later comes back whole.

The record is opened before the batch starts (on the journal's own thread) and its id goes
to the engine as ``resume_id``; the group row keeps the folder's command while the batch has
not run to its end (the engine closes the record then). A saved folder resumed re-runs the
same engine call with the same id: the files the record lists as done are not sent again,
in-flight ones continue from the job journal, and the files never reached are transferred.
Its Cancel discards the record and what the journal kept for its jobs.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from s3z_core.config import journal_endpoint
from s3z_core.engine import BatchHandle, Engine
from s3z_core.journal_cleanup import discard_job
from s3z_core.models import BatchResult
from s3z_gui.controllers.conflicts import (
    Decider,
    conflict_aware_download,
    conflict_aware_upload,
    existing_keys,
)
from s3z_gui.models.conflicts import ConflictPolicy
from s3z_gui.models.folder_command import FolderCommand, file_identity
from s3z_gui.models.transfer_groups import TransferGroup
from s3z_gui.models.transfer_store import Status

if TYPE_CHECKING:
    from s3z_gui.bridge import EngineBridge
    from s3z_gui.controllers.transfers import TransferController


async def open_record(engine: Engine, command: FolderCommand) -> FolderCommand:
    """The command with its journal batch record (none without a journal)."""
    journal = engine.journal
    if journal is None:
        return command
    endpoint = journal_endpoint(engine.client_config)
    record = await journal.open_batch(command.identity(endpoint), command.record())
    return dataclasses.replace(command, resume_id=record.id)


async def discard_record(engine: Engine, resume_id: int) -> None:
    """Forget a folder's batch record: its jobs' uploads aborted, temp files removed."""
    journal = engine.journal
    if journal is None:
        return
    for job in await journal.jobs():
        if job.batch_id == resume_id:
            await discard_job(engine, job)
    await journal.close_batch(resume_id)


class FolderRuns:
    def __init__(self, bridge: EngineBridge, transfers: TransferController) -> None:
        self._bridge = bridge
        self._transfers = transfers

    def decider(self, direction: str) -> Decider:
        t = self._transfers
        return Decider(t.conflict_policy, t.ask_conflict, keep_both=direction == "upload")

    async def run(
        self, command: FolderCommand, decider: Decider, group: TransferGroup | None = None
    ) -> BatchResult:
        """Run (or, ``group`` given: resume) one folder as its own batch."""
        store = self._bridge.queue.store
        engine = self._bridge.engine
        if group is None:
            c = command
            group = store.open_group(
                c.direction, c.name, c.source, c.destination, c.bucket, c.local
            )
        else:  # a saved folder: its unfinished files' rows wait for the engine's transfers
            group.open, group.restored = True, False
            if group not in store.groups:
                store.groups.append(group)
            group.waiting = {
                file_identity(row.spec): row
                for row in group.children
                if not row.status.finished and row.spec is not None
            }
            for row in group.waiting.values():  # queued with the folder: no Resume runs it alone
                store.set_status(row.transfer_id, Status.QUEUED)
        verb = "Uploaded" if command.direction == "upload" else "Downloaded"
        try:
            if command.resume_id is None:
                command = await open_record(engine, command)
            group.command = command
            batch = await self._batch(engine, command, decider)
            result = await self._transfers.finish_batch(batch, verb)
            group.command = None  # it ran to its end: the engine closed its record
            for row in group.waiting.values():  # not planned again (the file is gone)
                store.set_status(row.transfer_id, Status.CANCELLED)
                row.restored = False
            return result
        finally:
            group.waiting = {}
            store.close_group(group)

    async def _batch(self, engine: Engine, c: FolderCommand, decider: Decider) -> BatchHandle:
        overwrite = self._transfers.conflict_policy is ConflictPolicy.OVERWRITE
        local = Path(c.local)
        if c.direction == "upload":
            if overwrite:
                return engine.upload_paths(
                    [local], c.bucket, c.prefix, options=c.options, resume_id=c.resume_id
                )
            existing = await existing_keys(engine, c.bucket, c.prefix, [local])
            plan = conflict_aware_upload(
                engine, [local], c.bucket, c.prefix, existing, decider, c.options
            )
            return engine.run_batch(plan, where="local walk", resume_id=c.resume_id)
        listing = engine.iter_objects(c.bucket, c.prefix, ordered=False)
        if overwrite:
            return engine.download_keys(
                c.bucket, listing, local, c.strip_prefix, resume_id=c.resume_id
            )
        return conflict_aware_download(
            engine, c.bucket, listing, local, c.strip_prefix, decider, c.resume_id
        )

    def saved_groups(self, ids: set[int]) -> list[TransferGroup]:
        """The earlier run's folders among these rows (or the folders' own rows)."""
        found: list[TransferGroup] = []
        for group in self._bridge.queue.store.groups:
            if not group.restored or group.command is None:
                continue
            if -group.group_id in ids or any(r.transfer_id in ids for r in group.children):
                found.append(group)
        return found

    def resume(self, groups: list[TransferGroup]) -> int:
        """Re-run saved folders on their connection, each through its engine call."""
        here = self._bridge.target.label if self._bridge.target is not None else ""
        started = 0
        for group in groups:
            command = group.command
            if command is None:
                continue
            if command.connection != here:
                where = command.connection or "its connection"
                self._bridge.notice.emit(f"Connect to {where} to resume {command.name}")
                continue
            group.restored = False  # a second "Resume all" must not run it twice
            decider = self.decider(command.direction)
            self._bridge.commands.spawn(self.run(command, decider, group), "Resume")
            started += 1
        return started

    async def discard(self, groups: list[TransferGroup]) -> None:
        """Cancelled saved folders: the record and its jobs go, the rows say cancelled."""
        engine = self._bridge.engine
        store = self._bridge.queue.store
        for group in groups:
            command = group.command
            if command is None:
                continue
            if command.resume_id is not None:
                await discard_record(engine, command.resume_id)
            group.command, group.restored = None, False
            for row in group.children:
                if not row.status.finished:
                    row.restored = False
                    store.set_status(row.transfer_id, Status.CANCELLED)


__all__ = ["FolderRuns", "discard_record", "open_record"]
