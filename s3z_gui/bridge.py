"""The one module that calls the Engine: commands in as tasks, results out as signals.

Views call plain methods here; each starts an asyncio task on the qasync loop and
returns it (tests await it, views ignore it). Typed S3 errors become a short message
on ``failed`` (shown in the status bar with the S3 error code); anything else is a bug
and goes to ``sys.excepthook`` — this wrapper is one of the two outer edges where a
blind ``except Exception`` is allowed. Engine events go straight into the queue
model's store; the model's own timer decides when Qt hears about them.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal

from s3z_core.config import AddressingStyle, ClientConfig, TransferConfig
from s3z_core.credentials import Credentials
from s3z_core.engine import BatchHandle, Engine, TransferHandle
from s3z_core.errors import CredentialsError, S3zError
from s3z_core.events import TransferEvent
from s3z_core.models import BatchResult, BucketInfo, ListPage, ObjectHead, ObjectInfo
from s3z_gui.models.listing import Entry
from s3z_gui.models.object_model import ObjectTableModel
from s3z_gui.models.transfer_model import TransferQueueModel
from s3z_gui.models.transfer_store import Status, describe_error

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

    def _spawn(self, coro: Coroutine[Any, Any, T], what: str) -> asyncio.Task[T | None]:
        task = asyncio.ensure_future(self._guard(coro, what))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _guard(self, coro: Coroutine[Any, Any, T], what: str) -> T | None:
        try:
            return await coro
        except S3zError as exc:
            message = f"{what}: {describe_error(exc)}"
            log.warning("%s", message)
            self.failed.emit(message)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 — outer edge: a bug, not an S3 error — log and show the dialog
            sys.excepthook(*sys.exc_info())
        return None

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
        pager = self.engine.list_objects(bucket, prefix, delimiter="/", page_size=PAGE_SIZE)
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
        return self._spawn(
            self.engine.put_bytes(bucket, f"{prefix}{clean}/", b""), f"Creating folder {clean}"
        )

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
        return self._spawn(self.engine.head_object(bucket, key), f"Reading s3://{bucket}/{key}")

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
        batch = self.engine.upload_paths([Path(p) for p in paths], bucket, prefix)
        return self._spawn(self._finish_batch(batch, "Uploaded"), "Upload")

    def download_entries(
        self, bucket: str, entries: Sequence[Entry], dest_dir: str | Path, strip_prefix: str
    ) -> asyncio.Task[BatchResult | None]:
        """Files keep their names, folders their subtree, all relative to ``strip_prefix``."""
        dest = Path(dest_dir)
        objects = [
            ObjectInfo(e.key, e.size or 0, e.etag, e.modified, e.storage_class)
            for e in entries
            if not e.is_folder
        ]
        batches: list[BatchHandle] = []
        if objects:
            batches.append(
                self.engine.download_keys(bucket, objects, dest, strip_prefix=strip_prefix)
            )
        for folder in (e for e in entries if e.is_folder):
            target = dest / folder.key[len(strip_prefix) :].rstrip("/")
            batches.append(self.engine.download_prefix(bucket, folder.key, target))

        async def run() -> BatchResult:
            total = BatchResult()
            for batch in batches:
                result = await self._finish_batch(batch, "Downloaded")
                total.completed += result.completed
                total.failed += result.failed
                total.files_done += result.files_done
                total.bytes_done += result.bytes_done
            return total

        return self._spawn(run(), "Download")

    async def _finish_batch(self, batch: BatchHandle, verb: str) -> BatchResult:
        self._batches.append(batch)
        try:
            result = await batch.result()
        finally:
            self._batches.remove(batch)
        if result.failed:
            first = result.failed[0]
            self.failed.emit(
                f"{verb} {result.files_done} file(s); {len(result.failed)} failed — "
                f"{first.source}: {describe_error(first.error)}"
            )
        else:
            self.notice.emit(f"{verb} {result.files_done} file(s)")
        return result

    def cancel(self, ids: Sequence[int]) -> int:
        """Cancel these rows' transfers; the engine aborts their multipart uploads."""
        return sum(1 for transfer_id in ids if self.engine.cancel_transfer(transfer_id))

    def pause(self, ids: Sequence[int]) -> int:
        for transfer_id in ids:
            self.engine.pause_transfer(transfer_id)
        return len(ids)

    def resume(self, ids: Sequence[int]) -> int:
        for transfer_id in ids:
            self.engine.resume_transfer(transfer_id)
        return len(ids)

    def retry(self, ids: Sequence[int]) -> int:
        """Start failed or cancelled rows again as new single transfers."""
        started = 0
        for transfer_id in ids:
            row = self.queue.store.row_for(transfer_id)
            if row is None or row.status not in (Status.FAILED, Status.CANCELLED):
                continue
            handle: TransferHandle | None = None
            if row.direction == "upload" and (where := split_s3_url(row.destination)):
                handle = self.engine.upload_file(Path(row.source), where[0], where[1])
            elif row.direction == "download" and (where := split_s3_url(row.source)):
                handle = self.engine.download_file(where[0], where[1], Path(row.destination))
            if handle is None:
                continue
            self._handles[handle.transfer_id] = handle
            self._spawn(self._finish_handle(handle), "Retry")
            started += 1
        return started

    async def _finish_handle(self, handle: TransferHandle) -> None:
        # The row shows the outcome (events); here we only keep the handle map small.
        try:
            with suppress(S3zError, asyncio.CancelledError):
                await handle.result()
        finally:
            self._handles.pop(handle.transfer_id, None)


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
