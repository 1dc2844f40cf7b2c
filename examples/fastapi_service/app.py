"""The FastAPI app: s3z_core's public Engine API behind HTTP, with OpenAPI docs at /docs.

One Engine lives for the app's lifespan (its connection pool, request cap and event sink
are shared by every request). Bodies stream both ways: an upload's request body goes
straight into ``Engine.upload_stream`` (a multipart upload in a few parts' memory, aborted
if the client disconnects), a download's response is ``Engine.open_stream``. Engine errors
become JSON errors with a status from ``errors.http_status``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from examples.fastapi_service.copies import CopyTracker
from examples.fastapi_service.errors import (
    ERROR_RESPONSES,
    engine_error_handler,
    http_error_handler,
)
from examples.fastapi_service.models import (
    Bucket,
    CopyRequest,
    CopyStatus,
    ObjectEntry,
    ObjectPage,
    PresignRequest,
    PresignResult,
    UploadResult,
)
from s3z_core.config import MiB, TransferConfig
from s3z_core.engine import Engine
from s3z_core.errors import AccessDeniedError, NoSuchBucketError, S3zError, ServiceError
from s3z_core.models import ListPage, ObjectHead, ObjectInfo

EngineFactory = Callable[[], Engine]
# Past every key that starts with a common prefix: the next page's start_after (keys are
# compared as UTF-8 bytes, and U+10FFFF is the largest code point).
PAST_PREFIX = "\U0010ffff"
# A DeleteObjects entry that failed, as the typed error the engine would have raised.
DELETE_FAILURES: dict[str, tuple[type[ServiceError], int]] = {
    "AccessDenied": (AccessDeniedError, 403),
    "NoSuchBucket": (NoSuchBucketError, 404),
}

BucketName = Annotated[str, Path(min_length=1, description="Bucket name")]
ObjectKey = Annotated[str, Path(min_length=1, description="Object key (may contain /)")]


# Memory per upload: (1 in flight + 1 being received) × 5 MiB, so a service of ~63 MiB
# (Python, uvicorn, FastAPI, aiohttp) stays under 80 MiB while it takes a 200 MiB upload.
# The engine's defaults (8 MiB parts, 2 in flight: 24 MiB per upload) favour throughput.
SERVICE_TRANSFERS = TransferConfig(part_size=5 * MiB, concurrency=1)


def default_engine() -> Engine:
    """Endpoint, region and credentials from the environment or a profile, like the CLI."""
    return Engine.from_settings(transfer_config=SERVICE_TRANSFERS)


def entry(obj: ObjectInfo) -> ObjectEntry:
    return ObjectEntry(
        key=obj.key,
        size=obj.size,
        etag=obj.etag,
        last_modified=obj.last_modified,
        storage_class=obj.storage_class,
    )


def next_start_after(page: ListPage) -> str | None:
    if not page.is_truncated:
        return None
    last_key = page.objects[-1].key if page.objects else ""
    last_prefix = page.common_prefixes[-1] + PAST_PREFIX if page.common_prefixes else ""
    return max(last_key, last_prefix) or None


def object_headers(head: ObjectHead) -> dict[str, str]:
    headers = {"Content-Length": str(head.size), "ETag": f'"{head.etag}"'}
    if head.last_modified is not None:
        headers["Last-Modified"] = head.last_modified.strftime("%a, %d %b %Y %H:%M:%S GMT")
    return headers


def create_app(engine_factory: EngineFactory | None = None) -> FastAPI:
    """The app; ``engine_factory`` builds its Engine at start-up (default: from the
    environment). Run it with ``uvicorn --factory examples.fastapi_service.app:create_app``."""
    make_engine = engine_factory or default_engine
    tracker = CopyTracker()
    state: dict[str, Engine] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine()
        engine.set_event_sink(tracker)
        state["engine"] = engine
        try:
            async with engine:  # closing it cancels what runs, aborting multipart uploads
                yield
        finally:
            await tracker.close()
            state.clear()

    def engine() -> Engine:
        return state["engine"]

    app = FastAPI(
        title="s3z service example",
        summary="s3z_core's transfer engine behind an HTTP API",
        version="0.1.0",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    app.add_exception_handler(S3zError, engine_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)

    @app.get("/buckets", tags=["buckets"])
    async def list_buckets() -> list[Bucket]:
        return [Bucket(name=b.name, created=b.created) for b in await engine().list_buckets()]

    @app.put("/buckets/{bucket}", status_code=201, tags=["buckets"])
    async def create_bucket(bucket: BucketName) -> Bucket:
        await engine().create_bucket(bucket)
        return Bucket(name=bucket, created=None)

    @app.get("/buckets/{bucket}/objects", tags=["objects"])
    async def list_objects(
        bucket: BucketName,
        prefix: str = "",
        delimiter: Annotated[str | None, Query(max_length=1)] = None,
        start_after: Annotated[str | None, Query(description="next_start_after of a page")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> ObjectPage:
        """One page of the listing (at most ``limit`` objects and prefixes)."""
        pages = engine().list_objects(
            bucket, prefix=prefix, delimiter=delimiter, start_after=start_after, page_size=limit
        )
        try:
            page = await anext(pages)
        finally:
            await _close(pages)
        return ObjectPage(
            bucket=bucket,
            prefix=prefix,
            delimiter=delimiter,
            objects=[entry(o) for o in page.objects],
            common_prefixes=page.common_prefixes,
            is_truncated=page.is_truncated,
            next_start_after=next_start_after(page),
        )

    @app.get(
        "/buckets/{bucket}/objects.ndjson",
        tags=["objects"],
        response_class=StreamingResponse,
        responses={200: {"content": {"application/x-ndjson": {}}}},
    )
    async def stream_objects(bucket: BucketName, prefix: str = "") -> StreamingResponse:
        """Every object under ``prefix``, one JSON line each, streamed as the store's pages
        arrive (a million keys never sit in the service's memory)."""
        objects = engine().iter_objects(bucket, prefix)
        first = await anext(objects, None)  # a missing bucket is a 404, not a broken 200

        async def lines() -> AsyncIterator[bytes]:
            try:
                if first is not None:
                    yield entry(first).model_dump_json().encode() + b"\n"
                async for obj in objects:
                    yield entry(obj).model_dump_json().encode() + b"\n"
            finally:
                await _close(objects)

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    @app.put(
        "/buckets/{bucket}/objects/{key:path}",
        status_code=201,
        tags=["objects"],
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        },
    )
    async def upload(bucket: BucketName, key: ObjectKey, request: Request) -> UploadResult:
        """The body streams into a multipart upload (never buffered whole); a client that
        disconnects mid-body aborts it. Content-Length, when sent, is enforced."""
        length = request.headers.get("content-length")
        if length is not None and not length.isdigit():
            raise HTTPException(400, "Content-Length must be a number")
        handle = engine().upload_stream(
            request.stream(),
            bucket,
            key,
            size=int(length) if length is not None else None,
            content_type=request.headers.get("content-type"),
        )
        try:
            result = await handle.result()
        except asyncio.CancelledError:
            handle.cancel()  # the request was cancelled: the upload must not outlive it
            raise
        return UploadResult(
            bucket=bucket,
            key=key,
            size=result.size,
            etag=result.etag,
            parts=result.parts,
            elapsed_s=result.elapsed_s,
        )

    @app.get(
        "/buckets/{bucket}/objects/{key:path}",
        tags=["objects"],
        response_class=StreamingResponse,
        responses={200: {"content": {"application/octet-stream": {}}}},
    )
    async def download(bucket: BucketName, key: ObjectKey) -> StreamingResponse:
        """The object's bytes, streamed from the store as they arrive."""
        head = await engine().head_object(bucket, key)  # 404 before any byte is sent

        async def body() -> AsyncIterator[bytes]:
            async with engine().open_stream(bucket, key) as chunks:
                async for chunk in chunks:
                    yield chunk

        return StreamingResponse(
            body(),
            media_type=head.content_type or "application/octet-stream",
            headers=object_headers(head),
        )

    @app.head("/buckets/{bucket}/objects/{key:path}", tags=["objects"])
    async def head(bucket: BucketName, key: ObjectKey) -> Response:
        info = await engine().head_object(bucket, key)
        return Response(
            headers=object_headers(info),
            media_type=info.content_type or "application/octet-stream",
        )

    @app.delete("/buckets/{bucket}/objects/{key:path}", status_code=204, tags=["objects"])
    async def delete(bucket: BucketName, key: ObjectKey) -> Response:
        await engine().head_object(bucket, key)  # S3 deletes missing keys silently; we say 404
        result = await engine().delete_objects(bucket, [key])
        if result.failures:
            failure = result.failures[0]
            cls, status = DELETE_FAILURES.get(failure.code, (ServiceError, 500))
            raise cls(
                code=failure.code,
                status=status,
                message=failure.message,
                operation="DeleteObjects",
                bucket=bucket,
                key=key,
            )
        return Response(status_code=204)

    @app.post("/buckets/{bucket}/presign", tags=["objects"])
    async def presign(bucket: BucketName, body: PresignRequest) -> PresignResult:
        """A presigned URL: the client then talks to the store directly."""
        url = engine().presign(bucket, body.key, expires_s=body.expires_s, method=body.method)
        return PresignResult(url=url, method=body.method, expires_s=body.expires_s)

    @app.post("/copies", status_code=202, tags=["copies"])
    async def start_copy(body: CopyRequest, response: Response) -> CopyStatus:
        """Start a server-side copy of a prefix in the background; poll its ``id``."""
        for name in (body.source_bucket, body.destination_bucket):
            if not await engine().bucket_exists(name):
                raise NoSuchBucketError(
                    code="NoSuchBucket",
                    status=404,
                    message="The specified bucket does not exist",
                    operation="HeadBucket",
                    bucket=name,
                )
        status = tracker.start(engine(), body)
        response.headers["Location"] = f"/copies/{status.id}"
        return status

    @app.get("/copies/{copy_id}", tags=["copies"])
    async def copy_status(copy_id: str) -> CopyStatus:
        return _found(tracker.status(copy_id), copy_id)

    @app.delete("/copies/{copy_id}", status_code=202, tags=["copies"])
    async def cancel_copy(copy_id: str) -> CopyStatus:
        return _found(tracker.cancel(copy_id), copy_id)

    return app


def _found(status: CopyStatus | None, copy_id: str) -> CopyStatus:
    if status is None:
        raise HTTPException(404, f"no copy {copy_id!r}")
    return status


async def _close(iterator: object) -> None:
    """Close an engine listing we stopped reading early (it holds no page beyond that)."""
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        await aclose()


__all__ = ["create_app"]
