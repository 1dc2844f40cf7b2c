"""The one module that calls the Engine: commands in as tasks, results out as signals.

Views call plain methods here; each starts an asyncio task on the qasync loop and
returns it (tests await it, views ignore it). Typed S3 errors become a short message
on ``failed`` (shown in the status bar with the S3 error code); anything else is a bug
and goes to ``sys.excepthook`` — this wrapper (with its twin for the synchronous
commands) is one of the two outer edges where a blind ``except Exception`` is allowed.
No command touches the engine outside them, so "not connected" is a status-bar message.
Engine events go straight into the queue model's store; the model's own timer decides
when Qt hears about them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal

from s3z_core.config import AddressingStyle, ClientConfig, TransferConfig
from s3z_core.credentials import Credentials
from s3z_core.engine import BatchHandle, Engine, TransferHandle
from s3z_core.errors import CredentialsError, S3zError, UnsafeKeyError
from s3z_core.events import TransferEvent, TransferQueued
from s3z_core.models import BatchResult, BucketInfo, ListPage, ObjectHead, ObjectInfo
from s3z_core.transfer.paths import safe_local_path
from s3z_gui.models.listing import Entry
from s3z_gui.models.object_model import ObjectTableModel
from s3z_gui.models.transfer_model import TransferQueueModel
from s3z_gui.models.transfer_store import Status, TransferRow, describe_error, unsafe_refusal

log = logging.getLogger(__name__)

T = TypeVar("T")
PAGE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class ConnectionTarget:
    """Where to connect, with the secret already resolved (never logged: see Credentials)."""

    label: str
    endpoint_url: str | None
    region: str
    addressing_style: AddressingStyle
    credentials: Credentials
    is_sandbox: bool = False

    def client_config(self) -> ClientConfig:
        return ClientConfig(
            endpoint_url=self.endpoint_url or None,
            region=self.region,
            addressing_style=self.addressing_style,
        )


class NotConnectedError(CredentialsError):
    """A command arrived before any connection was made."""


EngineFactory = Callable[
    [ConnectionTarget, TransferConfig, Callable[[TransferEvent], None]], Engine
]


def make_engine(
    target: ConnectionTarget, config: TransferConfig, sink: Callable[[TransferEvent], None]
) -> Engine:
    return Engine(
        client_config=target.client_config(),
        credentials=target.credentials,
        transfer_config=config,
        on_event=sink,
    )


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


class EngineBridge(QObject):
    """Owns the Engine; every S3 call of the app goes through here."""

    connectionChanged = Signal(str)  # the target's label, "" when disconnected
    bucketsLoaded = Signal(list)  # list[BucketInfo]
    failed = Signal(str)  # a user-facing message with the S3 error code
    notice = Signal(str)  # a short status-bar message

    def __init__(
        self,
        queue: TransferQueueModel,
        *,
        engine_factory: EngineFactory = make_engine,
        transfer_config: TransferConfig | None = None,
    ) -> None:
        super().__init__()
        self.queue = queue
        self.transfer_config = transfer_config or TransferConfig()
        self.target: ConnectionTarget | None = None
        self._factory = engine_factory
        self._engine: Engine | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._handles: dict[int, TransferHandle] = {}
        self._batches: list[BatchHandle] = []
        self._pagers: dict[int, tuple[int, AsyncIterator[ListPage]]] = {}
        self._plans: list[DownloadPlan] = []  # downloads whose rows may still be queued

    # plumbing -----------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise NotConnectedError("not connected: choose a connection first")
        return self._engine

    @property
    def connected(self) -> bool:
        return self._engine is not None

    def _on_event(self, event: TransferEvent) -> None:
        self.queue.apply(event)
        if isinstance(event, TransferQueued) and event.direction == "download" and self._plans:
            self._remember_plan(event)

    def _remember_plan(self, event: TransferQueued) -> None:
        row = self.queue.store.row_for(event.transfer_id)
        where = split_s3_url(event.source)
        if row is None or where is None:
            return
        bucket, key = where
        candidates = [p for p in self._plans if p.may_claim(bucket, key, event.destination)]
        if len(candidates) > 1:  # nested folders of one bucket at once: check the full path
            candidates = [p for p in candidates if p.claims(key, event.destination)]
        if candidates:
            row.local_root, row.strip_prefix = str(candidates[0].root), candidates[0].strip_prefix

    def _spawn(self, coro: Coroutine[Any, Any, T], what: str) -> asyncio.Task[T | None]:
        task = asyncio.ensure_future(self._guard(coro, what))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _guard(self, coro: Coroutine[Any, Any, T], what: str) -> T | None:
        try:
            return await coro
        except S3zError as exc:
            self._report(what, exc)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 — outer edge: a bug, not an S3 error — log and show the dialog
            sys.excepthook(*sys.exc_info())
        return None

    def _guard_now(self, call: Callable[[], T], what: str, default: T) -> T:
        """``_guard`` for the synchronous commands (cancel, pause, resume, retry)."""
        try:
            return call()
        except S3zError as exc:
            self._report(what, exc)
        except Exception:  # noqa: BLE001 — outer edge: a bug, not an S3 error — log and show the dialog
            sys.excepthook(*sys.exc_info())
        return default

    def _report(self, what: str, error: S3zError) -> None:
        message = f"{what}: {describe_error(error)}"
        log.warning("%s", message)
        self.failed.emit(message)

    # connection ---------------------------------------------------------------------

    def connect_to(self, target: ConnectionTarget) -> asyncio.Task[list[BucketInfo] | None]:
        return self._spawn(self._connect(target), f"Connecting to {target.label}")

    async def _connect(self, target: ConnectionTarget) -> list[BucketInfo]:
        await self._drop_engine()
        engine = self._factory(target, self.transfer_config, self._on_event)
        try:
            buckets = await engine.list_buckets()
        except BaseException:
            await engine.close()
            raise
        self._engine, self.target = engine, target
        self.connectionChanged.emit(target.label)
        self.bucketsLoaded.emit(buckets)
        return buckets

    def test_connection(self, target: ConnectionTarget) -> asyncio.Task[int | None]:
        """List buckets with a throwaway engine; returns how many (the dialog shows it)."""
        return self._spawn(self._test(target), "Connection test")

    async def _test(self, target: ConnectionTarget) -> int:
        engine = self._factory(target, self.transfer_config, lambda _event: None)
        try:
            return len(await engine.list_buckets())
        finally:
            await engine.close()

    def set_transfer_config(self, config: TransferConfig) -> None:
        """New knobs apply to the next connection (the engine's config is frozen)."""
        self.transfer_config = config
        if self.target is not None and not self._busy():
            self.connect_to(self.target)

    def _busy(self) -> bool:
        return any(not row.status.finished for row in self.queue.store.rows)

    async def _drop_engine(self) -> None:
        for _generation, pager in self._pagers.values():
            await _close_pager(pager)
        self._pagers.clear()
        if self._engine is not None:
            engine, self._engine = self._engine, None
            await engine.close()
            self.connectionChanged.emit("")

    async def close(self) -> None:
        """Stop transfers (aborting multipart uploads) and close the engine's session."""
        for batch in self._batches:
            batch.cancel()
        for handle in self._handles.values():
            if not handle.done():
                handle.cancel()
        pending = [t for t in self._tasks if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=10)
        for task in pending:
            task.cancel()
        await self._drop_engine()

    # buckets ------------------------------------------------------------------------

    def refresh_buckets(self) -> asyncio.Task[list[BucketInfo] | None]:
        return self._spawn(self._refresh_buckets(), "Listing buckets")

    async def _refresh_buckets(self) -> list[BucketInfo]:
        buckets = await self.engine.list_buckets()
        self.bucketsLoaded.emit(buckets)
        return buckets

    def create_bucket(self, name: str) -> asyncio.Task[list[BucketInfo] | None]:
        async def run() -> list[BucketInfo]:
            await self.engine.create_bucket(name)
            self.notice.emit(f"Created bucket {name}")
            return await self._refresh_buckets()

        return self._spawn(run(), f"Creating bucket {name}")

    def delete_bucket(self, name: str, *, force: bool) -> asyncio.Task[list[BucketInfo] | None]:
        async def run() -> list[BucketInfo]:
            await self.engine.delete_bucket(name, force=force)
            self.notice.emit(f"Deleted bucket {name}")
            return await self._refresh_buckets()

        return self._spawn(run(), f"Deleting bucket {name}")

    # listing ------------------------------------------------------------------------

    def open_location(
        self, model: ObjectTableModel, bucket: str | None, prefix: str = ""
    ) -> asyncio.Task[int | None]:
        """Show ``bucket``/``prefix`` in ``model``: reset it and load the first page."""
        generation = model.reset_location(bucket, prefix)
        old = self._pagers.pop(id(model), None)
        if bucket is None:
            if old is not None:
                return self._spawn(_close_then_zero(old[1]), "Closing listing")
            return self._spawn(_zero(), "Listing")
        try:
            pager = self.engine.list_objects(bucket, prefix, delimiter="/", page_size=PAGE_SIZE)
        except S3zError as exc:
            error = exc

            async def refuse() -> int:
                if old is not None:
                    await _close_pager(old[1])
                raise error

            return self._spawn(self._listing_guard(model, generation, refuse()), "Listing")
        self._pagers[id(model)] = (generation, pager)

        async def first_page() -> int:
            if old is not None:
                await _close_pager(old[1])
            return await self._next_page(model, generation)

        return self._spawn(self._listing_guard(model, generation, first_page()), "Listing")

    def fetch_more(self, model: ObjectTableModel, generation: int) -> asyncio.Task[int | None]:
        return self._spawn(
            self._listing_guard(model, generation, self._next_page(model, generation)), "Listing"
        )

    async def _listing_guard(
        self, model: ObjectTableModel, generation: int, coro: Coroutine[Any, Any, int]
    ) -> int:
        try:
            return await coro
        except S3zError as exc:
            model.fail(generation, describe_error(exc))
            raise

    async def _next_page(self, model: ObjectTableModel, generation: int) -> int:
        current = self._pagers.get(id(model))
        if current is None or current[0] != generation:
            return 0
        try:
            page = await anext(current[1])
        except StopAsyncIteration:
            page = ListPage(objects=[], common_prefixes=[], is_truncated=False, next_token=None)
        return model.append_page(generation, page)

    # objects ------------------------------------------------------------------------

    def new_folder(self, bucket: str, prefix: str, name: str) -> asyncio.Task[str | None]:
        clean = name.strip().strip("/")
        if not clean:
            self.failed.emit("A folder needs a name")
            return self._spawn(_none_str(), "New folder")

        async def run() -> str:
            return await self.engine.put_bytes(bucket, f"{prefix}{clean}/", b"")

        return self._spawn(run(), f"Creating folder {clean}")

    def delete_entries(self, bucket: str, entries: Sequence[Entry]) -> asyncio.Task[int | None]:
        """Objects in batches of 1000; folders by prefix. Returns how many keys went."""

        async def run() -> int:
            deleted = 0
            failures: list[str] = []
            keys = [e.key for e in entries if not e.is_folder]
            if keys:
                result = await self.engine.delete_objects(bucket, keys)
                deleted += len(result.deleted)
                failures += [f"{f.key}: {f.code}" for f in result.failures]
            for folder in (e for e in entries if e.is_folder):
                result = await self.engine.delete_prefix(bucket, folder.key)
                deleted += len(result.deleted)
                failures += [f"{f.key}: {f.code}" for f in result.failures]
            if failures:
                self.failed.emit(
                    f"Could not delete {len(failures)} object(s): " + "; ".join(failures[:3])
                )
            else:
                self.notice.emit(f"Deleted {deleted} object(s)")
            return deleted

        return self._spawn(run(), "Deleting")

    def head(self, bucket: str, key: str) -> asyncio.Task[ObjectHead | None]:

        async def run() -> ObjectHead:
            return await self.engine.head_object(bucket, key)

        return self._spawn(run(), f"Reading s3://{bucket}/{key}")

    def presign(self, bucket: str, key: str, expires_s: int = 3600) -> str | None:
        try:
            return self.engine.presign(bucket, key, expires_s=expires_s)
        except S3zError as exc:
            self.failed.emit(f"Presigning s3://{bucket}/{key}: {describe_error(exc)}")
            return None

    # transfers ----------------------------------------------------------------------

    def upload_paths(
        self, paths: Sequence[str | Path], bucket: str, prefix: str
    ) -> asyncio.Task[BatchResult | None]:
        async def run() -> BatchResult:
            batch = self.engine.upload_paths([Path(p) for p in paths], bucket, prefix)
            return await self._finish_batch(batch, "Uploaded")

        return self._spawn(run(), "Upload")

    def download_entries(
        self, bucket: str, entries: Sequence[Entry], dest_dir: str | Path, strip_prefix: str
    ) -> asyncio.Task[BatchResult | None]:
        """Files keep their names, folders their subtree, all relative to ``strip_prefix``.

        A folder whose own key would leave ``dest_dir`` (``a/../``) is refused here; the
        engine checks every file key the same way and fails those rows."""
        dest = Path(dest_dir)

        async def run() -> BatchResult:
            engine = self.engine  # not connected: nothing is planned, the guard says why
            batches: list[BatchHandle] = []
            plans: list[DownloadPlan] = []

            def plan(root: Path, strip: str, key_prefix: str = "") -> None:
                # Before the batch starts: its rows are matched to the plan as they queue.
                plans.append(DownloadPlan(bucket, root, strip, key_prefix))
                self._plans.append(plans[-1])

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
                    self.failed.emit(
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
                    self._plans.remove(done)

        return self._spawn(run(), "Download")

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
            self.failed.emit(
                f"{verb} {result.files_done} file(s); {len(result.failed)} failed — "
                f"{first.source}: {describe_error(first.error)}{left_out}"
            )
        else:
            self.notice.emit(f"{verb} {result.files_done} file(s){left_out}")
        return result

    def cancel(self, ids: Sequence[int]) -> int:
        """Cancel these rows' transfers; the engine aborts their multipart uploads."""
        return self._guard_now(
            lambda: sum(1 for transfer_id in ids if self.engine.cancel_transfer(transfer_id)),
            "Cancel",
            0,
        )

    def pause(self, ids: Sequence[int]) -> int:
        def run() -> int:
            for transfer_id in ids:
                self.engine.pause_transfer(transfer_id)
            return len(ids)

        return self._guard_now(run, "Pause", 0)

    def resume(self, ids: Sequence[int]) -> int:
        def run() -> int:
            for transfer_id in ids:
                self.engine.resume_transfer(transfer_id)
            return len(ids)

        return self._guard_now(run, "Resume", 0)

    def retry(self, ids: Sequence[int]) -> int:
        """Start failed or cancelled rows again as new single transfers.

        Rows whose key would leave the download folder are refused (and say so);
        a download's local path is derived from its key again, never taken from the row."""
        return self._guard_now(lambda: self._retry(ids), "Retry", 0)

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
            self._spawn(self._finish_handle(handle, plan), "Retry")
            started += 1
        if refused:
            self.failed.emit(f"Retry refused for {len(refused)} transfer(s) — {refused[0]}")
        return started

    def _restart(self, row: TransferRow) -> tuple[TransferHandle, DownloadPlan | None] | None:
        """A new transfer for ``row``; raises ``UnsafeKeyError`` for a key that would escape."""
        if row.direction == "upload" and (where := split_s3_url(row.destination)):
            return self.engine.upload_file(Path(row.source), where[0], where[1]), None
        if row.direction != "download" or row.local_root is None:
            return None
        where = split_s3_url(row.source)
        if where is None:
            return None
        bucket, key = where
        root = Path(row.local_root)
        local = safe_local_path(root, key, row.strip_prefix)
        engine = self.engine  # before the plan: a missing connection must leave no plan behind
        plan = DownloadPlan(bucket, root, row.strip_prefix, key_prefix=key)
        self._plans.append(plan)
        try:
            handle = engine.download_file(bucket, key, local)
        except BaseException:
            self._plans.remove(plan)
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
                self._plans.remove(plan)


async def _close_pager(pager: AsyncIterator[ListPage]) -> None:
    closer = getattr(pager, "aclose", None)
    if closer is not None:
        with suppress(S3zError, RuntimeError):
            await closer()


async def _zero() -> int:
    return 0


async def _none_str() -> str | None:
    return None


async def _close_then_zero(pager: AsyncIterator[ListPage]) -> int:
    await _close_pager(pager)
    return 0
