"""The Engine's bucket and object calls: each a thin, typed door to the operation or pipeline
that does the work (listings stream page by page, deletes go 1000 keys a request, a local
walk or delete runs in the file-system pool). Mixed into ``Engine``; no state of its own.
What only some calls use (the parallel listing, deletes, the local walk) loads in them:
``ls`` of one folder level imports none of it."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping
from contextlib import aclosing, asynccontextmanager
from typing import TYPE_CHECKING, Unpack

from s3z_core.config import GiB, TransferConfig, require_positive
from s3z_core.errors import NoSuchBucketError, ObjectChangedError, S3zError, ServiceError
from s3z_core.filesystem import iterate
from s3z_core.filters import FilterKind, PathFilter
from s3z_core.listing.pages import PageOptions, object_batches, one_at_a_time, paginate_objects
from s3z_core.listing.versions import paginate_versions
from s3z_core.models import (
    BucketInfo,
    DeleteResult,
    ListPage,
    MultipartUploadInfo,
    ObjectHead,
    ObjectInfo,
    Preview,
    VersionPage,
)
from s3z_core.operations import S3Operations
from s3z_core.transport.client import S3Client
from s3z_core.transport.messages import StreamHead

if TYPE_CHECKING:
    from s3z_core.search import KeyQuery
    from s3z_core.transfer.walk import LocalEntry

COPY_OBJECT_LIMIT = 5 * GiB
DEFAULT_CONTENT_TYPE = "application/octet-stream"

FilterRules = PathFilter | Iterable[tuple[FilterKind, str]] | None


class ObjectCalls:
    ops: S3Operations
    transfer_config: TransferConfig
    _client: S3Client

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
        self, bucket: str, prefix: str = "", **options: Unpack[PageOptions]
    ) -> AsyncIterator[ListPage]:
        return paginate_objects(self.ops, bucket, prefix=prefix, **options)

    def iter_objects(
        self, bucket: str, prefix: str = "", *, ordered: bool = True
    ) -> AsyncIterator[ObjectInfo]:
        """Every object under ``prefix``, listed as several key ranges at once when the prefix
        is big (one page: one request, as before). ``ordered=False`` lets ranges arrive as
        they finish (copies, deletes, sizes); each key still comes exactly once."""
        return one_at_a_time(self.iter_object_batches(bucket, prefix, ordered=ordered))

    def iter_object_batches(
        self, bucket: str, prefix: str = "", *, ordered: bool = True
    ) -> AsyncGenerator[list[ObjectInfo], None]:
        """``iter_objects`` a batch (at most a page) at a time: for a caller that handles
        thousands of keys a second (``ls -r``), one step per page instead of per key."""
        concurrency = self.transfer_config.list_concurrency
        if concurrency == 1:
            return object_batches(self.ops, bucket, prefix)
        from s3z_core.listing.parallel import paginate_parallel  # not for ls of one level

        return paginate_parallel(self.ops, bucket, prefix, concurrency=concurrency, ordered=ordered)

    async def search(
        self, bucket: str, prefix: str, query: str | KeyQuery
    ) -> AsyncIterator[ObjectInfo]:
        """Objects under ``prefix`` whose key below it matches ``query`` (a glob if it has
        ``*?[``, else a case-insensitive substring), streamed as the parallel listing's ranges
        arrive (not in key order). Stop iterating (or cancel the task) to stop the listing."""
        from s3z_core.search import KeyQuery

        wanted = query if isinstance(query, KeyQuery) else KeyQuery(query)
        start = len(prefix)
        objects = self.iter_objects(bucket, prefix, ordered=False)
        try:
            async for obj in objects:
                if wanted.matches(obj.key[start:]):
                    yield obj
        finally:  # a stopped search cancels the listing's requests now, not at collection
            if (close := getattr(objects, "aclose", None)) is not None:
                await close()

    async def head_object(self, bucket: str, key: str) -> ObjectHead:
        return await self.ops.head_object(bucket, key)

    async def delete_objects(
        self, bucket: str, keys: Iterable[str] | AsyncIterator[str]
    ) -> DeleteResult:
        """Batched by 1000 keys, a few batches in flight; per-key failures are returned."""
        from s3z_core.transfer.deletes import delete_keys

        return await delete_keys(self.ops, bucket, keys)

    async def delete_prefix(
        self, bucket: str, prefix: str, filters: FilterRules = None
    ) -> DeleteResult:
        """Every key under ``prefix`` (filtered on the name after it), listed as it goes."""
        from s3z_core.transfer.deletes import delete_keys

        rules = PathFilter.of(filters)

        async def keys() -> AsyncIterator[str]:
            async for obj in self.iter_objects(bucket, prefix, ordered=False):
                if rules.accepts(obj.key[len(prefix) :]):
                    yield obj.key

        return await delete_keys(self.ops, bucket, keys())

    async def delete_local_files(self, paths: Iterable[str]) -> DeleteResult:
        from s3z_core.transfer.deletes import delete_local_files

        return await delete_local_files(paths)

    def walk_local(self, root: str, filters: FilterRules = None) -> AsyncIterator[LocalEntry]:
        """The engine's one local walk of a folder (``sync`` compares it), off the loop."""
        from s3z_core.transfer.walk import walk_tree

        follow = self.transfer_config.follow_symlinks
        walk = walk_tree(root, follow_symlinks=follow, filters=PathFilter.of(filters))
        return iterate(walk)

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
        """Stream an object's bytes (``cat``) without holding it in memory; a body cut short
        resumes where it broke off, within the request's retry budget."""
        async with aclosing(self._client.stream(bucket, key)) as chunks:
            yield chunks

    async def preview(self, bucket: str, key: str, limit: int = 256 * 1024) -> Preview:
        """At most ``limit`` bytes from the start of an object, by one Range GET after a
        HEAD (an empty object gets no GET: a range of nothing is a 416). The bytes are
        pinned to the ETag the HEAD saw, so a preview never mixes two versions."""
        require_positive("limit", limit)
        head = await self.ops.head_object(bucket, key)
        wanted = min(limit, head.size)
        if not wanted:
            return Preview(head, b"")
        from s3z_core.transfer.download import VersionPin

        pin = VersionPin(head.etag)

        def pinned(answer: StreamHead) -> None:
            pin.check(answer.etag, bucket, key)

        chunks = [
            chunk
            async for chunk in self._client.stream(
                bucket, key, end=wanted, ranged=True, on_head=pinned
            )
        ]
        return Preview(head, b"".join(chunks))

    def presign(self, bucket: str, key: str, expires_s: int = 3600, method: str = "GET") -> str:
        return self._client.presign(method, bucket, key, expires_s)

    async def list_multipart_uploads(
        self, bucket: str, prefix: str = ""
    ) -> list[MultipartUploadInfo]:
        return await self.ops.list_multipart_uploads(bucket, prefix)

    async def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        await self.ops.abort_multipart_upload(bucket, key, upload_id)

    async def update_metadata(
        self,
        bucket: str,
        key: str,
        *,
        metadata: Mapping[str, str] | None = None,
        content_type: str | None = None,
        cache_control: str | None = None,
        expected_etag: str | None = None,
    ) -> ObjectHead:
        """Change an object's user metadata, Content-Type or Cache-Control in place (S3 has
        no edit: the object is copied onto itself with REPLACE; what is not given is kept).
        The copy is pinned to the ETag just read, so a concurrent upload is never undone
        (``PreconditionFailed``: read it again). ``expected_etag``: the version the edit
        was made on (a dialog's); another one is ``ObjectChangedError``, nothing changed.
        Objects over CopyObject's 5 GiB are refused before any request changes them.
        Returns the object as it is now."""
        head = await self.ops.head_object(bucket, key)
        if expected_etag is not None and head.etag != expected_etag:
            raise ObjectChangedError(
                f"s3://{bucket}/{key} was changed by someone else since it was opened "
                "(its ETag moved); nothing was saved: reopen it and edit again"
            )
        if head.size > COPY_OBJECT_LIMIT:
            raise S3zError(
                f"s3://{bucket}/{key}: metadata of objects over 5 GiB cannot be edited in place "
                "(CopyObject's limit); copy it with new metadata instead"
            )
        replace = {"Content-Type": content_type or head.content_type or DEFAULT_CONTENT_TYPE}
        caching = head.cache_control if cache_control is None else cache_control
        if caching:  # "" removes it
            replace["Cache-Control"] = caching
        try:
            await self.ops.copy_object(
                bucket,
                key,
                bucket,
                key,
                metadata=dict(head.metadata if metadata is None else metadata),
                replace_headers=replace,
                if_match=head.etag,
            )
        except ServiceError as exc:
            if exc.status != 412:
                raise
            raise ObjectChangedError(
                f"s3://{bucket}/{key} was replaced while saving (its ETag moved); "
                "nothing was saved: reopen it and edit again"
            ) from None
        return await self.ops.head_object(bucket, key)

    # -- versions ----------------------------------------------------------------------------
    def list_versions(
        self, bucket: str, prefix: str = "", delimiter: str | None = None, page_size: int = 1000
    ) -> AsyncIterator[VersionPage]:
        """Versions and delete markers under ``prefix``, a page at a time (newest first per
        key); with ``delimiter`` one folder level, as ``list_objects`` gives it."""
        return paginate_versions(
            self.ops, bucket, prefix=prefix, delimiter=delimiter, page_size=page_size
        )

    async def bucket_versioning(self, bucket: str) -> str:
        """``Enabled``, ``Suspended`` or ``""`` (never versioned)."""
        return await self.ops.bucket_versioning(bucket)

    async def set_bucket_versioning(self, bucket: str, enabled: bool) -> None:
        await self.ops.set_bucket_versioning(bucket, enabled)

    async def delete_version(self, bucket: str, key: str, version_id: str) -> None:
        """Remove one version or delete marker for good (removing the latest delete marker
        brings the key back as its newest remaining version)."""
        await self.ops.delete_object(bucket, key, version_id=version_id)

    async def restore_version(self, bucket: str, key: str, version_id: str) -> str:
        """Make an older version the current one by copying it onto its own key (server-side,
        metadata kept); the versions in between stay. Returns the new version's ETag.
        CopyObject's 5 GiB limit applies."""
        return await self.ops.copy_object(bucket, key, bucket, key, src_version_id=version_id)
