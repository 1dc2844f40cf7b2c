"""``cp``, ``mv``, and the original s3z shapes ``upload`` / ``download``: one planner, one runner.

Naming follows ``aws s3 cp``: copying a file into a destination written with a trailing
slash (or a bare bucket, or an existing local folder) keeps the file's name; ``-r``
copies a folder's or prefix's *contents* under the destination. Recursive downloads
go through ``engine.download_keys`` so the engine's unsafe-key guard applies.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from s3z_core.cli.local_tree import WalkError, walk_files
from s3z_core.cli.transfers import (
    Failed,
    Job,
    Outcome,
    batch_outcome,
    finish_batch,
    report_outcome,
    run_jobs,
)
from s3z_core.cli.urls import Location, parse_location, s3_url
from s3z_core.errors import ConfigError

if TYPE_CHECKING:
    from s3z_core.cli.session import Session
    from s3z_core.engine import Engine
    from s3z_core.models import ObjectInfo


def _key_prefix(prefix: str) -> str:
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


def upload_jobs(
    session: Session,
    engine: Engine,
    source: Path,
    bucket: str,
    key: str,
    *,
    recursive: bool,
    key_is_prefix: bool,
    failed: list[Failed],
) -> Iterator[Job]:
    """Jobs uploading ``source`` (a file, or a folder's contents with ``recursive``).

    What the folder walk cannot upload (an unreadable folder, a FIFO, a broken link…) is
    appended to ``failed`` as the generator runs: complete once the jobs are consumed.
    A symlink left alone because ``--follow-symlinks`` is off is only a warning.
    """
    if source.is_dir():
        if not recursive:
            raise ConfigError(f"{source} is a folder: use -r to copy its contents")
        prefix = _key_prefix(key)

        def skipped(path: Path, reason: str) -> None:
            session.console.warn(f"skipping {path}: {reason}")

        def unusable(error: WalkError) -> None:
            if error.counts(session.filters.accepts):
                target = s3_url(bucket, prefix + error.relative)
                failed.append(Failed("upload", str(error.path), target, error.error()))

        for item in walk_files(
            source,
            follow_symlinks=bool(getattr(session.args, "follow_symlinks", False)),
            on_skip=skipped,
            on_error=unusable,
        ):
            if session.filters.accepts(item.relative):
                yield upload_job(engine, item.path, bucket, prefix + item.relative)
        return
    if not source.exists() and not source.is_symlink():
        raise ConfigError(f"source not found: {source}")
    target = key + source.name if key_is_prefix else key
    if session.filters.accepts(source.name):
        yield upload_job(engine, source, bucket, target)


def upload_job(engine: Engine, path: Path, bucket: str, key: str) -> Job:
    return Job(
        "upload", str(path), s3_url(bucket, key), lambda: engine.upload_file(path, bucket, key)
    )


def copy_job(engine: Engine, sb: str, sk: str, db: str, dk: str) -> Job:
    return Job("copy", s3_url(sb, sk), s3_url(db, dk), lambda: engine.copy_object(sb, sk, db, dk))


def download_job(engine: Engine, bucket: str, key: str, dest: Path) -> Job:
    # The engine creates missing parent folders (and reports failure to as LocalFileError).
    return Job(
        "download", s3_url(bucket, key), str(dest), lambda: engine.download_file(bucket, key, dest)
    )


def ensure_dir(path: Path) -> Path:
    """Create a destination folder (a quick local call, fine on the loop thread)."""
    path.mkdir(parents=True, exist_ok=True)
    return path


def local_target(src: Location, dst: Location) -> Path:
    """Where one downloaded object lands: into a folder keeps the key's base name."""
    dest = Path(dst.path)
    if dst.looks_like_dir or dest.is_dir():
        return dest / src.basename
    return dest


async def download_prefix(
    session: Session, engine: Engine, *, bucket: str, prefix: str, strip: str, dest_dir: Path
) -> Outcome:
    """Every object under ``prefix`` (filtered on the name after ``strip``) into ``dest_dir``.

    The listing streams into the engine's worker pool page by page: the first file starts
    downloading while later pages are still being listed, and memory stays flat.
    """

    async def accepted() -> AsyncIterator[ObjectInfo]:
        async for obj in engine.iter_objects(bucket, prefix):
            if session.filters.accepts(obj.key[len(strip) :]):
                yield obj

    objects = accepted()
    first = await anext(objects, None)
    if first is None:
        return Outcome()  # nothing to fetch: do not even create the destination folder

    async def chained() -> AsyncIterator[ObjectInfo]:
        yield first
        async for obj in objects:
            yield obj

    batch = engine.download_keys(
        bucket,
        chained(),
        ensure_dir(dest_dir),
        strip_prefix=strip,
        keep_results=session.args.command == "mv",  # only mv needs to know each source
    )
    return batch_outcome("download", await finish_batch(batch))


async def copy_tree(
    session: Session, engine: Engine, src: Location, dst: Location, *, recursive: bool
) -> Outcome:
    """Plan and run one cp: the four directions, single object or recursive."""
    workers = session.workers
    moving = session.args.command == "mv"  # mv deletes the sources that arrived
    if not src.is_remote:
        unusable: list[Failed] = []
        jobs = upload_jobs(
            session,
            engine,
            Path(src.path),
            dst.bucket,
            dst.key,
            recursive=recursive,
            key_is_prefix=dst.looks_like_dir,
            failed=unusable,
        )
        outcome = await run_jobs(jobs, workers, track_sources=moving)
        outcome.failed += unusable
        return outcome
    if recursive:
        prefix = src.dir_prefix
        if not dst.is_remote:
            return await download_prefix(
                session,
                engine,
                bucket=src.bucket,
                prefix=prefix,
                strip=prefix,
                dest_dir=Path(dst.path),
            )
        dst_prefix = dst.dir_prefix
        copies = [
            copy_job(engine, src.bucket, o.key, dst.bucket, dst_prefix + o.key[len(prefix) :])
            async for o in engine.iter_objects(src.bucket, prefix)
            if session.filters.accepts(o.key[len(prefix) :])
        ]
        return await run_jobs(copies, workers, track_sources=moving)
    if src.is_bucket_only or src.key.endswith("/"):
        raise ConfigError(f"{src} is a bucket or prefix: use -r to copy what is under it")
    if not dst.is_remote:
        dest = local_target(src, dst)
        return await run_jobs(
            [download_job(engine, src.bucket, src.key, dest)], workers, track_sources=moving
        )
    dk = dst.key + src.basename if dst.looks_like_dir else dst.key
    return await run_jobs(
        [copy_job(engine, src.bucket, src.key, dst.bucket, dk)], workers, track_sources=moving
    )


async def _remove_sources(session: Session, engine: Engine, outcome: Outcome) -> None:
    """mv's second half: delete each source that arrived (and only those)."""
    by_bucket: dict[str, list[str]] = {}
    for source in outcome.done_sources:
        location = parse_location(source)
        if location.is_remote:
            by_bucket.setdefault(location.bucket, []).append(location.key)
            continue
        try:
            os.unlink(source)
        except OSError as exc:
            session.console.failure("delete", source, exc)
    for bucket, keys in by_bucket.items():
        result = await engine.delete_objects(bucket, keys)
        for failure in result.failures:
            session.console.warn(
                f"delete {s3_url(bucket, failure.key)}: {failure.code}: {failure.message}"
            )
            session.console.failures += 1


async def _cp_or_mv(session: Session, *, move: bool) -> int:
    args = session.args
    src, dst = parse_location(args.source), parse_location(args.destination)
    if not src.is_remote and not dst.is_remote:
        raise ConfigError("one of source and destination must be an s3:// URL")
    started = time.monotonic()
    async with session.engine() as engine:
        try:
            outcome = await copy_tree(session, engine, src, dst, recursive=bool(args.recursive))
        finally:
            session.progress.close()
        if (
            move
            and src.is_remote
            and outcome.done_sources
            and not outcome.done_sources[0].startswith("s3://")
        ):
            outcome.done_sources = [s3_url(src.bucket, s) for s in outcome.done_sources]
        if move:
            await _remove_sources(session, engine, outcome)
    code = report_outcome(session.console, args.command, outcome, time.monotonic() - started)
    return 1 if session.console.failures else code


async def run_cp(session: Session) -> int:
    return await _cp_or_mv(session, move=False)


async def run_mv(session: Session) -> int:
    return await _cp_or_mv(session, move=True)


async def run_upload(session: Session) -> int:
    """``upload SOURCES… -b BUCKET [-p PREFIX]``: files keep their name, folders their tree."""
    args = session.args
    prefix = _key_prefix(args.prefix)
    started = time.monotonic()
    async with session.engine() as engine:
        outcome = Outcome()
        try:
            for source in args.sources:
                unusable: list[Failed] = []
                jobs = upload_jobs(
                    session,
                    engine,
                    Path(source),
                    args.bucket,
                    prefix,
                    recursive=True,
                    key_is_prefix=True,
                    failed=unusable,
                )
                outcome.merge(await run_jobs(jobs, session.workers))
                outcome.failed += unusable
        finally:
            session.progress.close()
    return report_outcome(session.console, "upload", outcome, time.monotonic() - started)


async def run_download(session: Session) -> int:
    """``download -b BUCKET [-p PREFIX] [-d DEST]``: keys land at DEST/<key after the
    prefix's last slash>, so ``-p photos/2024`` keeps ``2024…/`` folders."""
    args = session.args
    strip = args.prefix[: args.prefix.rfind("/") + 1]
    started = time.monotonic()
    async with session.engine() as engine:
        try:
            outcome = await download_prefix(
                session,
                engine,
                bucket=args.bucket,
                prefix=args.prefix,
                strip=strip,
                dest_dir=Path(args.dest),
            )
        finally:
            session.progress.close()
    return report_outcome(session.console, "download", outcome, time.monotonic() - started)
