"""The one object that owns the Engine: commands in as guarded tasks, results out as signals.

The connection, buckets and single-object commands live here; listing and transfers are
controllers of their own (``bridge.listing``, ``bridge.transfers``) on the same engine and the
same guarded tasks (``controllers/commands.py``). Connects are serialized: a newer connect
cancels an older one still in flight, and only one engine is ever open.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import QObject, Signal

from s3z_core.config import TransferConfig, journal_endpoint
from s3z_core.engine import Engine
from s3z_core.errors import S3zError
from s3z_core.models import BucketInfo, ObjectHead
from s3z_core.uploads_survey import Incomplete, abort_incomplete, survey_uploads
from s3z_gui.connection import ConnectionTarget, EngineFactory, NotConnectedError, make_engine
from s3z_gui.controllers.commands import CommandRunner
from s3z_gui.controllers.listing import ListingController
from s3z_gui.controllers.object_details import ObjectDetailsController
from s3z_gui.controllers.search import SearchController
from s3z_gui.controllers.transfers import TransferController
from s3z_gui.controllers.versions import VersionsController
from s3z_gui.models.listing import Entry
from s3z_gui.models.transfer_ids import TransferIdSource
from s3z_gui.models.transfer_model import TransferQueueModel


@dataclass(frozen=True, slots=True)
class ConnectionCheck:
    """What a connection test found: the buckets it could see, or why it failed."""

    buckets: int | None = None
    error: S3zError | None = None


@dataclass(frozen=True, slots=True)
class Tally:
    """Objects counted under a bucket or prefix; ``complete`` False: there are more."""

    objects: int
    size: int
    complete: bool = True


#: Counting a bucket before deleting it stops here (a million keys list in well under a minute).
COUNT_LIMIT = 1_000_000

#: How long closing waits for transfers to abort their multipart uploads, per stage.
CLOSE_TIMEOUT_S = 10.0


class EngineBridge(QObject):
    """Owns the Engine; every S3 call of the app goes through here or its controllers."""

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
        transfer_ids: TransferIdSource | None = None,
    ) -> None:
        super().__init__()
        self.queue = queue
        # One id source for every engine of the app's life (pluggable: a persisted queue
        # starts it above its saved ids).
        self.transfer_ids = transfer_ids or TransferIdSource()
        self.transfer_config = transfer_config or TransferConfig()
        self.target: ConnectionTarget | None = None
        self.commands = CommandRunner(self.failed.emit)
        self.listing = ListingController(self)
        self.transfers = TransferController(self)
        self.versions = VersionsController(self)
        self.search = SearchController(self)
        self.details = ObjectDetailsController(self)
        self._factory = engine_factory
        self._engine: Engine | None = None
        self._connect_lock = asyncio.Lock()
        self._connecting: asyncio.Task[Any] | None = None
        self._closed = False
        # Why the last connect failed (typed), for the banner: the view must not go on
        # showing the previous connection (issue 15, bugs 3 and 5).
        self.connect_error: S3zError | None = None
        # What must be done before the first engine exists (the session loads its saved queue).
        self.before_connect: asyncio.Future[Any] | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise NotConnectedError("not connected: choose a connection first")
        return self._engine

    @property
    def connected(self) -> bool:
        return self._engine is not None

    # connection ---------------------------------------------------------------------

    def connect_to(self, target: ConnectionTarget) -> asyncio.Task[list[BucketInfo] | None]:
        previous, self._connecting = self._connecting, None
        task = self.commands.spawn(
            self._connect(target, previous), f"Connecting to {target.label}", bound=False
        )
        self._connecting = task
        return task

    async def _connect(
        self, target: ConnectionTarget, previous: asyncio.Task[Any] | None
    ) -> list[BucketInfo]:
        if previous is not None and not previous.done():
            previous.cancel()  # the user chose another target: that connect is moot
            await asyncio.wait([previous])
        if self.before_connect is not None:  # the saved queue: new ids start above its ids
            await asyncio.shield(self.before_connect)
        async with self._connect_lock:  # one engine at a time, even if cancelling was slow
            if self._closed:
                raise NotConnectedError("s3z is closing")
            await self._drop_engine()
            self.target, self.connect_error = None, None
            engine = self._factory(
                target, self.transfer_config, self.transfers.on_event, self.transfer_ids
            )
            try:
                buckets = await engine.list_buckets()
            except BaseException as exc:
                await engine.close()
                if isinstance(exc, S3zError):
                    self.connect_error = exc
                self.bucketsLoaded.emit([])  # the old connection's buckets are gone with it
                raise
            self._engine, self.target = engine, target
            self.queue.store.connection = target.label
        self.connectionChanged.emit(target.label)
        self.bucketsLoaded.emit(buckets)
        return buckets

    def test_connection(self, target: ConnectionTarget) -> asyncio.Task[ConnectionCheck | None]:
        """List buckets with a throwaway engine. The outcome is returned, typed (how many
        buckets, or the error), to whoever asked (the dialog shows it where the user looks),
        never broadcast as a status-bar string for listeners to pick out by its prefix."""
        return self.commands.spawn(self._test(target), "Connection test", bound=False)

    async def _test(self, target: ConnectionTarget) -> ConnectionCheck:
        engine = self._factory(
            target, self.transfer_config, lambda _event: None, TransferIdSource()
        )
        try:
            return ConnectionCheck(buckets=len(await engine.list_buckets()))
        except S3zError as exc:
            return ConnectionCheck(error=exc)
        finally:
            await engine.close()

    def set_transfer_config(self, config: TransferConfig) -> None:
        """New knobs apply to the next connection (the engine's config is frozen); settings
        that leave the transfer config as it was keep the connection."""
        if config == self.transfer_config:
            return
        self.transfer_config = config
        if self.target is not None and not self.transfers.busy():
            self.connect_to(self.target)

    async def _drop_engine(self) -> None:
        await self.commands.cancel_bound(CLOSE_TIMEOUT_S)  # nothing may run on into a closed one
        await self.listing.close_all()
        await self.versions.close_all()
        if self._engine is not None:
            engine, self._engine = self._engine, None
            await engine.close()
            self.connectionChanged.emit("")

    def suspend(self) -> None:
        """Closing keeps resumable transfers for the next launch ("keep for later"): the
        engine keeps their uploads and temp files in the journal instead of cleaning up."""
        self.transfers.suspend()
        if self._engine is not None:
            self._engine.suspend()

    async def close(self) -> None:
        """Stop transfers (aborting multipart uploads, unless suspended) and close the engine."""
        self._closed = True
        self.transfers.stop_all()
        await self.commands.drain(CLOSE_TIMEOUT_S)
        async with self._connect_lock:
            await self._drop_engine()

    # buckets ------------------------------------------------------------------------

    def refresh_buckets(self) -> asyncio.Task[list[BucketInfo] | None]:
        return self.commands.spawn(self._refresh_buckets(), "Listing buckets")

    async def _refresh_buckets(self) -> list[BucketInfo]:
        buckets = await self.engine.list_buckets()
        self.bucketsLoaded.emit(buckets)
        return buckets

    def create_bucket(self, name: str) -> asyncio.Task[list[BucketInfo] | None]:
        async def run() -> list[BucketInfo]:
            await self.engine.create_bucket(name)
            self.notice.emit(f"Created bucket {name}")
            return await self._refresh_buckets()

        return self.commands.spawn(run(), f"Creating bucket {name}")

    def count_objects(self, bucket: str, limit: int = COUNT_LIMIT) -> asyncio.Task[Tally | None]:
        """How many objects (and bytes) a bucket holds, for the delete confirmation; stops at
        ``limit`` so a huge bucket answers quickly ("at least …")."""

        async def run() -> Tally:
            count = size = 0
            listing = self.engine.iter_objects(bucket, ordered=False)
            try:
                async for info in listing:
                    count += 1
                    size += info.size
                    if count >= limit:
                        return Tally(count, size, complete=False)
            finally:
                await listing.aclose()  # type: ignore[attr-defined]
            return Tally(count, size, complete=True)

        return self.commands.spawn(run(), f"Counting the objects of {bucket}")

    def delete_bucket(self, name: str, *, force: bool) -> asyncio.Task[list[BucketInfo] | None]:
        async def run() -> list[BucketInfo]:
            await self.engine.delete_bucket(name, force=force)
            self.notice.emit(f"Deleted bucket {name}")
            return await self._refresh_buckets()

        return self.commands.spawn(run(), f"Deleting bucket {name}")

    def abort_uploads_started_before(self, moment: datetime) -> asyncio.Task[int | None]:
        """Abort unfinished multipart uploads begun before ``moment``, in every bucket; for a
        store only this app uses (the sandbox): what a killed run could not abort itself."""

        # Stores give upload dates in whole seconds (SeaweedFS truncates them), so an upload
        # begun in the same second as ``moment``, after it, reads as earlier; only a date
        # before that second is provably older.
        cutoff = moment.replace(microsecond=0)

        async def run() -> int:
            engine = self.engine
            aborted = 0
            for bucket in await engine.list_buckets():
                kept: set[str] = set()  # the journal's: a resume continues them
                if engine.journal is not None:
                    endpoint = journal_endpoint(engine.client_config)
                    kept = await engine.journal.upload_ids(endpoint, bucket.name)
                for upload in await engine.list_multipart_uploads(bucket.name):
                    # No date: not provably old, so not ours to judge.
                    if upload.upload_id in kept:
                        continue
                    if upload.initiated is not None and upload.initiated < cutoff:
                        await engine.abort_multipart_upload(
                            bucket.name, upload.key, upload.upload_id
                        )
                        aborted += 1
            if aborted:
                self.notice.emit(f"Removed {aborted} unfinished upload(s) of an earlier session")
            return aborted

        return self.commands.spawn(run(), "Removing unfinished uploads")

    def survey_uploads(self, bucket: str) -> asyncio.Task[list[Incomplete] | None]:
        """The bucket's incomplete multipart uploads (the janitor's survey, the CLI's too)."""

        async def run() -> list[Incomplete]:
            return await survey_uploads(self.engine, bucket)

        return self.commands.spawn(run(), f"Listing the incomplete uploads of {bucket}")

    def abort_incomplete(
        self, bucket: str, items: Sequence[Incomplete]
    ) -> asyncio.Task[int | None]:
        """Abort these uploads (ours are forgotten by the journal too); how many went."""

        async def run() -> int:
            for item in items:
                await abort_incomplete(self.engine, bucket, item)
            self.notice.emit(f"Aborted {len(items)} incomplete upload(s) in {bucket}")
            return len(items)

        return self.commands.spawn(run(), f"Aborting incomplete uploads in {bucket}")

    # objects ------------------------------------------------------------------------

    def new_folder(self, bucket: str, prefix: str, name: str) -> asyncio.Task[str | None]:
        clean = name.strip().strip("/")

        async def run() -> str | None:
            if not clean:
                self.failed.emit("A folder needs a name")
                return None
            return await self.engine.put_bytes(bucket, f"{prefix}{clean}/", b"")

        return self.commands.spawn(run(), f"Creating folder {clean}")

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

        return self.commands.spawn(run(), "Deleting")

    def head(self, bucket: str, key: str) -> asyncio.Task[ObjectHead | None]:
        async def run() -> ObjectHead:
            return await self.engine.head_object(bucket, key)

        return self.commands.spawn(run(), f"Reading s3://{bucket}/{key}")

    def presign(self, bucket: str, key: str, expires_s: int = 3600) -> str | None:
        return self.commands.guard_now(
            lambda: self.engine.presign(bucket, key, expires_s=expires_s),
            f"Presigning s3://{bucket}/{key}",
            None,
        )
