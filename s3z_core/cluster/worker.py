"""What a Dask worker runs for one shard: an Engine on the worker's own event loop.

The task function is synchronous (Dask runs it in a worker thread) and starts a fresh loop
with ``asyncio.run``: the engine never shares a loop with Dask's own. It connects with the
shard's *names* (profile, endpoint) and resolves credentials itself.

A shard is idempotent. When Dask runs it again after its worker was lost (marked by a Dask
``Event`` per shard and run, set by the first attempt), it first lists its own destination
key range (one LIST per 1,000 keys) and skips every file that already arrived — same size,
and the same ETag or a destination written after the source's time — then aborts the
multipart uploads the lost attempt left on its keys (begun after the run started), and
only then runs the rest through the engine's batch like any local run.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

from s3z_core.cluster import require_dask
from s3z_core.cluster.reports import FileFailed, ShardReport, arrived_result
from s3z_core.cluster.shards import ShardTask
from s3z_core.errors import S3zError
from s3z_core.filesystem import fs_call
from s3z_core.models import ObjectInfo
from s3z_core.specs import TransferSpec
from s3z_core.transfer.paths import DestinationGuard

if TYPE_CHECKING:
    from s3z_core.auth.connection import ConnectionOptions
    from s3z_core.engine import Engine

CLOCK_SLACK_S = 300.0  # uploads begun this long before the run started are never ours


def run_shard(task: ShardTask, run_id: str, run_started: float) -> ShardReport:
    """The Dask task: one shard, on a loop of its own; ``run_id`` names the run's Events."""
    from s3z_core.engine import WORK_MODULES, prepare

    prepare(*WORK_MODULES)  # before the shard's loop (imports block it): any kind of shard
    retry = _seen_before(f"s3z-{run_id}-shard-{task.index}")
    return asyncio.run(run_shard_async(task, retry=retry, run_started=run_started))


def _seen_before(name: str) -> bool:
    """Whether an earlier attempt of this shard started (then set it for later attempts)."""
    event = require_dask().Event(name)
    seen = bool(event.is_set())
    event.set()
    return seen


def _worker_address() -> str:
    try:
        return str(require_dask().get_worker().address)
    except (S3zError, ValueError):  # not inside a Dask worker (a test runs the shard directly)
        return f"pid {os.getpid()}"


async def _connect(task: ShardTask) -> Engine:
    from s3z_core.engine import Engine

    source = cast("ConnectionOptions", task.source.options()) if task.source else None
    return await Engine.connect(
        transfer_config=task.config,
        source=source,
        **cast("ConnectionOptions", task.dest.options()),
    )


async def run_shard_async(task: ShardTask, *, retry: bool, run_started: float) -> ShardReport:
    report = ShardReport(task.index, _worker_address(), os.getpid(), retry=retry)
    async with await _connect(task) as engine:
        if task.kind == "delete":
            deleted = await engine.delete_objects(task.bucket, task.keys)
            report.deleted, report.delete_failures = deleted.deleted, deleted.failures
            return report
        specs = list(task.specs)
        if retry:
            specs = await _not_arrived(engine, task, report)
            report.aborted_uploads = await abort_leftovers(engine, specs, run_started)
        guard = _guard(specs)
        result = await engine.run_batch(specs, keep_results=True, guard=guard).result()
    report.completed.extend(result.completed)
    for failure in result.failed:
        spec = failure.spec
        if spec is None:  # a plan failure cannot happen for given specs; say so if it does
            spec = TransferSpec.copy("", failure.source, "", failure.destination)
        report.failed.append(FileFailed(spec, type(failure.error).__name__, str(failure.error)))
    return report


def common_prefix(keys: Iterable[str]) -> str:
    """The longest string every key starts with (of the first and last key: enough)."""
    ordered = sorted(keys)
    if not ordered:
        return ""
    first, last = ordered[0], ordered[-1]
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[:size]


def _guard(specs: list[TransferSpec]) -> DestinationGuard | None:
    """Downloads into a folder keep the destination guard of a local run."""
    for spec in specs:
        if spec.direction == "download" and spec.local_root:
            return DestinationGuard(Path(spec.local_root), spec.strip_prefix)
    return None


async def _listed_range(engine: Engine, task: ShardTask, bucket: str) -> dict[str, ObjectInfo]:
    """The destination objects in this shard's key range, from as few LISTs as it takes."""
    keys = [s.key for s in task.specs]
    last = max(keys)
    prefix = common_prefix(keys)
    found: dict[str, ObjectInfo] = {}
    async for page in engine.list_objects(bucket, prefix, start_after=task.after):
        for obj in page.objects:
            found[obj.key] = obj
        if page.objects and page.objects[-1].key >= last:
            break
    return found


def _arrived(spec: TransferSpec, info: ObjectInfo | None) -> bool:
    if info is None or spec.size is None or info.size != spec.size:
        return False
    if spec.etag and info.etag == spec.etag:
        return True
    stamp = info.last_modified.timestamp() if info.last_modified else None
    return spec.mtime is not None and stamp is not None and stamp >= spec.mtime


def _local_arrived(spec: TransferSpec) -> bool:
    try:
        st = os.stat(spec.local_path)
    except OSError:
        return False
    same_time = spec.mtime is not None and abs(st.st_mtime - spec.mtime) <= 1.0
    return st.st_size == spec.size and same_time


async def _not_arrived(engine: Engine, task: ShardTask, report: ShardReport) -> list[TransferSpec]:
    todo: list[TransferSpec] = []
    downloads = [s for s in task.specs if s.direction == "download"]
    remote = [s for s in task.specs if s.direction != "download"]
    found = await _listed_range(engine, task, remote[0].bucket) if remote else {}
    local = await fs_call(lambda: [_local_arrived(s) for s in downloads])
    there = dict(zip(downloads, local, strict=True))
    for spec in task.specs:
        info = found.get(spec.key)
        done = there[spec] if spec.direction == "download" else _arrived(spec, info)
        if done:
            report.already_there += 1
            report.completed.append(arrived_result(spec, info.etag if info else ""))
        else:
            todo.append(spec)
    return todo


async def abort_leftovers(engine: Engine, specs: Iterable[TransferSpec], run_started: float) -> int:
    """Abort multipart uploads on this shard's keys begun since the run started: a lost
    attempt's (nothing else of ours can be writing those keys now)."""
    wanted: dict[str, set[str]] = {}
    for spec in specs:
        if spec.direction != "download":
            wanted.setdefault(spec.bucket, set()).add(spec.key)
    aborted = 0
    since = datetime.fromtimestamp(run_started - CLOCK_SLACK_S).astimezone()
    for bucket, keys in wanted.items():
        prefix = common_prefix(keys)
        for upload in await engine.list_multipart_uploads(bucket, prefix):
            begun = upload.initiated
            if begun is not None and begun.tzinfo is None:
                begun = begun.replace(tzinfo=UTC)
            if upload.key in keys and (begun is None or begun >= since):
                await engine.abort_multipart_upload(bucket, upload.key, upload.upload_id)
                aborted += 1
    return aborted
