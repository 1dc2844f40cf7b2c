"""From a ``TransferSpec`` to the job that carries it out: the one place a spec becomes work.

Building a job does no I/O: it allocates the transfer's control, announces it
(``TransferQueued`` with the spec) and binds the coroutine that will run it — an upload, a
download, a copy, or a folder marker either way. Batches, single transfers and restarts
all come through here, so every entry point runs a spec the same way.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from s3z_core.errors import LocalFileError, S3zError
from s3z_core.events import TransferQueued, TransferStarted
from s3z_core.filesystem import fs_call
from s3z_core.models import TransferResult
from s3z_core.records import record
from s3z_core.specs import SpecEnds, TransferSpec
from s3z_core.transfer.control import (
    PauseGate,
    TransferContext,
    TransferControl,
    size_only_result,
)
from s3z_core.transfer.paths import DestinationGuard

Runner = Callable[[], Awaitable[TransferResult]]


@record(frozen=False)
class Job(SpecEnds):
    control: TransferControl
    spec: TransferSpec
    run: Runner | None
    error: S3zError | None = None  # a job that failed while being planned (unsafe key, …)


def queue_job(
    ctx: TransferContext,
    spec: TransferSpec,
    gate: PauseGate | None = None,
    transfer_id: int | None = None,
) -> TransferControl:
    control = ctx.new_control(gate, transfer_id)
    control.label = spec.source
    ctx.emit(
        TransferQueued(
            control.transfer_id, spec.direction, spec.source, spec.destination, spec.size, spec
        )
    )
    return control


def build_job(
    ctx: TransferContext,
    spec: TransferSpec,
    *,
    gate: PauseGate | None = None,
    guard: DestinationGuard | None = None,
    error: S3zError | None = None,
    transfer_id: int | None = None,
) -> Job:
    """A queued job for ``spec``; ``error`` makes it one that failed while being planned;
    ``transfer_id``: the id it keeps (a resumed row of a persisted queue), else a new one."""
    control = queue_job(ctx, spec, gate, transfer_id)
    if guard is None and spec.direction == "download" and spec.local_root:
        # A spec that names its folder is always guarded, however it arrives (a restart,
        # a persisted queue resumed): its path is derived from the key again.
        guard = DestinationGuard(Path(spec.local_root), spec.strip_prefix)
    if error is not None:
        return Job(control, spec, None, error)
    return Job(control, spec, bind(ctx, control, spec, guard))


def bind(
    ctx: TransferContext,
    control: TransferControl,
    spec: TransferSpec,
    guard: DestinationGuard | None = None,
) -> Runner:
    """The coroutine function that runs ``spec`` (``guard``: a download's path came from its
    key, and is checked against the destination folder before anything is written). Each
    direction's module is imported here, for the spec that needs it (an entry point imports
    it before its loop: ``engine.prepare``): a download loads no upload code, and the
    reverse."""
    if spec.direction == "upload":
        if spec.marker:
            return lambda: _put_marker(ctx, control, spec)
        from s3z_core.transfer.upload import upload_file

        metadata = dict(spec.metadata) or None
        return lambda: upload_file(
            ctx,
            control,
            spec.local_path,
            spec.bucket,
            spec.key,
            metadata=metadata,
            content_type=spec.content_type,
            cache_control=spec.cache_control,
        )
    if spec.direction == "download":
        if spec.marker:
            return lambda: _make_folder(ctx, control, spec, guard)
        from s3z_core.transfer.download import download_file

        return lambda: download_file(
            ctx,
            control,
            spec.bucket,
            spec.key,
            Path(spec.local_path),
            size=spec.size,
            etag=spec.etag,
            mtime=spec.mtime,
            guard=guard,
            version_id=spec.version_id,
        )
    if ctx.source_ops is None:
        from s3z_core.transfer.copy import copy_object as copy
    else:
        from s3z_core.transfer.relay import relay_object as copy
    return lambda: copy(ctx, control, spec)


async def _put_marker(
    ctx: TransferContext, control: TransferControl, spec: TransferSpec
) -> TransferResult:
    """An empty folder uploads as the zero-byte ``dir/`` object other tools show as a folder."""
    started = time.monotonic()
    ctx.emit(TransferStarted(control.transfer_id, 0, 1))
    await control.wait_runnable()
    async with ctx.requests:
        etag = await ctx.ops.put_object(spec.bucket, spec.key, b"")
    return size_only_result(control, spec, 0, etag, 1, started)


def _mkdir(path: Path, resolve: Callable[[], Path] | None) -> Path:
    target = resolve() if resolve is not None else path
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LocalFileError(f"cannot create folder {target}: {exc.strerror}") from None
    return target


async def _make_folder(
    ctx: TransferContext,
    control: TransferControl,
    spec: TransferSpec,
    guard: DestinationGuard | None,
) -> TransferResult:
    """A folder marker downloads as the folder (the root's own marker: the root itself)."""
    started = time.monotonic()
    ctx.emit(TransferStarted(control.transfer_id, 0, 0))
    root_marker = guard is not None and Path(spec.local_path) == guard.dest_dir
    resolve = None if guard is None or root_marker else (lambda: guard.path_for(spec.key))
    await fs_call(_mkdir, Path(spec.local_path), resolve)
    return size_only_result(control, spec, 0, "", 0, started)
