"""Versions: one open ListObjectVersions pager per versions table, and the version commands.

Paging works as for the object table (``controllers/listing.py``): a new location is a new
generation, the old pager is closed, a late page for an old location is dropped by the
model. A version downloads as a one-spec batch of the transfer controller (a queue row,
Retry, the quit question), its spec carrying the version id, so the file is that version's
bytes; restore and delete are the engine's ``restore_version`` and ``delete_version``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine, Sequence
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s3z_core.errors import S3zError
from s3z_core.models import BatchResult, VersionPage
from s3z_core.specs import TransferSpec
from s3z_core.transfer.paths import safe_local_path
from s3z_gui.models.listing import parent_prefix
from s3z_gui.models.transfer_store import describe_error
from s3z_gui.models.version_model import VersionRow, VersionTableModel
from s3z_gui.offload import run_blocking

if TYPE_CHECKING:
    from s3z_gui.bridge import EngineBridge

PAGE_SIZE = 1000


class VersionsController:
    def __init__(self, bridge: EngineBridge) -> None:
        self._bridge = bridge
        self._pagers: dict[int, tuple[int, AsyncIterator[VersionPage]]] = {}

    # paging -------------------------------------------------------------------------

    def open_location(
        self, model: VersionTableModel, bucket: str | None, prefix: str = ""
    ) -> asyncio.Task[int | None]:
        """Show the versions of ``bucket``/``prefix`` (one level) in ``model``."""
        generation = model.reset_location(bucket, prefix)
        old = self._pagers.pop(id(model), None)

        async def first_page() -> int:
            if old is not None:
                await _close_pager(old[1])
            if bucket is None:
                return 0
            pager = self._bridge.engine.list_versions(
                bucket, prefix, delimiter="/", page_size=PAGE_SIZE
            )
            self._pagers[id(model)] = (generation, pager)
            return await self._next_page(model, generation)

        return self._spawn(model, generation, first_page())

    def fetch_more(self, model: VersionTableModel, generation: int) -> asyncio.Task[int | None]:
        return self._spawn(model, generation, self._next_page(model, generation))

    async def close_all(self) -> None:
        pagers, self._pagers = self._pagers, {}
        for _generation, pager in pagers.values():
            await _close_pager(pager)

    def _spawn(
        self, model: VersionTableModel, generation: int, coro: Coroutine[Any, Any, int]
    ) -> asyncio.Task[int | None]:
        async def guarded() -> int:
            try:
                return await coro
            except S3zError as exc:
                model.fail(generation, describe_error(exc))
                raise

        return self._bridge.commands.spawn(guarded(), "Listing versions")

    async def _next_page(self, model: VersionTableModel, generation: int) -> int:
        current = self._pagers.get(id(model))
        if current is None or current[0] != generation:
            return 0
        try:
            page = await anext(current[1])
        except StopAsyncIteration:
            page = VersionPage([], [], False, None, None)
        return model.append_page(generation, page)

    # commands -----------------------------------------------------------------------

    def download(
        self, bucket: str, rows: Sequence[VersionRow], dest_dir: str | Path
    ) -> asyncio.Task[BatchResult | None] | None:
        """Each version lands under its own name in ``dest_dir``, byte for byte that version
        (its listed size and ETag pin it; ``?versionId=`` on every request)."""
        wanted = [r for r in rows if not r.is_folder and not r.delete_marker]
        if not wanted:
            self._bridge.notice.emit("Select a version to download (a delete marker has no bytes)")
            return None
        if len({r.key for r in wanted}) < len(wanted):
            self._bridge.failed.emit(
                "Download one version of a file at a time: they would land under one name"
            )
            return None
        dest = Path(dest_dir)

        async def specs() -> list[TransferSpec]:
            out = []
            for row in wanted:
                strip = parent_prefix(row.key)
                # Resolving the path touches the file system: off the GUI thread.
                path = await run_blocking(safe_local_path, dest, row.key, strip)
                out.append(
                    TransferSpec.download(
                        bucket,
                        row.key,
                        str(path),
                        local_root=str(dest),
                        strip_prefix=strip,
                        size=row.size,
                        etag=row.etag or None,
                        mtime=row.modified.timestamp() if row.modified else None,
                        version_id=row.version_id,
                    )
                )
            return out

        return self._bridge.transfers.download_specs(specs, "Downloaded")

    def restore(self, bucket: str, row: VersionRow) -> asyncio.Task[str | None]:
        """Make ``row`` the latest version again (a server-side copy onto its own key)."""

        async def run() -> str:
            etag = await self._bridge.engine.restore_version(bucket, row.key, row.version_id)
            self._bridge.notice.emit(f"Restored {row.name} to version {row.version_id}")
            return etag

        return self._bridge.commands.spawn(run(), f"Restoring s3://{bucket}/{row.key}")

    def delete(self, bucket: str, rows: Sequence[VersionRow]) -> asyncio.Task[int | None]:
        """Remove versions or delete markers for good; returns how many went."""
        wanted = [r for r in rows if not r.is_folder]

        async def run() -> int:
            for row in wanted:
                await self._bridge.engine.delete_version(bucket, row.key, row.version_id)
            markers = sum(1 for r in wanted if r.delete_marker)
            versions = len(wanted) - markers
            said = [f"{versions} version(s)"] if versions else []
            said += [f"{markers} delete marker(s)"] if markers else []
            self._bridge.notice.emit("Removed " + " and ".join(said or ["nothing"]))
            return len(wanted)

        return self._bridge.commands.spawn(run(), "Deleting versions")

    def versioning(self, bucket: str) -> asyncio.Task[str | None]:
        """``Enabled``, ``Suspended`` or ``""`` (never versioned)."""

        async def run() -> str:
            return await self._bridge.engine.bucket_versioning(bucket)

        return self._bridge.commands.spawn(run(), f"Reading versioning of {bucket}")

    def set_versioning(self, bucket: str, enabled: bool) -> asyncio.Task[str | None]:
        async def run() -> str:
            engine = self._bridge.engine
            await engine.set_bucket_versioning(bucket, enabled)
            status = await engine.bucket_versioning(bucket)
            self._bridge.notice.emit(f"Versioning of {bucket}: {status or 'off'}")
            return status

        verb = "Enabling" if enabled else "Suspending"
        return self._bridge.commands.spawn(run(), f"{verb} versioning of {bucket}")


async def _close_pager(pager: AsyncIterator[VersionPage]) -> None:
    closer = getattr(pager, "aclose", None)
    if closer is not None:
        with suppress(S3zError, RuntimeError):
            await closer()
