"""Engine: the one public async facade used by the CLI, the GUI, the bench and Python users.

    import asyncio
    from s3z_core import Engine

    async def main() -> None:
        async with Engine.from_settings(endpoint_url="http://127.0.0.1:8333") as engine:
            handle = engine.upload_file("big.iso", "my-bucket", "isos/big.iso")
            print(await handle.result())

    asyncio.run(main())

Transfers start at once as tasks on the running loop and return handles (await, cancel,
pause, resume); progress arrives as events on the loop thread. Work is a ``TransferSpec``
run by a job (``transfer/jobs.py``), alone (``engine_transfers.py``) or in a batch
(``engine_batches.py``: ``upload_paths`` & co. only *plan* specs); bucket and object calls
are ``objects.py``. This module builds, connects and closes: it owns the client, the
transfer context and the tasks the calls start. Cancel and ``close()`` abort multipart
uploads and remove temp files; after ``suspend()`` the journal keeps them for a later
resume.

The calls import the code they run when first made (``ls`` loads no transfer code); an
entry point whose loop will run some kind of work calls ``prepare`` for it first, since an
import blocks the loop like any other work (the CLI for its command, the app for all).
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Literal, Unpack

from s3z_core import auth
from s3z_core.config import (
    DELETE_BATCH,
    ClientConfig,
    TransferConfig,
    connections_for,
    journal_endpoint,
)
from s3z_core.credentials import CredentialProvider, Credentials
from s3z_core.engine_batches import BatchCalls
from s3z_core.engine_transfers import TransferCalls
from s3z_core.errors import CredentialsError
from s3z_core.events import EventSink, RequestRetried, TransferEvent, ignore_event
from s3z_core.handles import BatchHandle, TransferHandle
from s3z_core.operations import S3Operations
from s3z_core.transfer.control import TransferContext, TransferIds, process_transfer_ids
from s3z_core.transport.bandwidth import TokenBucket
from s3z_core.transport.client import S3Client
from s3z_core.transport.messages import RetryNotice

if TYPE_CHECKING:
    from s3z_core.journal import Journal

Work = Literal[
    "upload",
    "download",
    "copy",
    "relay",
    "stream",
    "list",
    "walk",
    "delete",
    "search",
    "whoami",
    "journal",
    "http",
]
# The modules each kind of work runs (and that its calls import when first made).
WORK_MODULES: dict[Work, tuple[str, ...]] = {
    "upload": ("s3z_core.transfer.batch", "s3z_core.transfer.walk", "s3z_core.transfer.upload"),
    "download": ("s3z_core.transfer.batch", "s3z_core.transfer.download"),
    "copy": ("s3z_core.transfer.batch", "s3z_core.transfer.copy"),
    "relay": ("s3z_core.transfer.batch", "s3z_core.transfer.relay"),
    "stream": ("s3z_core.transfer.batch", "s3z_core.transfer.stream_upload"),
    "list": ("s3z_core.listing.parallel",),  # a whole prefix: ls -r, du, rm -r, cp -r
    "walk": ("s3z_core.transfer.walk",),  # walk_local (sync)
    "delete": ("s3z_core.transfer.deletes",),
    "search": ("s3z_core.search", "s3z_core.listing.parallel"),
    "whoami": ("s3z_core.auth.sts",),
    "journal": ("s3z_core.journal",),  # what a resumable command records in
    # aiohttp, for streamed bodies: a command leaves it to its first such request (imported
    # in the pool then); the app and a cluster worker, which run everything, load it at start.
    "http": ("s3z_core.transport.via_aiohttp",),
}


def prepare(*work: Work) -> None:
    """Import what ``work`` runs now, before a loop starts: the engine's calls would import
    it when first made, on the loop (``prepare(*WORK_MODULES)``: everything)."""
    for kind in work:
        for name in WORK_MODULES[kind]:
            importlib.import_module(name)


class Engine(BatchCalls, TransferCalls):
    source: Engine | None

    def __init__(
        self,
        client_config: ClientConfig | None = None,
        credentials: Credentials | CredentialProvider | None = None,
        transfer_config: TransferConfig | None = None,
        on_event: EventSink | None = None,
        *,
        connection: auth.Connection | None = None,
        source: Engine | None = None,
        transfer_ids: TransferIds | None = None,
        journal: Journal | None = None,
    ) -> None:
        """``source``: the engine of another endpoint or account that copies read from. Its
        objects are listed there and relayed here (``transfer/relay.py``); without it a copy
        is server-side. This engine closes it. ``transfer_ids``: where transfer ids come from
        (default: one counter per process); a GUI passes its own so ids stay unique across
        engines and, later, restarts."""
        self._connection = connection
        self.source = source
        self.journal = journal
        self.transfer_config = transfer_config or TransferConfig()
        config = client_config or ClientConfig()
        wanted = connections_for(self.transfer_config)
        if config.max_connections < wanted:  # a socket for every request that may run at once
            config = dataclasses.replace(config, max_connections=wanted)
        self.client_config = config
        self._sink: EventSink = on_event or ignore_event
        cap = self.transfer_config.limit_rate
        self._client = S3Client(
            self.client_config,
            credentials,
            on_retry=self._request_retried,
            bandwidth=TokenBucket(cap) if cap else None,
        )
        self.ops = S3Operations(self._client)
        source_ops = source.ops if source is not None else None
        self._ctx = TransferContext(
            self.ops,
            self.transfer_config,
            lambda: self._sink,
            source_ops=source_ops,
            ids=transfer_ids or process_transfer_ids,
            journal=journal,
            endpoint=journal_endpoint(config),
        )
        self._tasks: set[asyncio.Task[Any]] = set()

    def __repr__(self) -> str:
        return f"Engine({self._client!r})"

    @classmethod
    def from_settings(
        cls,
        *,
        transfer_config: TransferConfig | None = None,
        on_event: EventSink | None = None,
        journal: Journal | None = None,
        **options: Unpack[auth.ConnectionOptions],
    ) -> Engine:
        """Resolve credentials/region/endpoint like the AWS CLI (the files only: temporary
        credentials are fetched on first use). On an event loop, prefer ``connect``."""
        tc = transfer_config or TransferConfig()
        conn = auth.resolve_connection(connections_for(tc), **options)
        return cls(conn.config, conn.provider, tc, on_event, connection=conn, journal=journal)

    @classmethod
    async def connect(
        cls,
        *,
        transfer_config: TransferConfig | None = None,
        on_event: EventSink | None = None,
        source: auth.ConnectionOptions | None = None,
        journal: Journal | None = None,
        **options: Unpack[auth.ConnectionOptions],
    ) -> Engine:
        """``from_settings`` off the loop, with the first credentials fetched: a missing login
        or an MFA code is dealt with before any transfer starts. ``source``: the options of
        another endpoint or account that copies read from (relayed, not server-side)."""
        tc = transfer_config or TransferConfig()
        source_engine = None
        if source is not None:
            source_engine = await cls.connect(transfer_config=tc, **source)
        conn = await auth.open_connection(connections_for(tc), **options)
        return cls(
            conn.config,
            conn.provider,
            tc,
            on_event,
            connection=conn,
            source=source_engine,
            journal=journal,
        )

    @property
    def source_side(self) -> Engine:
        """Where copies read from: the source engine, or this one (same endpoint)."""
        return self.source if self.source is not None else self

    async def whoami(self) -> auth.Identity:
        """STS GetCallerIdentity with the engine's credentials, and where they came from."""
        if self._connection is None:
            raise CredentialsError("whoami needs an engine made by Engine.connect/from_settings")
        return await auth.who_am_i(self._connection)

    # -- lifecycle ---------------------------------------------------------------------------
    async def __aenter__(self) -> Engine:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def suspend(self) -> None:
        """From now on a cancellation (``close``, a cancelled batch or task) keeps what the
        journal can resume — multipart uploads, download temp files — instead of cleaning
        up: "keep for later". Without a journal it changes nothing. A real failure still
        aborts its upload."""
        self._ctx.suspending = True

    @property
    def suspending(self) -> bool:
        return self._ctx.keeps_on_cancel

    async def close(self) -> None:
        """Cancel what still runs (aborting multipart uploads, removing temp files; after
        ``suspend`` with a journal, keeping them for a resume), then close."""
        pending = [t for t in self._tasks if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        await self._client.close()
        if self.source is not None:
            await self.source.close()

    def set_event_sink(self, sink: EventSink | None) -> None:
        """Where events go from now on (a service that builds its engine before its sink)."""
        self._sink = sink or ignore_event

    def _emit(self, event: TransferEvent) -> None:
        self._sink(event)

    def _request_retried(self, notice: RetryNotice) -> None:
        self._emit(
            RequestRetried(
                notice.operation, notice.attempt, notice.reason, notice.delay_s, notice.throttled
            )
        )

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


__all__ = [
    "DELETE_BATCH",
    "WORK_MODULES",
    "BatchHandle",
    "Engine",
    "TransferHandle",
    "Work",
    "journal_endpoint",
    "prepare",
]
