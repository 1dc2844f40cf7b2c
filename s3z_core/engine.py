"""Engine: the one public async facade used by the CLI, the GUI, the bench and Python users.

    import asyncio
    from s3z_core import Engine

    async def main() -> None:
        async with Engine.from_settings(endpoint_url="http://127.0.0.1:8333") as engine:
            handle = engine.upload_file("big.iso", "my-bucket", "isos/big.iso")
            print(await handle.result())

    asyncio.run(main())

Every transfer starts at once as tasks on the running loop and returns a handle
(await it, cancel, pause, resume). Progress arrives as events on the loop thread.
Cancellation, Ctrl-C and ``close()`` abort in-flight multipart uploads and remove
download temp files before they finish.
"""

from __future__ import annotations

import asyncio
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
    Sequence,
)
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from s3z_core.config import ClientConfig, RetryPolicy, TransferConfig
from s3z_core.credentials import Credentials, resolve_settings
from s3z_core.errors import (
    CredentialsError,
    LocalFileError,
    NoSuchBucketError,
    S3zError,
    ServiceError,
    UnsafeKeyError,
)
from s3z_core.events import (
    EventSink,
    RequestRetried,
    TransferEvent,
    TransferStarted,
    Verification,
    ignore_event,
)
from s3z_core.listing import iter_objects, paginate_objects
from s3z_core.models import (
    BatchResult,
    BucketInfo,
    DeleteFailure,
    DeleteResult,
    ListPage,
    MultipartUploadInfo,
    ObjectHead,
    ObjectInfo,
    TransferResult,
)
from s3z_core.operations import S3Operations
from s3z_core.transfer.batch import Batch, Job, queue_job, run_tracked, track_task
from s3z_core.transfer.control import TransferContext, TransferControl
from s3z_core.transfer.copy import check_copy_prefixes, copy_object, copy_prefix_jobs
from s3z_core.transfer.download import download_file
from s3z_core.transfer.paths import DestinationGuard, is_dir_marker, relative_key
from s3z_core.transfer.stream_upload import STREAM_SOURCE, upload_stream
from s3z_core.transfer.upload import upload_file
from s3z_core.transfer.walk import matches, walk_sources
from s3z_core.transport.client import RetryNotice, S3Client
from s3z_core.transport.error_mapping import TRANSPORT_EXCEPTIONS, transport_error

DELETE_BATCH = 1000
DELETE_PARALLEL = 4


class TransferHandle:
    """One running transfer. ``await handle`` or ``await handle.result()``."""

    def __init__(
        self,
        ctx: TransferContext,
        control: TransferControl,
        task: asyncio.Task[TransferResult],
        source: str,
        destination: str,
    ) -> None:
        self._ctx = ctx
        self._control = control
        self._task = task
        self.transfer_id = control.transfer_id
        self.source = source
        self.destination = destination

    async def result(self) -> TransferResult:
        """The result; raises the typed error, or CancelledError if it was cancelled."""
        return await asyncio.shield(self._task)

    def __await__(self) -> Generator[Any, None, TransferResult]:
        return self.result().__await__()

    def cancel(self) -> None:
        self._control.gate.resume()
        self._task.cancel()

    def pause(self) -> None:
        self._ctx.pause(self.transfer_id)

    def resume(self) -> None:
        self._ctx.resume(self.transfer_id)

    def done(self) -> bool:
        return self._task.done()

    @property
    def state(self) -> str:
        if not self._task.done():
            return "paused" if self._control.gate.paused else "running"
        if self._task.cancelled():
            return "cancelled"
        return "failed" if self._task.exception() is not None else "completed"


class BatchHandle:
    """Many transfers as one job; per-file failures are in the result, never raised."""

    def __init__(self, batch: Batch, task: asyncio.Task[BatchResult]) -> None:
        self._batch = batch
        self._task = task

    @property
    def transfer_ids(self) -> list[int]:
        return list(self._batch.transfer_ids)

    async def result(self) -> BatchResult:
        return await asyncio.shield(self._task)

    def __await__(self) -> Generator[Any, None, BatchResult]:
        return self.result().__await__()

    def cancel(self) -> None:
        self._batch.gate.resume()
        self._task.cancel()

    def pause(self) -> None:
        self._batch.gate.pause()

    def resume(self) -> None:
        self._batch.gate.resume()

    def done(self) -> bool:
        return self._task.done()


class Engine:
    def __init__(
        self,
        client_config: ClientConfig | None = None,
        credentials: Credentials | None = None,
        transfer_config: TransferConfig | None = None,
        on_event: EventSink | None = None,
    ) -> None:
        self.client_config = client_config or ClientConfig()
        self.transfer_config = transfer_config or TransferConfig()
        self._sink: EventSink = on_event or ignore_event
        self._client = S3Client(self.client_config, credentials, on_retry=self._request_retried)
        self.ops = S3Operations(self._client)
        self._ctx = TransferContext(self.ops, self.transfer_config, lambda: self._sink)
        self._tasks: set[asyncio.Task[Any]] = set()

    def __repr__(self) -> str:
        return f"Engine({self._client!r})"

    @classmethod
    def from_settings(
        cls,
        *,
        profile: str | None = None,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        session_token: str | None = None,
        addressing_style: str | None = None,
        verify_ssl: bool = True,
        transfer_config: TransferConfig | None = None,
        on_event: EventSink | None = None,
        retry: RetryPolicy | None = None,
    ) -> Engine:
        """Resolve credentials/region/endpoint like the AWS CLI, then build the engine."""
        settings = resolve_settings(
            access_key=access_key,
            secret_key=secret_key,
            session_token=session_token,
            profile=profile,
            region=region,
            endpoint_url=endpoint_url,
        )
        if settings.credentials is None:
            raise CredentialsError(
                "no credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                "use --profile, or pass --access-key/--secret-key"
            )
        tc = transfer_config or TransferConfig()
        config = ClientConfig(
            endpoint_url=settings.endpoint_url,
            region=settings.region or "us-east-1",
            addressing_style=(addressing_style or settings.addressing_style or "auto"),  # type: ignore[arg-type]
            verify_ssl=verify_ssl,
            max_connections=max(tc.max_in_flight_requests, tc.workers) + 8,
            retry=retry or RetryPolicy(),
        )
        return cls(config, settings.credentials, tc, on_event)

    # -- lifecycle ---------------------------------------------------------------------------
    async def __aenter__(self) -> Engine:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Cancel what still runs (aborting multipart uploads, removing temp files), then close."""
        pending = [t for t in self._tasks if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        await self._client.close()

    def set_event_sink(self, sink: EventSink | None) -> None:
        self._sink = sink or ignore_event

    def _emit(self, event: TransferEvent) -> None:
        self._sink(event)

    def _request_retried(self, notice: RetryNotice) -> None:
        self._emit(RequestRetried(notice.operation, notice.attempt, notice.reason, notice.delay_s))

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- buckets and objects -----------------------------------------------------------------
    async def list_buckets(self) -> list[BucketInfo]:
        return await self.ops.list_buckets()

    async def create_bucket(self, bucket: str) -> None:
        await self.ops.create_bucket(bucket)

    async def bucket_exists(self, bucket: str) -> bool:
        try:
            await self.ops.head_bucket(bucket)
        except NoSuchBucketError:
            return False
        return True

    async def delete_bucket(self, bucket: str, force: bool = False) -> None:
        if force:
            result = await self.delete_prefix(bucket, "")
            if result.failures:
                first = result.failures[0]
                raise S3zError(
                    f"DeleteBucket s3://{bucket}: {len(result.failures)} objects could not be "
                    f"deleted (first: {first.key!r}: {first.code})"
                )
            for upload in await self.ops.list_multipart_uploads(bucket):
                await self.ops.abort_multipart_upload(bucket, upload.key, upload.upload_id)
        await self.ops.delete_bucket(bucket)

    def list_objects(
        self,
        bucket: str,
        prefix: str = "",
        delimiter: str | None = None,
        start_after: str | None = None,
        page_size: int = 1000,
    ) -> AsyncIterator[ListPage]:
        return paginate_objects(
            self.ops,
            bucket,
            prefix=prefix,
            delimiter=delimiter,
            start_after=start_after,
            page_size=page_size,
        )

    def iter_objects(self, bucket: str, prefix: str = "") -> AsyncIterator[ObjectInfo]:
        return iter_objects(self.ops, bucket, prefix)

    async def head_object(self, bucket: str, key: str) -> ObjectHead:
        return await self.ops.head_object(bucket, key)

    async def delete_objects(self, bucket: str, keys: Iterable[str]) -> DeleteResult:
        """Batched by 1000 keys, a few batches in flight; per-key failures are returned."""
        result = DeleteResult(deleted=[], failures=[])
        batch: list[str] = []
        running: set[asyncio.Task[DeleteResult]] = set()

        async def drain(limit: int) -> None:
            while len(running) > limit:
                done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    running.discard(task)
                    part = task.result()
                    result.deleted.extend(part.deleted)
                    result.failures.extend(part.failures)

        try:
            for key in keys:
                if _has_control_chars(key):
                    # Some stores reject a whole DeleteObjects document holding such a key
                    # (SeaweedFS: MalformedXML); one DeleteObject per such key always works.
                    await self._delete_one(bucket, key, result)
                    continue
                batch.append(key)
                if len(batch) == DELETE_BATCH:
                    running.add(asyncio.ensure_future(self.ops.delete_objects(bucket, batch)))
                    batch = []
                    await drain(DELETE_PARALLEL - 1)
            if batch:
                running.add(asyncio.ensure_future(self.ops.delete_objects(bucket, batch)))
            await drain(0)
        finally:
            for task in running:
                task.cancel()
        return result

    async def _delete_one(self, bucket: str, key: str, result: DeleteResult) -> None:
        try:
            await self.ops.delete_object(bucket, key)
        except ServiceError as exc:
            result.failures.append(DeleteFailure(key, exc.code, exc.message))
        else:
            result.deleted.append(key)

    async def delete_prefix(self, bucket: str, prefix: str) -> DeleteResult:
        keys: list[str] = []
        total = DeleteResult(deleted=[], failures=[])
        async for obj in self.iter_objects(bucket, prefix):
            keys.append(obj.key)
            if len(keys) >= DELETE_BATCH * DELETE_PARALLEL:
                part = await self.delete_objects(bucket, keys)
                total.deleted.extend(part.deleted)
                total.failures.extend(part.failures)
                keys = []
        if keys:
            part = await self.delete_objects(bucket, keys)
            total.deleted.extend(part.deleted)
            total.failures.extend(part.failures)
        return total

    async def put_bytes(
        self,
        bucket: str,
        key: str,
        data: bytes,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> str:
        return await self.ops.put_object(
            bucket, key, data, content_type=content_type, metadata=metadata
        )

    async def get_bytes(self, bucket: str, key: str) -> bytes:
        return await self.ops.get_object_bytes(bucket, key)

    @asynccontextmanager
    async def open_stream(self, bucket: str, key: str) -> AsyncIterator[AsyncIterator[bytes]]:
        """Stream an object's bytes (``cat``) without holding it in memory."""
        async with self._client.open_get(bucket, key) as resp:

            async def chunks() -> AsyncIterator[bytes]:
                while True:
                    try:
                        chunk, _ = await resp.content.readchunk()
                    except TRANSPORT_EXCEPTIONS as exc:
                        raise transport_error(
                            exc, operation="GetObject", target=f"s3://{bucket}/{key}"
                        ) from None
                    if not chunk:
                        return
                    yield chunk

            yield chunks()

    def presign(self, bucket: str, key: str, expires_s: int = 3600, method: str = "GET") -> str:
        return self._client.presign(method, bucket, key, expires_s)

    async def list_multipart_uploads(
        self, bucket: str, prefix: str = ""
    ) -> list[MultipartUploadInfo]:
        return await self.ops.list_multipart_uploads(bucket, prefix)

    async def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        await self.ops.abort_multipart_upload(bucket, key, upload_id)

    # -- transfer control by id (the GUI queue's buttons) -----------------------------------
    def cancel_transfer(self, transfer_id: int) -> bool:
        return self._ctx.cancel(transfer_id)

    def pause_transfer(self, transfer_id: int) -> None:
        self._ctx.pause(transfer_id)

    def resume_transfer(self, transfer_id: int) -> None:
        self._ctx.resume(transfer_id)

    # -- single transfers --------------------------------------------------------------------
    def _single(
        self,
        direction: str,
        source: str,
        destination: str,
        size: int | None,
        run: Callable[[TransferControl], Awaitable[TransferResult]],
    ) -> TransferHandle:
        control = queue_job(self._ctx, direction, source, destination, size)  # type: ignore[arg-type]
        task: asyncio.Task[TransferResult] = self._spawn(
            run_tracked(self._ctx, control, lambda: run(control))
        )
        track_task(self._ctx, control, task)
        return TransferHandle(self._ctx, control, task, source, destination)

    def upload_file(
        self,
        path: str | Path,
        bucket: str,
        key: str,
        metadata: dict[str, str] | None = None,
        content_type: str | None = None,
    ) -> TransferHandle:
        src = str(path)
        size = _size_or_none(src)
        return self._single(
            "upload",
            src,
            f"s3://{bucket}/{key}",
            size,
            lambda c: upload_file(
                self._ctx, c, src, bucket, key, metadata=metadata, content_type=content_type
            ),
        )

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
        memory; a failing or cancelled source aborts it. See ``transfer/stream_upload.py``."""
        return self._single(
            "upload",
            STREAM_SOURCE,
            f"s3://{bucket}/{key}",
            size,
            lambda c: upload_stream(
                self._ctx,
                c,
                chunks,
                bucket,
                key,
                size=size,
                content_type=content_type,
                metadata=metadata,
            ),
        )

    def download_file(
        self,
        bucket: str,
        key: str,
        dest_path: str | Path,
        size: int | None = None,
        etag: str | None = None,
    ) -> TransferHandle:
        dest = Path(dest_path)
        return self._single(
            "download",
            f"s3://{bucket}/{key}",
            str(dest),
            size,
            lambda c: download_file(self._ctx, c, bucket, key, dest, size=size, etag=etag),
        )

    def copy_object(
        self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str
    ) -> TransferHandle:
        return self._single(
            "copy",
            f"s3://{src_bucket}/{src_key}",
            f"s3://{dst_bucket}/{dst_key}",
            None,
            lambda c: copy_object(self._ctx, c, src_bucket, src_key, dst_bucket, dst_key),
        )

    # -- batches -----------------------------------------------------------------------------
    def _batch(
        self, jobs: Callable[[Batch], AsyncIterator[Job]], keep_results: bool = True
    ) -> BatchHandle:
        batch = Batch(self._ctx, self.transfer_config.workers, keep_results)
        task: asyncio.Task[BatchResult] = self._spawn(batch.run(jobs(batch)))
        return BatchHandle(batch, task)

    def upload_paths(
        self,
        sources: Sequence[str | Path],
        bucket: str,
        prefix: str = "",
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        keep_dir_names: bool = True,
        keep_results: bool = True,
    ) -> BatchHandle:
        """Files upload as ``prefix + name``; a folder ``d`` as ``prefix + d/relative/path``
        (``keep_dir_names=False``: its contents go straight under ``prefix``, like
        ``aws s3 cp -r``)."""
        cfg = self.transfer_config

        async def jobs(batch: Batch) -> AsyncIterator[Job]:
            for entry in walk_sources(
                sources,
                prefix,
                keep_dir_names=keep_dir_names,
                follow_symlinks=cfg.follow_symlinks,
                dir_markers=cfg.create_dir_markers,
                include=include,
                exclude=exclude,
            ):
                if entry.skipped:
                    batch.result.skipped.append((entry.path, entry.skipped))
                    continue
                dest = f"s3://{bucket}/{entry.key}"  # a marker's key ends with "/" already
                control = queue_job(
                    self._ctx,
                    "upload",
                    entry.path,
                    dest,
                    0
                    if entry.is_dir_marker
                    else None
                    if entry.error
                    else _size_or_none(entry.path),
                    batch.gate,
                )
                if entry.error is not None:
                    yield Job(control, entry.path, dest, None, entry.error)
                elif entry.is_dir_marker:
                    yield Job(
                        control,
                        entry.path,
                        dest,
                        self._marker_job(control, bucket, entry.key),
                    )
                else:
                    yield Job(
                        control,
                        entry.path,
                        dest,
                        _bind_upload(self._ctx, control, entry.path, bucket, entry.key),
                    )
                await asyncio.sleep(0)  # let workers start on the first files at once

        return self._batch(jobs, keep_results)

    def copy_prefix(
        self,
        src_bucket: str,
        src_prefix: str,
        dst_bucket: str,
        dst_prefix: str = "",
        keep_results: bool = True,
    ) -> BatchHandle:
        """Server-side copy of every object under ``src_prefix`` to ``dst_prefix`` + the rest
        of its key; raises ``InvalidValueError`` at once for a destination inside the source."""
        check_copy_prefixes(src_bucket, src_prefix, dst_bucket, dst_prefix)
        objects = self.iter_objects(src_bucket, src_prefix)
        return self._batch(
            copy_prefix_jobs(self._ctx, objects, src_bucket, src_prefix, dst_bucket, dst_prefix),
            keep_results,
        )

    def _marker_job(
        self, control: TransferControl, bucket: str, key: str
    ) -> Callable[[], Awaitable[TransferResult]]:
        async def run() -> TransferResult:
            self._emit(TransferStarted(control.transfer_id, 0, 1))
            etag = await self.ops.put_object(bucket, key, b"")
            return TransferResult(
                control.transfer_id,
                key,
                f"s3://{bucket}/{key}",
                0,
                etag,
                Verification.SIZE_ONLY,
                1,
                0.0,
            )

        return run

    def download_prefix(
        self,
        bucket: str,
        prefix: str,
        dest_dir: str | Path,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        keep_results: bool = True,
    ) -> BatchHandle:
        """Listing pages stream straight into the worker pool: the first file starts
        downloading while later pages are still being listed."""
        strip = prefix[: prefix.rfind("/") + 1]

        async def objects() -> AsyncIterator[ObjectInfo]:
            async for obj in self.iter_objects(bucket, prefix):
                if matches(relative_key(obj.key, strip), include, exclude):
                    yield obj

        return self.download_keys(
            bucket, objects(), dest_dir, strip_prefix=strip, keep_results=keep_results
        )

    def download_keys(
        self,
        bucket: str,
        objects: Iterable[ObjectInfo] | Iterable[str] | AsyncIterator[ObjectInfo],
        dest_dir: str | Path,
        strip_prefix: str = "",
        keep_results: bool = True,
    ) -> BatchHandle:
        dest_root = Path(dest_dir)
        guard = DestinationGuard(dest_root, strip_prefix)

        async def source() -> AsyncIterator[ObjectInfo | str]:
            if isinstance(objects, AsyncIterator):
                async for obj in objects:
                    yield obj
            else:
                for item in objects:
                    yield item

        async def jobs(batch: Batch) -> AsyncIterator[Job]:
            async for item in source():
                info = item if isinstance(item, ObjectInfo) else None
                key = info.key if info else str(item)
                src = f"s3://{bucket}/{key}"
                marker = info is not None and is_dir_marker(key, info.size)
                # The marker of the folder being downloaded ("New folder" writes one) names
                # the destination itself: created below like any marker, not refused.
                names_root = marker and not relative_key(key, strip_prefix).strip("/")
                try:
                    local = dest_root if names_root else guard.path_for(key)
                except UnsafeKeyError as exc:
                    control = queue_job(
                        self._ctx, "download", src, str(dest_root), None, batch.gate
                    )
                    yield Job(control, src, str(dest_root), None, exc)
                    continue
                size = info.size if info else None
                control = queue_job(self._ctx, "download", src, str(local), size, batch.gate)
                if marker:
                    yield Job(control, src, str(local), _bind_mkdir(self._ctx, control, src, local))
                else:
                    yield Job(
                        control,
                        src,
                        str(local),
                        _bind_download(self._ctx, control, bucket, key, local, info),
                    )

        return self._batch(jobs, keep_results)


def _has_control_chars(key: str) -> bool:
    return any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in key)


def _size_or_none(path: str) -> int | None:
    try:
        return Path(path).stat().st_size
    except OSError:
        return None


def _bind_upload(
    ctx: TransferContext, control: TransferControl, path: str, bucket: str, key: str
) -> Callable[[], Awaitable[TransferResult]]:
    return lambda: upload_file(ctx, control, path, bucket, key)


def _bind_download(
    ctx: TransferContext,
    control: TransferControl,
    bucket: str,
    key: str,
    local: Path,
    info: ObjectInfo | None,
) -> Callable[[], Awaitable[TransferResult]]:
    if info is None:
        return lambda: download_file(ctx, control, bucket, key, local)
    return lambda: download_file(
        ctx,
        control,
        bucket,
        key,
        local,
        size=info.size,
        etag=info.etag,
        mtime=info.last_modified,
    )


def _bind_mkdir(
    ctx: TransferContext, control: TransferControl, src: str, local: Path
) -> Callable[[], Awaitable[TransferResult]]:
    async def run() -> TransferResult:
        ctx.emit(TransferStarted(control.transfer_id, 0, 0))
        try:
            local.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - one syscall, no I/O wait
        except OSError as exc:
            raise LocalFileError(f"cannot create folder {local}: {exc.strerror}") from None
        return TransferResult(
            control.transfer_id, src, str(local), 0, "", Verification.SIZE_ONLY, 0, 0.0
        )

    return run


__all__ = ["BatchHandle", "Engine", "TransferHandle"]
