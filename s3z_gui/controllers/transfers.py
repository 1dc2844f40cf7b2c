"""Transfers: uploads and downloads as engine batches, and the queue's buttons on their rows.

Engine events go straight into the queue model's store (its own timer decides when Qt hears
about them). Each engine numbers its transfers from 1, and the queue keeps the rows of earlier
connections, so a row's id is the engine's id plus a base that is new for every engine: a
second connection's transfer 1 is its own row, and the buttons never reach into an old engine.
A download remembers where it was asked to go (``DownloadPlan``) so each queued
row learns its root and stripped prefix: Retry derives the local path from the key again,
never from the row's destination.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from s3z_core.engine import BatchHandle, TransferHandle
from s3z_core.errors import S3zError, UnsafeKeyError
from s3z_core.events import TransferEvent, TransferQueued
from s3z_core.models import BatchResult, ObjectInfo
from s3z_core.transfer.paths import safe_local_path
from s3z_gui.models.listing import Entry
from s3z_gui.models.transfer_store import Status, TransferRow, describe_error, unsafe_refusal

if TYPE_CHECKING:
    from s3z_gui.bridge import EngineBridge

#: Row ids of one engine: base + the engine's transfer id, below base + ENGINE_ID_SPAN.
ENGINE_ID_SPAN = 1 << 32


@dataclass(frozen=True, slots=True)
class DownloadPlan:
    """What the bridge asked the engine to download: keys of ``bucket`` into ``root`` with
    ``strip_prefix`` cut off. Rows of the batch carry ``root`` and ``strip_prefix`` so a
    retry derives the local path from the key again (never from the row's destination)."""

    bucket: str
    root: Path
    strip_prefix: str
    key_prefix: str = ""  # every key of this download starts with it (a quick filter)
    resolved: str = field(init=False)

    def __post_init__(self) -> None:
        try:
            resolved = str(self.root.resolve())
        except (OSError, RuntimeError):  # a looping folder: the engine refuses it, with a message
            resolved = os.path.abspath(self.root)
        object.__setattr__(self, "resolved", os.path.join(resolved, ""))

    def may_claim(self, bucket: str, key: str, destination: str) -> bool:
        """Cheap (no file system): could a queued download of ``key`` come from this plan?"""
        if bucket != self.bucket or not key.startswith(self.key_prefix):
            return False
        # The engine reports an unsafe key with the root itself as the destination.
        return destination == str(self.root) or destination.startswith(self.resolved)

    def claims(self, key: str, destination: str) -> bool:
        """Exactly: would this plan download ``key`` to ``destination``?"""
        if destination == str(self.root):
            return True
        try:
            return destination == str(safe_local_path(self.root, key, self.strip_prefix))
        except UnsafeKeyError:
            return False


def split_s3_url(url: str) -> tuple[str, str] | None:
    """``s3://bucket/key`` → (bucket, key); None for a local path."""
    if not url.startswith("s3://"):
        return None
    bucket, _, key = url[len("s3://") :].partition("/")
    return bucket, key


class TransferController:
    def __init__(self, bridge: EngineBridge) -> None:
        self._bridge = bridge
        self.queue = bridge.queue
        self._handles: dict[int, TransferHandle] = {}
        self._batches: list[BatchHandle] = []
        self.plans: list[DownloadPlan] = []  # downloads whose rows may still be queued
        self._base = 0  # row id = base + engine transfer id, for the current engine
        self._next_base = 0

    # events -------------------------------------------------------------------------

    def sink_for_new_engine(self) -> Callable[[TransferEvent], None]:
        """The event sink of the next engine; its transfers get row ids of their own."""
        base = self._base = self._next_base
        self._next_base += ENGINE_ID_SPAN
        if base == 0:
            return self.on_event

        def sink(event: TransferEvent) -> None:
            if (transfer_id := getattr(event, "transfer_id", None)) is not None:
                event = dataclasses.replace(event, transfer_id=base + transfer_id)
            self.on_event(event)

        return sink

    def _engine_ids(self, ids: Sequence[int]) -> list[int]:
        """The current engine's ids for these rows (rows of earlier engines are left out)."""
        return [i - self._base for i in ids if 0 < i - self._base < ENGINE_ID_SPAN]

    def on_event(self, event: TransferEvent) -> None:
        self.queue.apply(event)
        if isinstance(event, TransferQueued) and event.direction == "download" and self.plans:
            self._remember_plan(event)

    def _remember_plan(self, event: TransferQueued) -> None:
        row = self.queue.store.row_for(event.transfer_id)
        where = split_s3_url(event.source)
        if row is None or where is None:
            return
        bucket, key = where
        candidates = [p for p in self.plans if p.may_claim(bucket, key, event.destination)]
        if len(candidates) > 1:  # nested folders of one bucket at once: check the full path
            candidates = [p for p in candidates if p.claims(key, event.destination)]
        if candidates:
            row.local_root, row.strip_prefix = str(candidates[0].root), candidates[0].strip_prefix

    def busy(self) -> bool:
        return any(not row.status.finished for row in self.queue.store.rows)

    def stop_all(self) -> None:
        """Cancel every batch and transfer (the engine aborts their multipart uploads)."""
        for batch in self._batches:
            batch.cancel()
        for handle in self._handles.values():
            if not handle.done():
                handle.cancel()

    # commands -----------------------------------------------------------------------

    def upload_paths(
        self, paths: Sequence[str | Path], bucket: str, prefix: str
    ) -> asyncio.Task[BatchResult | None]:
        async def run() -> BatchResult:
            batch = self._bridge.engine.upload_paths([Path(p) for p in paths], bucket, prefix)
            return await self._finish_batch(batch, "Uploaded")

        return self._bridge.commands.spawn(run(), "Upload")

    def download_entries(
        self, bucket: str, entries: Sequence[Entry], dest_dir: str | Path, strip_prefix: str
    ) -> asyncio.Task[BatchResult | None]:
        """Files keep their names, folders their subtree, all relative to ``strip_prefix``.

        A folder whose own key would leave ``dest_dir`` (``a/../``) is refused here; the
        engine checks every file key the same way and fails those rows."""
        dest = Path(dest_dir)

        async def run() -> BatchResult:
            engine = self._bridge.engine  # not connected: nothing is planned, the guard says why
            batches: list[BatchHandle] = []
            plans: list[DownloadPlan] = []

            def plan(root: Path, strip: str, key_prefix: str = "") -> None:
                # Before the batch starts: its rows are matched to the plan as they queue.
                plans.append(DownloadPlan(bucket, root, strip, key_prefix))
                self.plans.append(plans[-1])

            try:
                objects = [
                    ObjectInfo(e.key, e.size or 0, e.etag, e.modified, e.storage_class)
                    for e in entries
                    if not e.is_folder
                ]
                if objects:
                    plan(dest, strip_prefix)
                    batches.append(engine.download_keys(bucket, objects, dest, strip_prefix))
                refused: list[UnsafeKeyError] = []
                for folder in (e for e in entries if e.is_folder):
                    try:
                        target = safe_local_path(dest, folder.key, strip_prefix)
                    except UnsafeKeyError as exc:
                        refused.append(exc)
                        continue
                    plan(target, folder.key, folder.key)
                    batches.append(engine.download_prefix(bucket, folder.key, target))
                if refused:
                    self._bridge.failed.emit(
                        f"Download: {len(refused)} folder(s) skipped — {describe_error(refused[0])}"
                    )
                total = BatchResult()
                for batch in batches:
                    result = await self._finish_batch(batch, "Downloaded")
                    total.completed += result.completed
                    total.failed += result.failed
                    total.files_done += result.files_done
                    total.bytes_done += result.bytes_done
                return total
            finally:
                for done in plans:
                    self.plans.remove(done)

        return self._bridge.commands.spawn(run(), "Download")

    async def _finish_batch(self, batch: BatchHandle, verb: str) -> BatchResult:
        self._batches.append(batch)
        try:
            result = await batch.result()
        finally:
            self._batches.remove(batch)
        left_out = ""
        if result.skipped:
            path, why = result.skipped[0]
            left_out = f"; {len(result.skipped)} left out — {path}: {why}"
        if result.failed:
            first = result.failed[0]
            self._bridge.failed.emit(
                f"{verb} {result.files_done} file(s); {len(result.failed)} failed — "
                f"{first.source}: {describe_error(first.error)}{left_out}"
            )
        else:
            self._bridge.notice.emit(f"{verb} {result.files_done} file(s){left_out}")
        return result

    # the queue's buttons ------------------------------------------------------------

    def cancel(self, ids: Sequence[int]) -> int:
        """Cancel these rows' transfers; the engine aborts their multipart uploads."""

        def run() -> int:
            engine = self._bridge.engine
            return sum(1 for i in self._engine_ids(ids) if engine.cancel_transfer(i))

        return self._bridge.commands.guard_now(run, "Cancel", 0)

    def pause(self, ids: Sequence[int]) -> int:
        def run() -> int:
            engine = self._bridge.engine
            current = self._engine_ids(ids)
            for transfer_id in current:
                engine.pause_transfer(transfer_id)
            return len(current)

        return self._bridge.commands.guard_now(run, "Pause", 0)

    def resume(self, ids: Sequence[int]) -> int:
        def run() -> int:
            engine = self._bridge.engine
            current = self._engine_ids(ids)
            for transfer_id in current:
                engine.resume_transfer(transfer_id)
            return len(current)

        return self._bridge.commands.guard_now(run, "Resume", 0)

    def retry(self, ids: Sequence[int]) -> int:
        """Start failed or cancelled rows again as new single transfers.

        Rows whose key would leave the download folder are refused (and say so);
        a download's local path is derived from its key again, never taken from the row."""
        return self._bridge.commands.guard_now(lambda: self._retry(ids), "Retry", 0)

    def _retry(self, ids: Sequence[int]) -> int:
        started = 0
        refused: list[str] = []
        for transfer_id in ids:
            row = self.queue.store.row_for(transfer_id)
            if row is None or row.status not in (Status.FAILED, Status.CANCELLED):
                continue
            if row.retry_refusal:
                refused.append(f"{row.source}: {row.retry_refusal}")
                continue
            try:
                restarted = self._restart(row)
            except UnsafeKeyError as exc:
                row.retry_refusal = unsafe_refusal(exc)
                refused.append(f"{row.source}: {row.retry_refusal}")
                continue
            except S3zError as exc:  # e.g. the download folder became unusable: this row only
                refused.append(f"{row.source}: {describe_error(exc)}")
                continue
            if restarted is None:
                refused.append(f"{row.source}: Retry is off: its download folder is unknown")
                continue
            handle, plan = restarted
            self._handles[handle.transfer_id] = handle
            self._bridge.commands.spawn(self._finish_handle(handle, plan), "Retry")
            started += 1
        if refused:
            self._bridge.failed.emit(f"Retry refused for {len(refused)} transfer(s) — {refused[0]}")
        return started

    def _restart(self, row: TransferRow) -> tuple[TransferHandle, DownloadPlan | None] | None:
        """A new transfer for ``row``; raises ``UnsafeKeyError`` for a key that would escape."""
        if row.direction == "upload" and (where := split_s3_url(row.destination)):
            return self._bridge.engine.upload_file(Path(row.source), where[0], where[1]), None
        if row.direction != "download" or row.local_root is None:
            return None
        where = split_s3_url(row.source)
        if where is None:
            return None
        bucket, key = where
        root = Path(row.local_root)
        local = safe_local_path(root, key, row.strip_prefix)
        engine = self._bridge.engine  # before the plan: no connection must leave no plan behind
        plan = DownloadPlan(bucket, root, row.strip_prefix, key_prefix=key)
        self.plans.append(plan)
        try:
            handle = engine.download_file(bucket, key, local)
        except BaseException:
            self.plans.remove(plan)
            raise
        return handle, plan

    async def _finish_handle(self, handle: TransferHandle, plan: DownloadPlan | None) -> None:
        # The row shows the outcome (events); here we only keep the handle map small.
        try:
            with suppress(S3zError, asyncio.CancelledError):
                await handle.result()
        finally:
            self._handles.pop(handle.transfer_id, None)
            if plan is not None:
                self.plans.remove(plan)
