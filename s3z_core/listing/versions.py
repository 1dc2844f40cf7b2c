"""Every version of every key under a prefix, page by page (ListObjectVersions).

A bucket with 100,000+ versions is never held whole: pages stream to the caller, and a
page's damaged entries travel with it (the rest of the page is still good). Markers, not
tokens: the next page starts after (key, version id), so a server that answers a truncated
page without moving the markers on would loop forever; that is a ``ProtocolError``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from s3z_core.config import require_positive
from s3z_core.errors import ProtocolError
from s3z_core.models import VersionPage
from s3z_core.operations import S3Operations


async def paginate_versions(
    ops: S3Operations,
    bucket: str,
    *,
    prefix: str = "",
    delimiter: str | None = None,
    page_size: int = 1000,
) -> AsyncIterator[VersionPage]:
    require_positive("page_size", page_size)
    key_marker: str | None = None
    version_marker: str | None = None
    while True:
        page = await ops.list_object_versions(
            bucket,
            prefix=prefix,
            delimiter=delimiter,
            key_marker=key_marker,
            version_id_marker=version_marker,
            max_keys=min(page_size, 1000),
        )
        yield page
        if not page.is_truncated:
            return
        markers = (page.next_key_marker, page.next_version_id_marker)
        if not page.next_key_marker or markers == (key_marker, version_marker):
            raise ProtocolError(
                f"ListObjectVersions s3://{bucket}/{prefix}: truncated page without new "
                "markers; the listing cannot continue"
            )
        key_marker, version_marker = markers
