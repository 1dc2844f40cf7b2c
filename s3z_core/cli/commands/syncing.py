"""``sync``: the core plans it (``s3z_core.sync``: both sides listed, ``sync_plan`` decides)
and runs it as one engine batch plus deletes; this command only says what happened.

Directions: local→s3, s3→local, s3→s3. Filters apply to both sides, so an excluded
destination file is never deleted. ``--dry-run`` prints the plan and changes nothing
(it may still HEAD a few source objects to read their stored mtime).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from s3z_core.cli.outcome import Failed, report_failed, report_outcome
from s3z_core.cli.urls import Location, parse_location
from s3z_core.handles import finish
from s3z_core.specs import TransferSpec
from s3z_core.sync import (
    PlannedSync,
    SyncOptions,
    SyncSide,
    check_sides,
    delete_extraneous,
    plan_between,
    start_copies,
)

if TYPE_CHECKING:
    from s3z_core.cli.session import Session
    from s3z_core.engine import Engine, Work
    from s3z_core.models import DeleteResult, ObjectInfo
    from s3z_core.sync_plan import SyncPlan


def work_of(session: Session) -> tuple[Work, ...]:
    """What main imports before the loop: the direction's code, the walk of a local side,
    the listing of the remote ones, and --delete's deletes."""
    args = session.args
    src, dst = parse_location(args.source), parse_location(args.destination)
    work: tuple[Work, ...]
    if not src.is_remote:
        work = ("upload", "list")
    elif not dst.is_remote:
        work = ("download", "walk", "list")
    else:  # a second connection to copy from: relayed, else server-side
        work = ("copy" if session.sides()[1] is None else "relay", "list")
    return (*work, "delete") if args.delete else work


def _side(location: Location) -> SyncSide:
    if location.is_remote:
        return SyncSide(bucket=location.bucket, prefix=location.dir_prefix)
    return SyncSide.local(location.path)


def _print_plan(session: Session, planned: PlannedSync) -> None:
    plan, src, dst, verb = planned.plan, planned.source, planned.destination, planned.direction
    for action in plan.copies:
        source = src.name_of(action.source.name)
        target = dst.name_of(action.source.name)
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
        target = dst.name_of(entry.name)
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


def _report_deletes(session: Session, planned: PlannedSync, removed: DeleteResult) -> None:
    dst = planned.destination
    if dst.is_remote:
        from s3z_core.cli.commands.removal import report_deletes

        report_deletes(session, dst.bucket, removed)
        return
    for path in removed.deleted:
        session.console.info(f"delete: {path}", {"type": "deleted", "path": path})
    for failure in removed.failures:
        session.console.failure("delete", failure.key, OSError(failure.message))


async def _delete_extra(session: Session, engine: Engine, planned: PlannedSync) -> None:
    """``--delete``: what the source lacks goes (on the driver for a cluster run too: a
    thousand keys a request is not work worth shipping)."""
    if planned.plan.deletes:
        _report_deletes(session, planned, await delete_extraneous(engine, planned))


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
    planned: PlannedSync,
    *,
    src: Location,
    dst: Location,
    started: float,
    unreadable: list[Failed],
) -> int:
    from s3z_core.cli.commands import sharded

    options = session.upload_options(uploading=True)
    specs = [
        options.apply(s) for s in _cluster_specs(planned.plan, src, dst, planned.source_objects)
    ]
    agg = await sharded.run_on_cluster(session, engine, sharded.build_tasks(session, specs))
    await _delete_extra(session, engine, planned)
    elapsed = time.monotonic() - started
    return sharded.report_cluster(session, "sync", agg, elapsed, unreadable)


def _warn(session: Session, planned: PlannedSync) -> list[Failed]:
    """What planning met on the way: skipped paths, withheld deletions, NFC twins; returns
    the unreadable local paths as failures of the command."""
    for path, why in planned.skipped:
        session.console.warn(f"skipping {path}: {why}")
    if planned.withheld_deletes is not None:
        unread = sum(1 for u in planned.unreadable if u.operation == "upload")
        session.console.warn(
            f"deletions skipped: {unread} source path(s) could not be read, so "
            f"nothing is deleted ({planned.withheld_deletes} would have been)"
        )
    for first, second in planned.plan.twins:
        session.console.warn(
            f"{second!r} and {first!r} are the same name in Unicode NFC: synced only {first!r}"
        )
    return [Failed(u.operation, u.path, u.destination, u.error) for u in planned.unreadable]


async def run_sync(session: Session) -> int:
    args = session.args
    src, dst = parse_location(args.source), parse_location(args.destination)
    source, destination = _side(src), _side(dst)
    await check_sides(source, destination)
    session.upload_options(uploading=not src.is_remote)  # a bad value fails before connecting
    if getattr(args, "cluster", None):
        from s3z_core.cli.commands.sharded import check_cluster
        from s3z_core.cluster import require_dask

        check_cluster(session)
        require_dask()
    started = time.monotonic()
    options = SyncOptions(
        delete=bool(args.delete), size_only=bool(args.size_only), filters=session.filters
    )
    async with session.engine() as engine:
        planned = await plan_between(engine, source, destination, options)
        unreadable = _warn(session, planned)  # local paths the walk could not use, either side
        if args.dry_run:
            _print_plan(session, planned)
            if getattr(args, "cluster", None):  # planned here as locally: nothing submitted
                from s3z_core.cli.commands.sharded import build_tasks

                specs = _cluster_specs(planned.plan, src, dst, planned.source_objects)
                tasks = build_tasks(session, specs)
                session.console.info(f"cluster: would run {len(tasks)} shards on {args.cluster}")
            report_failed(session.console, unreadable)
            return 1 if unreadable else 0
        if getattr(args, "cluster", None):
            return await _sync_on_cluster(
                session,
                engine,
                planned,
                src=src,
                dst=dst,
                started=started,
                unreadable=unreadable,
            )
        try:
            batch = start_copies(
                engine,
                planned,
                keep_results=False,
                resume_id=session.resume_id,
                options=session.upload_options(uploading=True),
            )
            outcome = await finish(batch)
            await _delete_extra(session, engine, planned)
        finally:
            session.progress.close()
    code = report_outcome(session.console, "sync", outcome, time.monotonic() - started, unreadable)
    return 1 if session.console.failures else code
