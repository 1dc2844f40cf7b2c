"""``cp``, ``mv``, and the original s3z shapes ``upload`` / ``download``: engine batches only.

Naming follows ``aws s3 cp``: copying a file into a destination written with a trailing
slash (or a bare bucket, or an existing local folder) keeps the file's name; ``-r``
copies a folder's or prefix's *contents* under the destination. Every direction is one
engine batch (the engine walks, lists, filters and guards destinations); this module only
decides names and reports.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from s3z_core.cli.outcome import report_outcome
from s3z_core.cli.urls import Location, parse_location, s3_url
from s3z_core.errors import ConfigError
from s3z_core.filesystem import fs_call
from s3z_core.handles import finish
from s3z_core.specs import TransferSpec

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from s3z_core.cli.session import Session
    from s3z_core.engine import Engine, Work
    from s3z_core.handles import BatchHandle
    from s3z_core.models import BatchResult
    from s3z_core.transfer.plans import PlanItem


def work_of(session: Session) -> tuple[Work, ...]:
    """What main imports before the loop: one direction's code (a download loads no upload
    code, an upload no download code), a recursive source's listing, mv's deletes."""
    args = session.args
    if args.command == "upload":
        return ("upload",)
    if args.command == "download":
        return ("download", "list")
    src, dst = parse_location(args.source), parse_location(args.destination)
    work: tuple[Work, ...]
    if not src.is_remote:
        work = ("upload",)
    elif not dst.is_remote:
        work = ("download",)
    else:  # a second connection to copy from: relayed, else server-side
        work = ("copy",) if session.sides()[1] is None else ("relay",)
    if args.recursive and src.is_remote:
        work = (*work, "list")
    return (*work, "delete") if args.command == "mv" else work


def _key_prefix(prefix: str) -> str:
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


def _kind(path: str) -> str:
    """ "dir", "file" (anything else that exists, the engine reports it) or "missing"."""
    if os.path.isdir(path):
        return "dir"
    return "file" if os.path.lexists(path) else "missing"


def _upload_contents(
    session: Session, engine: Engine, paths: list[str], bucket: str, prefix: str, *, keep: bool
) -> BatchHandle:
    """Files keep their name and a folder only its contents under ``prefix`` (``aws s3 cp -r``,
    and the original s3z's ``upload``)."""
    return engine.upload_paths(
        paths,
        bucket,
        _key_prefix(prefix),
        filters=session.filters,
        keep_dir_names=False,
        keep_results=keep,
        resume_id=session.resume_id,
        options=session.upload_options(uploading=True),
    )


def _download_under(
    session: Session,
    engine: Engine,
    bucket: str,
    prefix: str,
    dest: str,
    *,
    keep: bool,
    strip_prefix: str | None = None,
) -> BatchHandle:
    return engine.download_prefix(
        bucket,
        prefix,
        dest,
        filters=session.filters,
        strip_prefix=strip_prefix,
        keep_results=keep,
        resume_id=session.resume_id,
    )


async def _upload_batch(
    session: Session, engine: Engine, src: Location, dst: Location, *, recursive: bool, keep: bool
) -> BatchHandle:
    kind = await fs_call(_kind, src.path)
    if kind == "dir":
        if not recursive:
            raise ConfigError(f"{src.path} is a folder: use -r to copy its contents")
        return _upload_contents(session, engine, [src.path], dst.bucket, dst.key, keep=keep)
    if kind == "missing":
        raise ConfigError(f"source not found: {src.path}")
    key = dst.key + src.basename if dst.looks_like_dir else dst.key
    options = session.upload_options(uploading=True)
    specs = [options.apply(TransferSpec.upload(src.path, dst.bucket, key))]
    return engine.run_batch(
        specs if session.filters.accepts(src.basename) else [],
        keep_results=keep,
        resume_id=session.resume_id,
    )


def _local_target(src: Location, dst: Location) -> str:
    """Where one downloaded object lands: into a folder keeps the key's base name."""
    if dst.looks_like_dir or os.path.isdir(dst.path):
        return str(Path(dst.path) / src.basename)
    return dst.path


async def _batch(
    session: Session, engine: Engine, src: Location, dst: Location, *, recursive: bool, keep: bool
) -> BatchHandle:
    """The one batch a cp (or mv) is: the four directions, single object or recursive."""
    if not src.is_remote:
        return await _upload_batch(session, engine, src, dst, recursive=recursive, keep=keep)
    if recursive:
        prefix = src.dir_prefix
        if not dst.is_remote:
            return _download_under(
                session, engine, src.bucket, prefix, dst.path, keep=keep, strip_prefix=prefix
            )
        return engine.copy_prefix(
            src.bucket,
            prefix,
            dst.bucket,
            dst.dir_prefix,
            filters=session.filters,
            keep_results=keep,
            resume_id=session.resume_id,
        )
    if src.is_bucket_only or src.key.endswith("/"):
        raise ConfigError(f"{src} is a bucket or prefix: use -r to copy what is under it")
    if not dst.is_remote:
        target = await fs_call(_local_target, src, dst)
        return engine.run_batch(
            [TransferSpec.download(src.bucket, src.key, target)],
            keep_results=keep,
            resume_id=session.resume_id,
        )
    key = dst.key + src.basename if dst.looks_like_dir else dst.key
    return engine.run_batch(
        [TransferSpec.copy(src.bucket, src.key, dst.bucket, key)],
        keep_results=keep,
        resume_id=session.resume_id,
    )


async def _remove_sources(session: Session, engine: Engine, result: BatchResult) -> None:
    """mv's second half: delete each source that arrived (and only those)."""
    local: list[str] = []
    by_bucket: dict[str, list[str]] = {}
    for done in result.completed:
        location = parse_location(done.source)
        if location.is_remote:
            by_bucket.setdefault(location.bucket, []).append(location.key)
        else:
            local.append(done.source)
    if local:
        removed = await engine.delete_local_files(local)
        for failure in removed.failures:
            session.console.warn(f"delete {failure.key}: {failure.message or failure.code}")
            session.console.failures += 1
    for bucket, keys in by_bucket.items():  # on the source's endpoint (it may be another)
        deleted = await engine.source_side.delete_objects(bucket, keys)
        for failure in deleted.failures:
            session.console.warn(
                f"delete {s3_url(bucket, failure.key)}: {failure.code}: {failure.message}"
            )
            session.console.failures += 1


async def _plan(
    session: Session, engine: Engine, src: Location, dst: Location
) -> AsyncIterator[PlanItem]:
    """What ``cp -r`` would run, as plan items (for a cluster run: the same producers)."""
    from s3z_core.transfer.copy import check_copy_prefixes
    from s3z_core.transfer.plans import plan_copies, plan_downloads, plan_uploads

    if not src.is_remote:
        if await fs_call(_kind, src.path) != "dir":
            raise ConfigError(f"--cluster copies a folder or prefix; {src.path} is not a folder")
        cfg = engine.transfer_config
        return plan_uploads(
            [src.path],
            dst.bucket,
            _key_prefix(dst.key),
            keep_dir_names=False,
            filters=session.filters,
            follow_symlinks=cfg.follow_symlinks,
            dir_markers=cfg.create_dir_markers,
            options=session.upload_options(uploading=True),
        )
    prefix = src.dir_prefix
    listed = engine.source_side.iter_objects(src.bucket, prefix, ordered=False)
    if not dst.is_remote:
        return plan_downloads(
            listed, src.bucket, Path(dst.path), strip_prefix=prefix, filters=session.filters
        )
    if engine.source is None:
        check_copy_prefixes(src.bucket, prefix, dst.bucket, dst.dir_prefix)
    return plan_copies(
        listed, src.bucket, prefix, dst.bucket, dst.dir_prefix, filters=session.filters
    )


async def _cp_on_cluster(session: Session, src: Location, dst: Location, *, move: bool) -> int:
    """``cp -r`` / ``mv -r`` sharded over a Dask cluster (``commands/sharded.py``)."""
    from s3z_core.cli.commands import sharded
    from s3z_core.cluster import require_dask

    sharded.check_cluster(session)
    require_dask()
    if not session.args.recursive:
        raise ConfigError("--cluster shards a recursive copy: use -r")
    started = time.monotonic()
    async with session.engine() as engine:
        plan = await _plan(session, engine, src, dst)
        specs, failed = await sharded.collect(session, plan, str(src))
        agg = await sharded.run_on_cluster(session, engine, sharded.build_tasks(session, specs))
        if move:
            await _remove_sources(session, engine, agg.result)
    elapsed = time.monotonic() - started
    return sharded.report_cluster(session, session.args.command, agg, elapsed, failed)


async def _cp_or_mv(session: Session, *, move: bool) -> int:
    args = session.args
    src, dst = parse_location(args.source), parse_location(args.destination)
    if not src.is_remote and not dst.is_remote:
        raise ConfigError("one of source and destination must be an s3:// URL")
    session.upload_options(uploading=not src.is_remote)  # a bad value fails before connecting
    if getattr(args, "cluster", None):
        return await _cp_on_cluster(session, src, dst, move=move)
    started = time.monotonic()
    async with session.engine() as engine:
        try:
            batch = await _batch(
                session, engine, src, dst, recursive=bool(args.recursive), keep=move
            )
            result = await finish(batch)
        finally:
            session.progress.close()
        if move:
            await _remove_sources(session, engine, result)
    code = report_outcome(session.console, args.command, result, time.monotonic() - started)
    return 1 if session.console.failures else code


async def run_cp(session: Session) -> int:
    return await _cp_or_mv(session, move=False)


async def run_mv(session: Session) -> int:
    return await _cp_or_mv(session, move=True)


async def run_upload(session: Session) -> int:
    """``upload SOURCES… -b BUCKET [-p PREFIX]``: files keep their name, folders their tree."""
    args = session.args
    started = time.monotonic()
    async with session.engine() as engine:
        try:
            batch = _upload_contents(
                session, engine, list(args.sources), args.bucket, args.prefix, keep=False
            )
            result = await finish(batch)
        finally:
            session.progress.close()
    return report_outcome(session.console, "upload", result, time.monotonic() - started)


async def run_download(session: Session) -> int:
    """``download -b BUCKET [-p PREFIX] [-d DEST]``: keys land at DEST/<key after the
    prefix's last slash>, so ``-p photos/2024`` keeps ``2024…/`` folders."""
    args = session.args
    started = time.monotonic()
    async with session.engine() as engine:
        try:
            batch = _download_under(
                session, engine, args.bucket, args.prefix, args.dest, keep=False
            )
            result = await finish(batch)
        finally:
            session.progress.close()
    return report_outcome(session.console, "download", result, time.monotonic() - started)
