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
run by a job (``transfer/jobs.py``), alone or in a batch (``upload_paths`` & co. only
*plan* specs). Cancel and ``close()`` abort multipart uploads and remove temp files;
after ``suspend()`` the journal keeps them for a later resume.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Iterable, Sequence
from pathlib import Path
from typing import Any, Unpack

from s3z_core import auth
from s3z_core.config import ClientConfig, TransferConfig, connections_for, journal_endpoint
from s3z_core.credentials import CredentialProvider, Credentials
from s3z_core.errors import CredentialsError, InvalidValueError
from s3z_core.events import EventSink, RequestRetried, TransferEvent, ignore_event
from s3z_core.filters import PathFilter
from s3z_core.handles import BatchHandle, TransferHandle
from s3z_core.journal import Journal
from s3z_core.objects import FilterRules, ObjectCalls
from s3z_core.operations import S3Operations
from s3z_core.specs import NO_UPLOAD_OPTIONS, TransferSpec, UploadOptions
from s3z_core.transfer.batch import Batch, run_tracked, track_task
from s3z_core.transfer.control import (
    TransferContext,
    TransferControl,
    TransferIds,
    process_transfer_ids,
)
from s3z_core.transfer.copy import check_copy_prefixes
from s3z_core.transfer.deletes import DELETE_BATCH
from s3z_core.transfer.jobs import Runner, build_job, queue_job
from s3z_core.transfer.paths import DestinationGuard
from s3z_core.transfer.plans import (
    Listed,
    PlanItem,
    plan_copies,
    plan_downloads,
    plan_uploads,
    planned,
)
from s3z_core.transfer.stream_upload import STREAM_SOURCE, upload_stream
from s3z_core.transport.bandwidth import TokenBucket
from s3z_core.transport.client import S3Client
from s3z_core.transport.messages import RetryNotice


class Engine(ObjectCalls):
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

    # -- transfer control by id (the GUI queue's buttons) -----------------------------------
    def cancel_transfer(self, transfer_id: int) -> bool:
        return self._ctx.cancel(transfer_id)

    def pause_transfer(self, transfer_id: int) -> None:
        self._ctx.pause(transfer_id)

    def resume_transfer(self, transfer_id: int) -> None:
        self._ctx.resume(transfer_id)

    def rank_transfers(self, ranks: dict[int, float]) -> None:
        """Queued transfers of a batch start lowest rank first (a GUI's row order)."""
        self._ctx.ranks.update({tid: r for tid, r in ranks.items() if tid in self._ctx.controls})

    # -- single transfers --------------------------------------------------------------------
    def transfer(self, spec: TransferSpec) -> TransferHandle:
        """Run one spec now. A download into a folder (``local_root`` set) has its path
        derived from the key again and checked by the destination guard (``build_job``)."""
        job = build_job(self._ctx, spec)
        assert job.run is not None
        return self._start(job.control, spec, job.run)

    def _start(self, control: TransferControl, spec: TransferSpec, run: Runner) -> TransferHandle:
        task: asyncio.Task[Any] = self._spawn(run_tracked(self._ctx, control, run))
        track_task(self._ctx, control, task)
        return TransferHandle(self._ctx, control, task, spec)

    def upload_stream(
        self,
        chunks: AsyncIterable[bytes],
        bucket: str,
        key: str,
        *,
        size: int | None = None,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> TransferHandle:
        """Upload bytes as they arrive (an HTTP body, another store's GET) in a few parts'
        memory; a failing or cancelled source aborts it. See ``transfer/stream_upload.py``.
        Its spec names no local file: such a transfer cannot be restarted from the spec."""
        meta = tuple((metadata or {}).items())
        spec = TransferSpec.upload(
            STREAM_SOURCE, bucket, key, size=size, content_type=content_type, metadata=meta
        )
        control = queue_job(self._ctx, spec)
        return self._start(
            control,
            spec,
            lambda: upload_stream(
                self._ctx,
                control,
                chunks,
                bucket,
                key,
                size=size,
                content_type=content_type,
                metadata=metadata,
            ),
        )

    def restart(self, spec: TransferSpec) -> TransferHandle:
        """Run a spec again (a failed or cancelled row's Retry): a new transfer of the same."""
        if spec.direction == "upload" and spec.local_path == STREAM_SOURCE:
            raise InvalidValueError("an upload from a stream cannot be restarted: resend it")
        return self.transfer(spec)

    def upload_file(
        self,
        path: str | Path,
        bucket: str,
        key: str,
        metadata: dict[str, str] | None = None,
        content_type: str | None = None,
    ) -> TransferHandle:
        meta = tuple((metadata or {}).items())
        spec = TransferSpec.upload(str(path), bucket, key, content_type=content_type, metadata=meta)
        return self.transfer(spec)

    def download_file(
        self, bucket: str, key: str, dest_path: str | Path, size: int | None = None,
        etag: str | None = None,
    ) -> TransferHandle:  # fmt: skip
        return self.transfer(
            TransferSpec.download(bucket, key, str(dest_path), size=size, etag=etag)
        )

    def copy_object(
        self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str
    ) -> TransferHandle:
        return self.transfer(TransferSpec.copy(src_bucket, src_key, dst_bucket, dst_key))

    # -- batches -----------------------------------------------------------------------------
    def run_batch(
        self,
        plan: AsyncIterator[PlanItem] | Iterable[TransferSpec],
        *,
        keep_results: bool = True,
        where: str = "",
        guard: DestinationGuard | None = None,
        resume_id: int | None = None,
    ) -> BatchHandle:
        """Run planned items (or plain specs) with ``workers`` files at a time.
        ``resume_id``: the journal's batch record (``journal.open_batch``): what it lists
        as done is not sent again."""
        items = plan if isinstance(plan, AsyncIterator) else planned(plan)
        batch = Batch(self._ctx, self.transfer_config.workers, keep_results, guard, resume_id)
        task: asyncio.Task[Any] = self._spawn(batch.run(items, where))
        return BatchHandle(batch, task)

    def upload_paths(
        self,
        sources: Sequence[str | Path],
        bucket: str,
        prefix: str = "",
        filters: FilterRules = None,
        keep_dir_names: bool = True,
        keep_results: bool = True,
        resume_id: int | None = None,
        options: UploadOptions = NO_UPLOAD_OPTIONS,
    ) -> BatchHandle:
        """Files upload as ``prefix + name``; a folder ``d`` as ``prefix + d/relative/path``
        (``keep_dir_names=False``: its contents go straight under ``prefix``, like ``aws s3
        cp -r``). ``filters``: include/exclude rules; ``options``: Content-Type & co."""
        cfg = self.transfer_config
        plan = plan_uploads(
            sources,
            bucket,
            prefix,
            keep_dir_names=keep_dir_names,
            filters=PathFilter.of(filters),
            follow_symlinks=cfg.follow_symlinks,
            dir_markers=cfg.create_dir_markers,
            options=options,
        )
        return self.run_batch(
            plan, keep_results=keep_results, where="local walk", resume_id=resume_id
        )

    def download_prefix(
        self,
        bucket: str,
        prefix: str,
        dest_dir: str | Path,
        filters: FilterRules = None,
        keep_results: bool = True,
        strip_prefix: str | None = None,
        resume_id: int | None = None,
    ) -> BatchHandle:
        """Listing pages stream straight into the worker pool: the first file starts
        downloading while later pages are still being listed. Keys land under ``dest_dir``
        without ``strip_prefix`` (default: up to the prefix's last ``/``)."""
        strip = prefix[: prefix.rfind("/") + 1] if strip_prefix is None else strip_prefix
        return self.download_keys(
            bucket,
            self.iter_objects(bucket, prefix, ordered=False),
            dest_dir,
            strip_prefix=strip,
            filters=filters,
            keep_results=keep_results,
            where=f"s3://{bucket}/{prefix}",
            resume_id=resume_id,
        )

    def download_keys(
        self,
        bucket: str,
        objects: Listed,
        dest_dir: str | Path,
        strip_prefix: str = "",
        filters: FilterRules = None,
        keep_results: bool = True,
        where: str = "",
        resume_id: int | None = None,
    ) -> BatchHandle:
        dest_root = Path(dest_dir)
        plan = plan_downloads(
            objects,
            bucket,
            dest_root,
            strip_prefix=strip_prefix,
            filters=PathFilter.of(filters),
        )
        guard = DestinationGuard(dest_root, strip_prefix)
        return self.run_batch(
            plan, keep_results=keep_results, where=where, guard=guard, resume_id=resume_id
        )

    def copy_prefix(
        self,
        src_bucket: str,
        src_prefix: str,
        dst_bucket: str,
        dst_prefix: str = "",
        filters: FilterRules = None,
        keep_results: bool = True,
        resume_id: int | None = None,
    ) -> BatchHandle:
        """Copies of every key under ``src_prefix`` to ``dst_prefix + rest`` (server-side, or
        relayed from ``source``); a destination inside the source is refused at once
        (``InvalidValueError``)."""
        if self.source is None:
            check_copy_prefixes(src_bucket, src_prefix, dst_bucket, dst_prefix)
        plan = plan_copies(
            self.source_side.iter_objects(src_bucket, src_prefix, ordered=False),
            src_bucket,
            src_prefix,
            dst_bucket,
            dst_prefix,
            filters=PathFilter.of(filters),
        )
        return self.run_batch(
            plan,
            keep_results=keep_results,
            where=f"s3://{src_bucket}/{src_prefix}",
            resume_id=resume_id,
        )


__all__ = ["DELETE_BATCH", "BatchHandle", "Engine", "TransferHandle", "journal_endpoint"]
