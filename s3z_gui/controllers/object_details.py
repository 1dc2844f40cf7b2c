"""One object's details beyond the listing: its metadata saved after an edit, and the first
bytes for a quick look. Both run as the bridge's guarded commands on its engine.

Their outcome goes back to the dialog that asked (typed, like a connection test), not to
the status bar: the user is looking at the dialog, and an edit refused because someone
else changed the object must be said there, with nothing overwritten.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from s3z_core.errors import ObjectChangedError, S3zError
from s3z_core.models import ObjectHead
from s3z_core.specs import UploadOptions
from s3z_gui.models.preview_content import (
    IMAGE_LIMIT,
    PreviewContent,
    fetch_limit,
    needs_whole,
    preview_content,
)
from s3z_gui.models.transfer_store import describe_error

if TYPE_CHECKING:
    from s3z_gui.bridge import EngineBridge

#: What an object whose Content-Type field was emptied gets (S3's own default).
DEFAULT_CONTENT_TYPE = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class MetadataSaved:
    """The object as saved, or why not; ``changed``: someone else replaced it meanwhile."""

    head: ObjectHead | None = None
    error: str = ""
    changed: bool = False


class ObjectDetailsController:
    def __init__(self, bridge: EngineBridge) -> None:
        self._bridge = bridge

    def save_metadata(
        self, bucket: str, key: str, etag: str, edit: UploadOptions
    ) -> asyncio.Task[MetadataSaved | None]:
        """Replace the object's Content-Type, Cache-Control and user metadata with ``edit``
        (an empty field removes Cache-Control, makes Content-Type the default), only if
        it is still the version ``etag`` the dialog showed."""

        async def run() -> MetadataSaved:
            try:
                head = await self._bridge.engine.update_metadata(
                    bucket,
                    key,
                    metadata=dict(edit.metadata),
                    content_type=edit.content_type or DEFAULT_CONTENT_TYPE,
                    cache_control=edit.cache_control or "",
                    expected_etag=etag,
                )
            except ObjectChangedError as exc:
                return MetadataSaved(error=str(exc), changed=True)
            except S3zError as exc:
                return MetadataSaved(error=describe_error(exc))
            self._bridge.notice.emit(f"Saved the metadata of s3://{bucket}/{key}")
            return MetadataSaved(head)

        return self._bridge.commands.spawn(run(), f"Saving the metadata of s3://{bucket}/{key}")

    def preview(
        self, bucket: str, key: str, size: int | None = None
    ) -> asyncio.Task[PreviewContent | None]:
        """The first bytes (one Range GET under the limit for the kind its name suggests;
        ``size``: the listed one, if known), decoded for the quick look; an image whose name
        hid it is fetched whole once more when it fits the image limit."""

        async def run() -> PreviewContent:
            engine = self._bridge.engine
            preview = await engine.preview(bucket, key, limit=fetch_limit(key, size))
            if needs_whole(preview):
                preview = await engine.preview(bucket, key, limit=IMAGE_LIMIT)
            return await preview_content(preview)

        return self._bridge.commands.spawn(run(), f"Previewing s3://{bucket}/{key}")
