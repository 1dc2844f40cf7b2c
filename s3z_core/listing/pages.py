"""Sequential listings: one page at a time, so a million-key prefix never sits in memory."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from typing import Protocol, TypedDict, TypeVar, Unpack

from s3z_core.config import require_positive
from s3z_core.errors import DamagedListingError, ProtocolError
from s3z_core.models import ListPage, ObjectInfo
from s3z_core.operations import S3Operations


class _Truncatable(Protocol):
    @property
    def is_truncated(self) -> bool: ...


Page = TypeVar("Page", bound=_Truncatable)
Cursor = TypeVar("Cursor")


async def follow_pages(
    fetch: Callable[[Cursor | None, int], Awaitable[Page]],
    cursor_after: Callable[[Page], Cursor | None],
    page_size: int,
    stuck: str,
) -> AsyncIterator[Page]:
    """``fetch(cursor, max_keys)`` from the start (cursor None) until a page is not
    truncated. A truncated page must move the cursor on (``cursor_after``): one that gives
    none, or the same again, would loop forever or silently drop the rest of the listing,
    so it raises ``ProtocolError(stuck)``."""
    require_positive("page_size", page_size)
    cursor: Cursor | None = None
    while True:
        page = await fetch(cursor, min(page_size, 1000))
        yield page
        if not page.is_truncated:
            return
        following = cursor_after(page)
        if following is None or following == cursor:
            raise ProtocolError(stuck)
        cursor = following


class PageOptions(TypedDict, total=False):
    """What a listing of pages may be asked besides its bucket and prefix, for the callers
    that pass it on (the engine's ``list_objects``) without restating each parameter."""

    delimiter: str | None
    start_after: str | None
    page_size: int


def paginate_objects(
    ops: S3Operations, bucket: str, *, prefix: str = "", **options: Unpack[PageOptions]
) -> AsyncIterator[ListPage]:
    """ListObjectsV2 pages until IsTruncated is false (continuation tokens are opaque)."""
    delimiter = options.get("delimiter")
    start_after = options.get("start_after")
    page_size = options.get("page_size", 1000)

    def fetch(token: str | None, max_keys: int) -> Awaitable[ListPage]:
        return ops.list_objects_v2(
            bucket,
            prefix=prefix,
            delimiter=delimiter,
            start_after=start_after,
            continuation_token=token,
            max_keys=max_keys,
        )

    stuck = f"ListObjectsV2 s3://{bucket}/{prefix}: truncated page without a new continuation token"
    return follow_pages(fetch, lambda page: page.next_token or None, page_size, stuck)


async def object_batches(
    ops: S3Operations, bucket: str, prefix: str = "", start_after: str | None = None
) -> AsyncGenerator[list[ObjectInfo], None]:
    """Every object under ``prefix``, a page's worth at a time; entries that did not parse
    are raised as one ``DamagedListingError`` after all the good ones (named, never
    silently dropped)."""
    damaged: list[tuple[str, str]] = []
    async for page in paginate_objects(ops, bucket, prefix=prefix, start_after=start_after):
        damaged.extend((d.key, d.reason) for d in page.damaged)
        if page.objects:
            yield page.objects
    if damaged:
        raise DamagedListingError(f"ListObjectsV2 s3://{bucket}/{prefix}", damaged)


async def one_at_a_time(
    batches: AsyncGenerator[list[ObjectInfo], None],
) -> AsyncIterator[ObjectInfo]:
    """A listing's batches, one object at a time; a caller that stops early closes the
    listing (its requests in flight are cancelled, not left running)."""
    async with aclosing(batches):
        async for batch in batches:
            for obj in batch:
                yield obj


def iter_objects(
    ops: S3Operations, bucket: str, prefix: str = "", start_after: str | None = None
) -> AsyncIterator[ObjectInfo]:
    """``object_batches``, one object at a time."""
    return one_at_a_time(object_batches(ops, bucket, prefix, start_after))
