"""Transfers: uploads and downloads as engine batches, and the queue's buttons on their rows.

Engine events go straight into the queue model's store (its own timer decides when Qt hears
about them). Every engine the app builds draws transfer ids from the bridge's one
``TransferIdSource``, so a row's id is the engine's id and a new connection's transfers never
take an old row. Each queued event carries the transfer's ``TransferSpec``; Retry is
``engine.restart(spec)`` under the row's own id (the row is reused). A download's spec keeps
its folder and stripped prefix, and the engine derives the path from the key again through
its destination guard, so a retried key can still never write outside the download folder.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

from s3z_core.engine import BatchHandle, Engine, TransferHandle
from s3z_core.errors import S3zError, TransferCancelledError, UnsafeKeyError
from s3z_core.events import TransferEvent
from s3z_core.models import BatchResult, ObjectInfo
from s3z_core.specs import TransferSpec, UploadOptions
from s3z_core.transfer.paths import DestinationGuard, safe_local_path
from s3z_core.transfer.plans import Listed
from s3z_gui.controllers.conflicts import (
    AskConflict,
    Decider,
    conflict_aware_download,
    conflict_aware_upload,
    existing_keys,
)
from s3z_gui.controllers.folder_runs import FolderRuns
from s3z_gui.controllers.saved_rows import discard_saved, resumable, resume_plan
from s3z_gui.models.conflicts import ConflictPolicy
from s3z_gui.models.folder_command import FolderCommand, with_options
from s3z_gui.models.listing import Entry
from s3z_gui.models.queue_order import planned, ranked
from s3z_gui.models.transfer_store import (
    Status,
    TickChanges,
    TransferRow,
    describe_error,
    unsafe_refusal,
)
from s3z_gui.offload import run_blocking

if TYPE_CHECKING:
    from s3z_gui.bridge import EngineBridge


def batch_summary(verb: str, result: BatchResult) -> tuple[str, bool]:
    """The status-bar line for a finished batch, and whether it reports a failure.

    Cancelled files are their own outcome, never "failed" (issue 15, bug 8); the failing path
    is named once (the error's own text already names it for local errors)."""
    cancelled = [f for f in result.failed if isinstance(f.error, TransferCancelledError)]
    failed = [f for f in result.failed if not isinstance(f.error, TransferCancelledError)]
    parts = [f"{verb} {result.files_done} file(s)"]
    if cancelled:
        parts.append(f"{len(cancelled)} cancelled")
    text = "; ".join(parts)
    if failed:
        first = failed[0]
        why = describe_error(first.error)
        where = "" if first.source and first.source in why else f"{first.source}: "
        text += f"; {len(failed)} failed — {where}{why}"
    if result.skipped:
        path, reason = result.skipped[0]
        text += f"; {len(result.skipped)} left out — {path}: {reason}"
    return text, bool(failed)


def summed(results: Sequence[BatchResult]) -> BatchResult:
    total = BatchResult()
    for result in results:
        total.completed += result.completed
        total.failed += result.failed
        total.files_done += result.files_done
        total.bytes_done += result.bytes_done
    return total


def _no_retry_reason(spec: TransferSpec | None) -> str:
    if spec is None:
        return "Retry is off: the engine did not say what this transfer was"
    if spec.direction == "download" and not spec.local_root:
        return "Retry is off: its download folder is unknown"
    return ""


class TransferController:
    def __init__(self, bridge: EngineBridge) -> None:
        self._bridge = bridge
        self.queue = bridge.queue
        self._handles: dict[int, TransferHandle] = {}
        self._batches: list[BatchHandle] = []
        # Existing keys on upload: the Settings default, and the window's question.
        self.conflict_policy = ConflictPolicy.ASK
        self.ask_conflict: AskConflict | None = None
        # What uploads set when not asked per upload (the Settings Content-Type).
        self.upload_options = UploadOptions()
        # "Keep for later": the rows unfinished when the user chose it; they are saved as
        # paused (the engine keeps their journal entries) however their cancel ends.
        self.suspended: set[int] = set()
        self.suspended_groups: set[int] = set()  # their folders' commands are saved too
        self.folders = FolderRuns(bridge, self)
        self.queue.orderChanged.connect(self.push_ranks)
        self.queue.ticked.connect(self._ticked)

    # events -------------------------------------------------------------------------

    def on_event(self, event: TransferEvent) -> None:
        self.queue.apply(event)

    def busy(self) -> bool:
        """Something runs (or waits to): rows of an earlier run wait for a Resume, not this."""
        return self.running() > 0

    def running(self) -> int:
        return sum(1 for r in self.queue.store.rows if not r.status.finished and not r.restored)

    def _ticked(self, changes: TickChanges) -> None:
        if changes.new_row_count:  # new rows are Normal, after the rows already ranked
            self.push_ranks()

    def suspend(self) -> None:
        store = self.queue.store
        self.suspended = {r.transfer_id for r in store.rows if not r.status.finished}
        self.suspended_groups = {g.group_id for g in store.groups if g.command is not None}

    def push_ranks(self) -> None:
        """Tell the engine which queued rows start first: priority, then row order."""
        if not self._bridge.connected:
            return
        ranks = {
            row.transfer_id: rank
            for rank, row in ranked(self.queue.ordered_rows())
            if row.status == Status.QUEUED
        }
        if ranks:
            self._bridge.engine.rank_transfers(ranks)

    def stop_all(self) -> None:
        """Cancel every batch and transfer (the engine aborts their multipart uploads)."""
        for batch in self._batches:
            batch.cancel()
        for handle in self._handles.values():
            if not handle.done():
                handle.cancel()

    # commands -----------------------------------------------------------------------

    def upload_paths(
        self,
        paths: Sequence[str | Path],
        bucket: str,
        prefix: str,
        options: UploadOptions | None = None,
    ) -> asyncio.Task[BatchResult | None]:
        """``options``: what "Upload with options…" asked; None: the Settings default."""
        chosen = self.upload_options if options is None else options

        async def run() -> BatchResult:
            engine = self._bridge.engine
            sources = [Path(p) for p in paths]
            folders = await run_blocking(lambda: [p for p in sources if p.is_dir()])
            files = [p for p in sources if p not in folders]
            here = self._bridge.target.label if self._bridge.target is not None else ""
            runs = [
                self.folders.run(
                    with_options(FolderCommand("upload", folder.name or str(folder), str(folder),
                                               f"s3://{bucket}/{prefix}{folder.name}/", bucket,
                                               prefix, str(folder), connection=here), chosen),
                    self.folders.decider("upload"),
                )
                for folder in folders
            ]  # fmt: skip
            if files:
                runs.append(self._upload_files(engine, files, bucket, prefix, chosen))
            return summed(await asyncio.gather(*runs))

        return self._bridge.commands.spawn(run(), "Upload")

    async def _upload_files(
        self, engine: Engine, files: list[Path], bucket: str, prefix: str, chosen: UploadOptions
    ) -> BatchResult:
        if self.conflict_policy is ConflictPolicy.OVERWRITE:
            batch = engine.upload_paths(files, bucket, prefix, options=chosen)
        else:  # ask (or skip, or keep both) where a key exists already
            existing = await existing_keys(engine, bucket, prefix, files)
            decider = Decider(self.conflict_policy, self.ask_conflict)
            plan = conflict_aware_upload(engine, files, bucket, prefix, existing, decider, chosen)
            batch = engine.run_batch(plan, where="local walk")
        return await self._finish_batch(batch, "Uploaded")

    def download_entries(
        self, bucket: str, entries: Sequence[Entry], dest_dir: str | Path, strip_prefix: str
    ) -> asyncio.Task[BatchResult | None]:
        """Files keep their names, folders their subtree, all relative to ``strip_prefix``.

        A folder whose own key would leave ``dest_dir`` (``a/../``) is refused here; the
        engine checks every file key the same way and fails those rows."""
        dest = Path(dest_dir)

        async def run() -> BatchResult:
            engine = self._bridge.engine  # not connected: nothing is planned, the guard says why
            # One set of answers for all of this command's batches ("for all" spans them).
            decider = Decider(self.conflict_policy, self.ask_conflict, keep_both=False)
            objects = [
                ObjectInfo(e.key, e.size or 0, e.etag, e.modified, e.storage_class)
                for e in entries
                if not e.is_folder
            ]
            runs = []
            if objects:
                batch = self._download(engine, bucket, objects, dest, strip_prefix, decider)
                runs.append(self._finish_batch(batch, "Downloaded"))
            refused: list[UnsafeKeyError] = []
            here = self._bridge.target.label if self._bridge.target is not None else ""
            for folder in (e for e in entries if e.is_folder):
                try:  # resolves the folder: the file system, so off the GUI thread
                    target = await run_blocking(safe_local_path, dest, folder.key, strip_prefix)
                except UnsafeKeyError as exc:
                    refused.append(exc)
                    continue
                command = FolderCommand("download", folder.name, f"s3://{bucket}/{folder.key}",
                                        str(target), bucket, folder.key, str(target),
                                        strip_prefix=folder.key, connection=here)  # fmt: skip
                runs.append(self.folders.run(command, decider))
            if refused:
                self._bridge.failed.emit(
                    f"Download: {len(refused)} folder(s) skipped — {describe_error(refused[0])}"
                )
            return summed(await asyncio.gather(*runs))

        return self._bridge.commands.spawn(run(), "Download")

    def download_specs(
        self, make_specs: Callable[[], Awaitable[list[TransferSpec]]], verb: str
    ) -> asyncio.Task[BatchResult | None]:
        """Run ready-made download specs (a version's names its version id) as batches, one
        per download folder; the engine's guard checks each path against its folder."""

        async def run() -> BatchResult:
            engine = self._bridge.engine
            groups: dict[tuple[str, str], list[TransferSpec]] = {}
            for spec in await make_specs():
                groups.setdefault((spec.local_root, spec.strip_prefix), []).append(spec)
            results = []
            for (root, strip), specs in groups.items():
                guard = DestinationGuard(Path(root), strip)
                results.append(await self._finish_batch(engine.run_batch(specs, guard=guard), verb))
            return summed(results)

        return self._bridge.commands.spawn(run(), "Download")

    def _download(
        self,
        engine: Engine,
        bucket: str,
        objects: Listed,
        dest: Path,
        strip_prefix: str,
        decider: Decider,
    ) -> BatchHandle:
        """``download_keys``, asking first where a local file exists (unless Overwrite)."""
        if self.conflict_policy is ConflictPolicy.OVERWRITE:
            return engine.download_keys(bucket, objects, dest, strip_prefix)
        return conflict_aware_download(engine, bucket, objects, dest, strip_prefix, decider)

    async def finish_batch(self, batch: BatchHandle, verb: str) -> BatchResult:
        """A batch started by another controller (the Sync dialog's) as one of ours: stopped
        with the others on quit, summed up in the status bar."""
        return await self._finish_batch(batch, verb)

    async def _finish_batch(self, batch: BatchHandle, verb: str) -> BatchResult:
        self._batches.append(batch)
        try:
            result = await batch.result()
        finally:
            self._batches.remove(batch)
        text, failed = batch_summary(verb, result)
        (self._bridge.failed if failed else self._bridge.notice).emit(text)
        return result

    # the queue's buttons ------------------------------------------------------------

    def cancel(self, ids: Sequence[int]) -> int:
        """Cancel these rows' transfers; the engine aborts their multipart uploads.
        Rows of an earlier engine are not in this one's controls: it answers False."""

        def run() -> int:
            engine = self._bridge.engine
            wanted = set(ids)
            folders = self.folders.saved_groups(wanted)
            if folders:
                self._bridge.commands.spawn(self.folders.discard(folders), "Cancel")
            in_folders = {r.transfer_id for g in folders for r in g.children}
            wanted -= in_folders
            saved = [r for r in self.queue.store.rows if r.transfer_id in wanted and r.restored]
            if saved:
                self._bridge.commands.spawn(discard_saved(self._bridge, saved), "Cancel")
            live = wanted - {r.transfer_id for r in saved}
            cancelled = sum(1 for i in live if engine.cancel_transfer(i))
            return cancelled + len(saved) + len(in_folders)

        return self._bridge.commands.guard_now(run, "Cancel", 0)

    def pause(self, ids: Sequence[int]) -> int:
        def run() -> int:
            engine = self._bridge.engine
            for transfer_id in ids:
                engine.pause_transfer(transfer_id)
            return len(ids)

        return self._bridge.commands.guard_now(run, "Pause", 0)

    def resume(self, ids: Sequence[int]) -> int:
        """Paused rows go on; a row of an earlier run starts again from its spec and the
        engine continues it from the journal (only what the server lacks is sent)."""

        def run() -> int:
            engine = self._bridge.engine
            wanted = set(ids)
            folders = self.folders.saved_groups(wanted)
            wanted -= {r.transfer_id for g in folders for r in g.children}
            rows = [r for r in self.queue.ordered_rows() if r.transfer_id in wanted]
            live = [r for r in rows if not r.restored]
            for row in live:
                engine.resume_transfer(row.transfer_id)
            alone = [r for r in rows if r.restored and (r.group is None or r.group.command is None)]
            saved = self._resume_saved(alone)
            return len(live) + saved + self.folders.resume(folders)

        return self._bridge.commands.guard_now(run, "Resume", 0)

    def resume_all(self) -> int:
        """Every paused row, this run's and the earlier runs' (the "Resume all" action)."""
        paused = [r.transfer_id for r in self.queue.store.rows if r.status == Status.PAUSED]
        paused += [-g.group_id for g in self.queue.store.groups if g.restored]
        return self.resume(paused) if paused else 0

    def _resume_saved(self, rows: Sequence[TransferRow]) -> int:
        """Rows of an earlier run, as one batch under their own ids, best-ranked first."""
        engine = self._bridge.engine
        here = self._bridge.target.label if self._bridge.target is not None else ""
        runnable, elsewhere = resumable(rows, here)
        if elsewhere:
            where = ", ".join(sorted(elsewhere))
            self._bridge.notice.emit(f"Connect to {where} to resume the transfers made there")
        if not runnable:
            return 0
        items = resume_plan(runnable, self.queue.ordered_rows())
        for row in runnable:  # queued at once: a second "Resume all" must not run them twice
            self.queue.store.set_status(row.transfer_id, Status.QUEUED)
        batch = engine.run_batch(planned(items), where="resumed transfers")
        self._bridge.commands.spawn(self._finish_batch(batch, "Resumed"), "Resume")
        return len(items)

    def retry(self, ids: Sequence[int]) -> int:
        """Run failed or cancelled rows again from their specs, each in its own row.

        Rows whose key would leave the download folder are refused (and say so); a
        download's local path is derived from its key again by the engine, never taken
        from the row."""
        return self._bridge.commands.guard_now(lambda: self._retry(ids), "Retry", 0)

    def _retry(self, ids: Sequence[int]) -> int:
        engine = self._bridge.engine  # not connected: the guard says so, nothing is refused
        started = 0
        refused: list[str] = []
        for transfer_id in ids:
            row = self.queue.store.row_for(transfer_id)
            if row is None or row.status not in (Status.FAILED, Status.CANCELLED):
                continue
            spec = row.spec
            if not row.retry_refusal:
                row.retry_refusal = _no_retry_reason(spec)
            if row.retry_refusal or spec is None:
                refused.append(f"{row.source}: {row.retry_refusal}")
                continue
            if spec.direction == "download":
                # The listed size and ETag pinned the version of a listing that is gone: a
                # retry fetches the object as it is now (and verifies what it gets).
                spec = dataclasses.replace(spec, size=None, etag=None)
            try:
                with self._bridge.transfer_ids.reusing(row.transfer_id):
                    handle = engine.restart(spec)
            except UnsafeKeyError as exc:
                row.retry_refusal = unsafe_refusal(exc)
                refused.append(f"{row.source}: {row.retry_refusal}")
                continue
            except S3zError as exc:  # e.g. a stream upload: this row only
                refused.append(f"{row.source}: {describe_error(exc)}")
                continue
            self._handles[handle.transfer_id] = handle
            self._bridge.commands.spawn(self._finish_handle(handle), "Retry")
            started += 1
        if refused:
            self._bridge.failed.emit(f"Retry refused for {len(refused)} transfer(s) — {refused[0]}")
        return started

    async def _finish_handle(self, handle: TransferHandle) -> None:
        # The row shows the outcome (events); here we only keep the handle map small.
        try:
            with suppress(S3zError, asyncio.CancelledError):
                await handle.result()
        finally:
            self._handles.pop(handle.transfer_id, None)
