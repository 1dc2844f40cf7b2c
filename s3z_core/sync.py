"""Sync between a local folder and a prefix, or two prefixes: list both sides, plan with
``sync_plan`` (pure), then copy through one engine batch and delete what the source lacks.

One stack for every front end: the CLI's ``sync`` and the GUI's Sync dialog both call
``plan_between``, then ``start_copies`` and ``delete_extraneous`` (the GUI first narrows the
plan to the rows left ticked, ``PlannedSync.only``), so neither walks, lists or copies on its
own. Local walks run in the file-system pool (``Engine.walk_local``), never on the loop.

Filters apply to both sides, so an excluded destination file is never deleted. A source
that could not be read completely lacks files that may well exist: deleting "what is not
in the source" would then delete their only other copy, so its deletions are withheld.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Collection
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from s3z_core.errors import ConfigError, LocalFileError, NoSuchKeyError
from s3z_core.filesystem import fs_call
from s3z_core.filters import EVERYTHING, PathFilter
from s3z_core.handles import BatchHandle, finish
from s3z_core.metadata import stored_mtime
from s3z_core.models import BatchResult, DeleteResult, ObjectInfo
from s3z_core.records import record
from s3z_core.specs import TransferSpec, UploadOptions
from s3z_core.sync_plan import SyncEntry, SyncPlan, plan_sync, settle

if TYPE_CHECKING:
    from s3z_core.engine import Engine

HEAD_CONCURRENCY = 32

Direction = Literal["upload", "download", "copy"]


@record
class SyncSide:
    """A local folder (``path``) or an S3 ``bucket`` and folder ``prefix`` ("" or ending in
    ``/``, as ``remote`` makes it)."""

    bucket: str = ""
    prefix: str = ""
    path: str = ""

    @classmethod
    def local(cls, path: str | Path) -> SyncSide:
        return cls(path=str(path))

    @classmethod
    def remote(cls, bucket: str, prefix: str = "") -> SyncSide:
        if not bucket:
            raise ConfigError("a remote sync side needs a bucket")
        return cls(
            bucket=bucket, prefix=prefix if not prefix or prefix.endswith("/") else prefix + "/"
        )

    @property
    def is_remote(self) -> bool:
        return bool(self.bucket)

    def key_of(self, name: str) -> str:
        return self.prefix + name

    def path_of(self, name: str) -> str:
        return str(Path(self.path) / name)

    def name_of(self, name: str) -> str:
        """How a synced name is shown: its s3:// URL, or its local path."""
        if self.is_remote:
            key = self.key_of(name)
            return f"s3://{self.bucket}/{key}" if key else f"s3://{self.bucket}"
        return self.path_of(name)

    def __str__(self) -> str:
        return self.name_of("") if self.is_remote else self.path


@record
class SyncOptions:
    delete: bool = False
    size_only: bool = False
    filters: PathFilter = EVERYTHING


@record
class Unreadable:
    """A local path the walk could not use: an ``upload`` to ``destination`` when it is the
    source's, a ``read`` when it is the destination's."""

    operation: str
    path: str
    destination: str
    error: LocalFileError


@record(frozen=False)
class PlannedSync:
    """A plan and what running it needs: the listed source objects (a download is planned
    from them, with their ETags), plus what the walks could not use or left out."""

    source: SyncSide
    destination: SyncSide
    plan: SyncPlan
    source_objects: dict[str, ObjectInfo] = field(default_factory=dict)
    unreadable: list[Unreadable] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why), said not failed
    # Deletions dropped because the source was not read completely: how many (None: none were).
    withheld_deletes: int | None = None

    @property
    def direction(self) -> Direction:
        if not self.source.is_remote:
            return "upload"
        return "copy" if self.destination.is_remote else "download"

    def only(self, copies: Collection[str], deletes: Collection[str]) -> PlannedSync:
        """The same plan narrowed to these source names to copy and destination names to
        delete (the rows a user left ticked); anything not in the plan is ignored."""
        plan = dataclasses.replace(
            self.plan,
            copies=[a for a in self.plan.copies if a.source.name in copies],
            deletes=[e for e in self.plan.deletes if e.name in deletes],
            needs_mtime=[],
            twins=list(self.plan.twins),
        )
        return dataclasses.replace(self, plan=plan)


async def check_sides(source: SyncSide, destination: SyncSide) -> None:
    """Refuse what cannot be synced before anything is listed (a clear one-line error)."""
    if not source.is_remote and not destination.is_remote:
        raise ConfigError("one of source and destination must be an s3:// URL")
    if not source.is_remote and not await fs_call(Path(source.path).is_dir):
        raise ConfigError(f"sync source must be an existing folder, got {source.path!r}")


async def _local_entries(
    engine: Engine,
    side: SyncSide,
    filters: PathFilter,
    planned: PlannedSync,
    *,
    upload_to: SyncSide | None,
) -> list[SyncEntry]:
    root = Path(side.path)
    if not await fs_call(root.exists):
        return []
    if not await fs_call(root.is_dir):
        raise ConfigError(f"sync needs a folder, got the file {root}")
    entries: list[SyncEntry] = []
    async for entry in engine.walk_local(str(root), filters=filters):
        if entry.skipped:
            planned.skipped.append((entry.path, entry.skipped))
        elif entry.error is not None:
            if upload_to is None:
                planned.unreadable.append(Unreadable("read", entry.path, "", entry.error))
            else:
                target = upload_to.name_of(entry.relative)
                planned.unreadable.append(Unreadable("upload", entry.path, target, entry.error))
        else:
            entries.append(SyncEntry(entry.relative, entry.size, entry.mtime))
    return entries


async def _remote_entries(
    engine: Engine, side: SyncSide, filters: PathFilter, *, upper_bound: bool
) -> tuple[list[SyncEntry], dict[str, ObjectInfo]]:
    entries: list[SyncEntry] = []
    objects: dict[str, ObjectInfo] = {}
    async for obj in engine.iter_objects(side.bucket, side.prefix, ordered=False):
        name = obj.key[len(side.prefix) :]
        if not name or name.endswith("/") or not filters.accepts(name):
            continue  # folder markers are not files
        mtime = obj.last_modified.timestamp() if obj.last_modified else 0.0
        entries.append(SyncEntry(name, obj.size, mtime, upper_bound))
        objects[name] = obj
    return entries, objects


async def _stored_mtimes(
    engine: Engine, side: SyncSide, names: list[str]
) -> dict[str, float | None]:
    """HEAD the undecided source objects (bounded) for their x-amz-meta-mtime."""
    gate = asyncio.Semaphore(HEAD_CONCURRENCY)

    async def one(name: str) -> tuple[str, float | None]:
        async with gate:
            try:
                head = await engine.head_object(side.bucket, side.key_of(name))
            except NoSuchKeyError:
                return name, None
        return name, stored_mtime(head.metadata)

    return dict(await asyncio.gather(*(one(n) for n in names)))


async def plan_between(
    engine: Engine,
    source: SyncSide,
    destination: SyncSide,
    options: SyncOptions = SyncOptions(),  # frozen: one shared default is safe
) -> PlannedSync:
    """List both sides and decide every file (``sync_plan`` has the rules); nothing changes.
    A few source objects may be HEADed to read their stored mtime."""
    await check_sides(source, destination)
    planned = PlannedSync(source, destination, SyncPlan())
    filters = options.filters
    if source.is_remote:
        # Only s3→local compares an S3 time against a file's time: the listed
        # LastModified is then an upper bound of the stored mtime.
        sources, planned.source_objects = await _remote_entries(
            engine.source_side, source, filters, upper_bound=not destination.is_remote
        )
    else:
        sources = await _local_entries(engine, source, filters, planned, upload_to=destination)
    source_unread = len(planned.unreadable)
    if destination.is_remote:
        destinations, _ = await _remote_entries(engine, destination, filters, upper_bound=False)
    else:
        destinations = await _local_entries(engine, destination, filters, planned, upload_to=None)
    plan = plan_sync(
        sources,
        destinations,
        size_only=options.size_only,
        delete=options.delete,
        restore_changed=source.is_remote and not destination.is_remote,
    )
    if options.delete and source_unread:
        planned.withheld_deletes, plan.deletes = len(plan.deletes), []
    if plan.needs_mtime:
        names = [a.source.name for a in plan.needs_mtime]
        plan = settle(plan, await _stored_mtimes(engine.source_side, source, names))
    planned.plan = plan
    return planned


def _copy_specs(planned: PlannedSync) -> list[TransferSpec]:
    src, dst = planned.source, planned.destination
    names = [a.source.name for a in planned.plan.copies]
    if not src.is_remote:
        return [TransferSpec.upload(src.path_of(n), dst.bucket, dst.key_of(n)) for n in names]
    return [TransferSpec.copy(src.bucket, src.key_of(n), dst.bucket, dst.key_of(n)) for n in names]


def start_copies(
    engine: Engine,
    planned: PlannedSync,
    *,
    keep_results: bool = True,
    resume_id: int | None = None,
    options: UploadOptions | None = None,
) -> BatchHandle:
    """The plan's copies as one engine batch (their rows are the engine's usual events).
    s3→local goes through ``download_keys``, so the destination guard applies to each key.
    ``options`` (Content-Type, Cache-Control, metadata) apply to uploads only: a copy keeps
    its source's."""
    src, dst = planned.source, planned.destination
    if planned.direction == "download":
        objects = [planned.source_objects[a.source.name] for a in planned.plan.copies]
        return engine.download_keys(
            src.bucket,
            objects,
            dst.path,
            strip_prefix=src.prefix,
            keep_results=keep_results,
            resume_id=resume_id,
        )
    specs = _copy_specs(planned)
    if options:
        specs = [options.apply(s) for s in specs]
    return engine.run_batch(specs, keep_results=keep_results, resume_id=resume_id)


async def delete_extraneous(engine: Engine, planned: PlannedSync) -> DeleteResult:
    """What the source lacks goes (``delete``): keys 1000 a request, files in the pool.
    Failures are returned per key or path, never raised."""
    dst, deletes = planned.destination, planned.plan.deletes
    if not deletes:
        return DeleteResult([], [])
    if dst.is_remote:
        return await engine.delete_objects(dst.bucket, [dst.key_of(e.name) for e in deletes])
    return await engine.delete_local_files([dst.path_of(e.name) for e in deletes])


@record
class SyncOutcome:
    copied: BatchResult
    deleted: DeleteResult


async def run_planned(
    engine: Engine,
    planned: PlannedSync,
    *,
    keep_results: bool = True,
    resume_id: int | None = None,
    options: UploadOptions | None = None,
) -> SyncOutcome:
    """Copy, then delete: a delete never runs ahead of the copies it would make redundant.
    Cancelling this cancels the batch and waits for its cleanup (``finish``)."""
    batch = start_copies(
        engine, planned, keep_results=keep_results, resume_id=resume_id, options=options
    )
    copied = await finish(batch)
    return SyncOutcome(copied, await delete_extraneous(engine, planned))
