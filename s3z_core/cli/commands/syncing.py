"""``sync``: list both sides, plan with ``sync_plan`` (pure), then copy and delete.

Directions: local→s3, s3→local, s3→s3. Filters apply to both sides, so an excluded
destination file is never deleted. ``--dry-run`` prints the plan and changes nothing
(it may still HEAD a few source objects to read their stored mtime).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING

from s3z_core.cli.outcome import Failed, report_failed, report_outcome
from s3z_core.cli.sync_plan import SyncEntry, SyncPlan, plan_sync, settle
from s3z_core.cli.urls import Location, parse_location, s3_url
from s3z_core.errors import ConfigError, NoSuchKeyError
from s3z_core.filesystem import fs_call
from s3z_core.handles import finish
from s3z_core.metadata import stored_mtime
from s3z_core.models import BatchResult
from s3z_core.specs import TransferSpec

if TYPE_CHECKING:
    from s3z_core.cli.session import Session
    from s3z_core.engine import Engine
    from s3z_core.models import ObjectInfo

HEAD_CONCURRENCY = 32


async def _local_entries(
    session: Session,
    engine: Engine,
    root: Path,
    failed: list[Failed],
    *,
    upload_to: Location | None,
) -> list[SyncEntry]:
    """The files under ``root`` (walked by the engine, off the loop); what could not be read
    is appended to ``failed`` (as an upload to its key when ``root`` is an upload's source)."""
    if not await fs_call(root.exists):
        return []
    if not await fs_call(root.is_dir):
        raise ConfigError(f"sync needs a folder, got the file {root}")
    entries: list[SyncEntry] = []
    async for entry in engine.walk_local(str(root), filters=session.filters):
        if entry.skipped:
            session.console.warn(f"skipping {entry.path}: {entry.skipped}")
        elif entry.error is not None:
            target = "" if upload_to is None else _endpoint_name(upload_to, entry.relative)
            operation = "read" if upload_to is None else "upload"
            failed.append(Failed(operation, entry.path, target, entry.error))
        else:
            entries.append(SyncEntry(entry.relative, entry.size, entry.mtime))
    return entries


async def _remote_entries(
    session: Session, engine: Engine, location: Location, *, upper_bound: bool
) -> tuple[list[SyncEntry], dict[str, ObjectInfo]]:
    prefix = location.dir_prefix
    entries: list[SyncEntry] = []
    objects: dict[str, ObjectInfo] = {}
    async for obj in engine.iter_objects(location.bucket, prefix, ordered=False):
        name = obj.key[len(prefix) :]
        if not name or name.endswith("/") or not session.filters.accepts(name):
            continue  # folder markers are not files
        mtime = obj.last_modified.timestamp() if obj.last_modified else 0.0
        entries.append(SyncEntry(name, obj.size, mtime, upper_bound))
        objects[name] = obj
    return entries, objects


async def _stored_mtimes(
    engine: Engine, location: Location, names: list[str]
) -> dict[str, float | None]:
    """HEAD the undecided source objects (bounded) for their x-amz-meta-mtime."""
    gate = asyncio.Semaphore(HEAD_CONCURRENCY)
    prefix = location.dir_prefix

    async def one(name: str) -> tuple[str, float | None]:
        async with gate:
            try:
                head = await engine.head_object(location.bucket, prefix + name)
            except NoSuchKeyError:
                return name, None
        return name, stored_mtime(head.metadata)

    return dict(await asyncio.gather(*(one(n) for n in names)))


def _endpoint_name(location: Location, name: str) -> str:
    if location.is_remote:
        return s3_url(location.bucket, location.dir_prefix + name)
    return str(Path(location.path) / name)


def _print_plan(session: Session, plan: SyncPlan, src: Location, dst: Location) -> None:
    verb = (
        "copy" if src.is_remote and dst.is_remote else ("upload" if dst.is_remote else "download")
    )
    for action in plan.copies:
        source = _endpoint_name(src, action.source.name)
        target = _endpoint_name(dst, action.source.name)
        session.console.result(
            {
                "type": "plan",
                "action": verb,
                "source": source,
                "destination": target,
                "reason": action.reason,
            },
            f"(dryrun) {verb}: {source} -> {target} ({action.reason})",
        )
    for entry in plan.deletes:
        target = _endpoint_name(dst, entry.name)
        session.console.result(
            {
                "type": "plan",
                "action": "delete",
                "source": None,
                "destination": target,
                "reason": "not in source",
            },
            f"(dryrun) delete: {target} (not in source)",
        )
    if not session.console.json_lines and not session.console.quiet:
        session.console.err.write(
            f"sync plan: {len(plan.copies)} to copy, {len(plan.deletes)} to delete, "
            f"{plan.unchanged} unchanged\n"
        )


def _copy_specs(plan: SyncPlan, src: Location, dst: Location) -> list[TransferSpec]:
    names = [a.source.name for a in plan.copies]
    if not src.is_remote:
        prefix = dst.dir_prefix
        return [TransferSpec.upload(str(Path(src.path) / n), dst.bucket, prefix + n) for n in names]
    sp = src.dir_prefix
    if dst.is_remote:
        dp = dst.dir_prefix
        return [TransferSpec.copy(src.bucket, sp + n, dst.bucket, dp + n) for n in names]
    return []  # s3 → local goes through download_keys: the destination guard applies


async def _execute(
    session: Session,
    engine: Engine,
    plan: SyncPlan,
    *,
    src: Location,
    dst: Location,
    src_objects: dict[str, ObjectInfo],
) -> BatchResult:
    if src.is_remote and not dst.is_remote:
        objects = [src_objects[a.source.name] for a in plan.copies]
        batch = engine.download_keys(
            src.bucket,
            objects,
            dst.path,
            strip_prefix=src.dir_prefix,
            keep_results=False,
            resume_id=session.resume_id,
        )
    else:
        batch = engine.run_batch(
            [session.upload_options(uploading=True).apply(s) for s in _copy_specs(plan, src, dst)],
            keep_results=False,
            resume_id=session.resume_id,
        )
    result = await finish(batch)
    await _delete_extra(session, engine, plan, dst)
    return result


async def _delete_extra(session: Session, engine: Engine, plan: SyncPlan, dst: Location) -> None:
    """``--delete``: what the source lacks goes (on the driver for a cluster run too: a
    thousand keys a request is not work worth shipping)."""
    if plan.deletes:
        if dst.is_remote:
            from s3z_core.cli.commands.removal import report_deletes

            keys = [dst.dir_prefix + e.name for e in plan.deletes]
            report_deletes(session, dst.bucket, await engine.delete_objects(dst.bucket, keys))
        else:
            paths = [str(Path(dst.path) / e.name) for e in plan.deletes]
            removed = await engine.delete_local_files(paths)
            for path in removed.deleted:
                session.console.info(f"delete: {path}", {"type": "deleted", "path": path})
            for failure in removed.failures:
                session.console.failure("delete", failure.key, OSError(failure.message))


def _cluster_specs(
    plan: SyncPlan, src: Location, dst: Location, src_objects: dict[str, ObjectInfo]
) -> list[TransferSpec]:
    """The plan's copies with what a shard re-run compares (size, ETag, time)."""
    specs: list[TransferSpec] = []
    for action in plan.copies:
        name, entry = action.source.name, action.source
        if not src.is_remote:
            path = str(Path(src.path) / name)
            key = dst.dir_prefix + name
            specs.append(
                TransferSpec.upload(path, dst.bucket, key, size=entry.size, mtime=entry.mtime)
            )
            continue
        obj = src_objects[name]
        stamp = obj.last_modified.timestamp() if obj.last_modified else None
        if dst.is_remote:
            specs.append(
                TransferSpec.copy(
                    src.bucket,
                    obj.key,
                    dst.bucket,
                    dst.dir_prefix + name,
                    size=obj.size,
                    etag=obj.etag,
                    mtime=stamp,
                )
            )
        else:
            root = Path(dst.path)
            specs.append(
                TransferSpec.download(
                    src.bucket,
                    obj.key,
                    str(root / name),
                    local_root=str(root),
                    strip_prefix=src.dir_prefix,
                    size=obj.size,
                    etag=obj.etag,
                    mtime=stamp,
                )
            )
    return specs


async def _sync_on_cluster(
    session: Session,
    engine: Engine,
    plan: SyncPlan,
    *,
    src: Location,
    dst: Location,
    src_objects: dict[str, ObjectInfo],
    started: float,
    unreadable: list[Failed],
) -> int:
    from s3z_core.cli.commands import sharded

    options = session.upload_options(uploading=True)
    specs = [options.apply(s) for s in _cluster_specs(plan, src, dst, src_objects)]
    agg = await sharded.run_on_cluster(session, engine, sharded.build_tasks(session, specs))
    await _delete_extra(session, engine, plan, dst)
    elapsed = time.monotonic() - started
    return sharded.report_cluster(session, "sync", agg, elapsed, unreadable)


async def _check_source(src: Location) -> None:
    if not src.is_remote and not await fs_call(Path(src.path).is_dir):
        raise ConfigError(f"sync source must be an existing folder, got {src.path!r}")


async def run_sync(session: Session) -> int:
    args = session.args
    src, dst = parse_location(args.source), parse_location(args.destination)
    if not src.is_remote and not dst.is_remote:
        raise ConfigError("one of source and destination must be an s3:// URL")
    session.upload_options(uploading=not src.is_remote)  # a bad value fails before connecting
    await _check_source(src)
    if getattr(args, "cluster", None):
        from s3z_core.cli.commands.sharded import check_cluster
        from s3z_core.cluster import require_dask

        check_cluster(session)
        require_dask()
    started = time.monotonic()
    unreadable: list[Failed] = []  # local paths the walk could not use, on either side
    async with session.engine() as engine:
        src_objects: dict[str, ObjectInfo] = {}
        if src.is_remote:
            # Only s3→local compares an S3 time against a file's time: the listed
            # LastModified is then an upper bound of the stored mtime.
            sources, src_objects = await _remote_entries(
                session, engine.source_side, src, upper_bound=not dst.is_remote
            )
        else:
            sources = await _local_entries(
                session, engine, Path(src.path), unreadable, upload_to=dst
            )
        # A source that could not be read completely lacks files that may well exist:
        # deleting "what is not in the source" would then delete their only other copy.
        source_unread = len(unreadable)
        if dst.is_remote:
            destinations, _ = await _remote_entries(session, engine, dst, upper_bound=False)
        else:
            destinations = await _local_entries(
                session, engine, Path(dst.path), unreadable, upload_to=None
            )
        plan = plan_sync(
            sources,
            destinations,
            size_only=bool(args.size_only),
            delete=bool(args.delete),
            restore_changed=src.is_remote and not dst.is_remote,
        )
        if args.delete and source_unread:
            session.console.warn(
                f"deletions skipped: {source_unread} source path(s) could not be read, so "
                f"nothing is deleted ({len(plan.deletes)} would have been)"
            )
            plan.deletes = []
        if plan.needs_mtime:
            names = [a.source.name for a in plan.needs_mtime]
            stored = await _stored_mtimes(engine.source_side, src, names)
            plan = settle(plan, stored)
        for first, second in plan.twins:
            session.console.warn(
                f"{second!r} and {first!r} are the same name in Unicode NFC: synced only {first!r}"
            )
        if args.dry_run:
            _print_plan(session, plan, src, dst)
            if getattr(args, "cluster", None):  # planned here as locally: nothing submitted
                from s3z_core.cli.commands.sharded import build_tasks

                tasks = build_tasks(session, _cluster_specs(plan, src, dst, src_objects))
                session.console.info(f"cluster: would run {len(tasks)} shards on {args.cluster}")
            report_failed(session.console, unreadable)
            return 1 if unreadable else 0
        if getattr(args, "cluster", None):
            return await _sync_on_cluster(
                session,
                engine,
                plan,
                src=src,
                dst=dst,
                src_objects=src_objects,
                started=started,
                unreadable=unreadable,
            )
        try:
            outcome = await _execute(
                session, engine, plan, src=src, dst=dst, src_objects=src_objects
            )
        finally:
            session.progress.close()
    code = report_outcome(session.console, "sync", outcome, time.monotonic() - started, unreadable)
    return 1 if session.console.failures else code
