"""Sequential listings: one page at a time, so a million-key prefix never sits in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator

from s3z_core.config import require_positive
from s3z_core.errors import DamagedListingError, ProtocolError
from s3z_core.models import ListPage, ObjectInfo
from s3z_core.operations import S3Operations


async def paginate_objects(
    ops: S3Operations,
    bucket: str,
    *,
    prefix: str = "",
    delimiter: str | None = None,
    start_after: str | None = None,
    page_size: int = 1000,
) -> AsyncIterator[ListPage]:
    """ListObjectsV2 pages until IsTruncated is false (continuation tokens are opaque)."""
    require_positive("page_size", page_size)
    token: str | None = None
    while True:
        page = await ops.list_objects_v2(
            bucket,
            prefix=prefix,
            delimiter=delimiter,
            start_after=start_after,
            continuation_token=token,
            max_keys=min(page_size, 1000),
        )
        yield page
        if not page.is_truncated:
            return
        if not page.next_token or page.next_token == token:
            # Stopping here would silently drop the rest of the listing.
            raise ProtocolError(
                f"ListObjectsV2 s3://{bucket}/{prefix}: truncated page without a new "
                "continuation token"
            )
        token = page.next_token


async def iter_objects(
    ops: S3Operations, bucket: str, prefix: str = "", start_after: str | None = None
) -> AsyncIterator[ObjectInfo]:
    """Every object under ``prefix``; entries that did not parse are raised as one
    ``DamagedListingError`` after all the good ones (named, never silently dropped)."""
    damaged: list[tuple[str, str]] = []
    async for page in paginate_objects(ops, bucket, prefix=prefix, start_after=start_after):
        damaged.extend((d.key, d.reason) for d in page.damaged)
        for obj in page.objects:
            yield obj
    if damaged:
        raise DamagedListingError(f"ListObjectsV2 s3://{bucket}/{prefix}", damaged)
