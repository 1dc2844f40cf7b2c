"""What a batch will do, as a stream of specs: from a local walk, a listing, or given objects.

Producers only decide (pure, apart from the walk, which runs in the file-system pool): each
item is a ``Planned`` spec — possibly already failed (an unsafe key, an unreadable path, a
listed entry that did not parse) — or a ``Skipped`` path, said but not failed. The batch
turns them into jobs. Filters (``PathFilter``, aws-cli order) apply to the path relative to
the source folder or prefix, the same way for every direction.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

from s3z_core.errors import DamagedListingError, ProtocolError, S3zError, UnsafeKeyError
from s3z_core.filesystem import iterate
from s3z_core.filters import EVERYTHING, PathFilter
from s3z_core.models import ObjectInfo
from s3z_core.records import record
from s3z_core.specs import NO_UPLOAD_OPTIONS, TransferSpec, UploadOptions
from s3z_core.transfer.paths import is_dir_marker, planned_path, relative_key


@record
class Planned:
    spec: TransferSpec
    error: S3zError | None = None
    # The id it must run under (a persisted queue's row resumed after a restart); None: new.
    transfer_id: int | None = None


@record
class Skipped:
    path: str
    reason: str


PlanItem = Planned | Skipped
T = TypeVar("T")
Listed = Iterable[ObjectInfo | str] | AsyncIterator[ObjectInfo | str]


def join_key(prefix: str, name: str) -> str:
    if prefix and not prefix.endswith("/"):
        return f"{prefix}/{name}"
    return prefix + name


async def plan_uploads(
    sources: Sequence[str | os.PathLike[str]],
    bucket: str,
    prefix: str = "",
    *,
    keep_dir_names: bool = True,
    filters: PathFilter = EVERYTHING,
    follow_symlinks: bool = False,
    dir_markers: bool = False,
    options: UploadOptions = NO_UPLOAD_OPTIONS,
) -> AsyncIterator[PlanItem]:
    """A file uploads as ``prefix + name``; a folder ``d`` as ``prefix + d/relative``
    (``keep_dir_names=False``: its contents straight under ``prefix``, like ``cp -r``);
    each file with ``options`` (Content-Type, Cache-Control, metadata)."""
    from s3z_core.transfer.walk import walk_sources  # a download's plans walk nothing

    walk = walk_sources(
        sources,
        keep_dir_names=keep_dir_names,
        follow_symlinks=follow_symlinks,
        filters=filters,
        dir_markers=dir_markers,
    )
    async for entry in iterate(walk):
        if entry.skipped:
            yield Skipped(entry.path, entry.skipped)
            continue
        spec = TransferSpec.upload(
            entry.path,
            bucket,
            join_key(prefix, entry.name),
            size=None if entry.error else entry.size,
            mtime=entry.mtime or None,
            marker=entry.is_dir_marker,
        )
        yield Planned(options.apply(spec), entry.error)


async def planned(specs: Iterable[TransferSpec]) -> AsyncIterator[PlanItem]:
    """Plain specs as plan items (a batch of given transfers)."""
    for spec in specs:
        yield Planned(spec)


async def each(items: Iterable[T] | AsyncIterator[T]) -> AsyncIterator[T]:
    """A plain or async iterable, consumed the same way (listings stream, lists do not)."""
    if isinstance(items, AsyncIterator):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item


@record
class _Entry:
    key: str
    rel: str  # the key minus the listed prefix
    info: ObjectInfo | None  # None: a plain key, or a damaged entry
    damage: str | None = None  # why the entry did not parse


async def _entries(objects: Listed, prefix: str, filters: PathFilter) -> AsyncIterator[_Entry]:
    """The listed keys that pass ``filters``, then the listing's damaged entries, unfiltered
    (each becomes a failed item: named, never silently dropped)."""
    try:
        async for item in each(objects):
            key, info = (item.key, item) if isinstance(item, ObjectInfo) else (str(item), None)
            rel = relative_key(key, prefix)
            if filters and not filters.accepts(rel):
                continue
            yield _Entry(key, rel, info)
    except DamagedListingError as damaged:
        for key, reason in damaged.entries:
            yield _Entry(key, relative_key(key, prefix), None, reason)


async def plan_downloads(
    objects: Listed,
    bucket: str,
    dest_root: Path,
    *,
    strip_prefix: str = "",
    filters: PathFilter = EVERYTHING,
) -> AsyncIterator[Planned]:
    """Each key lands at ``dest_root / (key minus strip_prefix)``; a key that would leave
    ``dest_root`` is a failed item (checked lexically here, for symlinks when written)."""
    root = str(dest_root)

    def spec_for(key: str, local: str, info: ObjectInfo | None, marker: bool) -> TransferSpec:
        return TransferSpec.download(
            bucket,
            key,
            local,
            local_root=root,
            strip_prefix=strip_prefix,
            size=info.size if info else None,
            etag=info.etag if info else None,
            mtime=info.last_modified.timestamp() if info and info.last_modified else None,
            marker=marker,
        )

    async for entry in _entries(objects, strip_prefix, filters):
        key, info = entry.key, entry.info
        if entry.damage is not None:
            yield Planned(spec_for(key, "", None, False), ProtocolError(entry.damage))
            continue
        marker = info is not None and is_dir_marker(key, info.size)
        # The marker of the folder being downloaded ("New folder" writes one) names the
        # destination itself: created like any marker, not refused.
        if marker and not entry.rel.strip("/"):
            yield Planned(spec_for(key, root, info, True))
            continue
        try:
            local = str(planned_path(dest_root, key, strip_prefix))
        except UnsafeKeyError as exc:
            yield Planned(spec_for(key, "", info, False), exc)
            continue
        yield Planned(spec_for(key, local, info, marker))


async def plan_copies(
    objects: Listed,
    source_bucket: str,
    source_prefix: str,
    bucket: str,
    prefix: str,
    *,
    filters: PathFilter = EVERYTHING,
) -> AsyncIterator[Planned]:
    """Each key under ``source_prefix`` copies to ``prefix + (key minus source_prefix)``."""
    async for entry in _entries(objects, source_prefix, filters):
        target = prefix + entry.rel
        if entry.damage is not None:
            spec = TransferSpec.copy(source_bucket, entry.key, bucket, target)
            yield Planned(spec, ProtocolError(entry.damage))
            continue
        info = entry.info
        stamp = info.last_modified if info else None
        spec = TransferSpec.copy(
            source_bucket,
            entry.key,
            bucket,
            target,
            size=info.size if info else None,
            etag=info.etag if info else None,
            mtime=stamp.timestamp() if stamp else None,
        )
        yield Planned(spec)
