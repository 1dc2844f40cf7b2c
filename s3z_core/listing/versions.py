"""Every version of every key under a prefix, page by page (ListObjectVersions).

A bucket with 100,000+ versions is never held whole: pages stream to the caller, and a
page's damaged entries travel with it (the rest of the page is still good). Markers, not
tokens: the next page starts after (key, version id), so a server that answers a truncated
page without moving the markers on would loop forever; that is a ``ProtocolError``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable

from s3z_core.listing.pages import follow_pages
from s3z_core.models import VersionPage
from s3z_core.operations import S3Operations

Markers = tuple[str, str | None]  # the key, and the version id, the next page starts after


def paginate_versions(
    ops: S3Operations,
    bucket: str,
    *,
    prefix: str = "",
    delimiter: str | None = None,
    page_size: int = 1000,
) -> AsyncIterator[VersionPage]:
    def fetch(markers: Markers | None, max_keys: int) -> Awaitable[VersionPage]:
        key_marker, version_marker = markers or (None, None)
        return ops.list_object_versions(
            bucket,
            prefix=prefix,
            delimiter=delimiter,
            key_marker=key_marker,
            version_id_marker=version_marker,
            max_keys=max_keys,
        )

    def markers_after(page: VersionPage) -> Markers | None:
        if not page.next_key_marker:
            return None
        return page.next_key_marker, page.next_version_id_marker

    stuck = (
        f"ListObjectVersions s3://{bucket}/{prefix}: truncated page without new "
        "markers; the listing cannot continue"
    )
    return follow_pages(fetch, markers_after, page_size, stuck)
