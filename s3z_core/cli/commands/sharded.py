"""``--cluster``: the driver's half of ``cp -r``, ``mv -r``, ``sync`` and ``rm -r`` on Dask.

The driver plans exactly as a local run does — the same walk, the same parallel listing,
the same ``plan_*`` producers and sync planner — and then, instead of one engine batch,
submits the specs as shards (``s3z_core.cluster``). Each shard's per-file results come
back and are reported by the local run's own reporting code: the same failure lines, JSON
records, summary and exit code, plus one line (and the summary's ``workers`` field) saying
how many files each worker did.

Credentials never go to the cluster: options that carry a secret are refused with
``--cluster``; workers resolve their own (``local:N`` workers inherit this environment).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from s3z_core.cli.outcome import Failed, report_outcome
from s3z_core.errors import ConfigError, S3zError
from s3z_core.transfer.guard import finish_despite_cancel

if TYPE_CHECKING:
    from s3z_core.auth.connection import ConnectionOptions
    from s3z_core.cli.session import Session
    from s3z_core.cluster.driver import ClusterInfo
    from s3z_core.cluster.reports import Aggregate, ShardReport
    from s3z_core.cluster.shards import ShardTask, Side
    from s3z_core.engine import Engine
    from s3z_core.specs import TransferSpec
    from s3z_core.transfer.plans import PlanItem


def check_cluster(session: Session) -> None:
    """A bad address, or a secret on the command line, stops the run before any listing."""
    from s3z_core.cluster.driver import check_address

    a = session.args
    check_address(a.cluster)
    if a.access_key or a.secret_key or a.session_token:
        raise ConfigError(
            "--cluster never sends credentials to workers: give them through the "
            "environment (AWS_ACCESS_KEY_ID …) or a profile the workers can read"
        )


async def collect(
    session: Session, plan: AsyncIterator[PlanItem], where: str
) -> tuple[list[TransferSpec], list[Failed]]:
    """The plan as specs to shard, and what failed while planning (as a local batch would)."""
    from s3z_core.transfer.plans import Skipped

    specs: list[TransferSpec] = []
    failed: list[Failed] = []
    try:
        async for item in plan:
            if isinstance(item, Skipped):
                session.console.warn(f"skipping {item.path}: {item.reason}")
            elif item.error is not None:
                spec = item.spec
                failed.append(Failed(spec.direction, spec.source, spec.destination, item.error))
            else:
                specs.append(item.spec)
    except S3zError as exc:  # a listing or walk that broke off: what came before still runs
        failed.append(Failed("list", where, "", exc))
    return specs, failed


def _side(options: ConnectionOptions) -> Side:
    from s3z_core.cluster.shards import Side

    return Side(
        profile=options.get("profile"),
        endpoint_url=options.get("endpoint_url"),
        region=options.get("region"),
        addressing_style=options.get("addressing_style"),
        verify_ssl=options.get("verify_ssl", True),
    )


def shard_bounds(session: Session) -> tuple[int, int]:
    from s3z_core.cluster.shards import SHARD_BYTES, SHARD_FILES

    a = session.args
    return (getattr(a, "shard_files", None) or SHARD_FILES), (
        getattr(a, "shard_bytes", None) or SHARD_BYTES
    )


def build_tasks(session: Session, specs: list[TransferSpec]) -> list[ShardTask]:
    from s3z_core.cluster.shards import transfer_tasks

    dest, source = session.sides()
    files, size = shard_bounds(session)
    return transfer_tasks(
        specs,
        dest=_side(dest),
        source=_side(source) if source is not None else None,
        config=session.transfer_config(),
        max_files=files,
        max_bytes=size,
    )


def build_delete_tasks(session: Session, bucket: str, keys: list[str]) -> list[ShardTask]:
    from s3z_core.cluster.shards import delete_tasks

    dest, _ = session.sides()
    files, _ = shard_bounds(session)
    return delete_tasks(
        bucket, keys, dest=_side(dest), config=session.transfer_config(), max_files=files
    )


def _ready(session: Session, info: ClusterInfo, shards: int) -> None:
    where = f"; dashboard {info.dashboard}" if info.dashboard else ""
    session.console.info(
        f"cluster: {len(info.workers)} workers, {shards} shards{where}",
        {"type": "cluster", "workers": list(info.workers), "shards": shards}
        | {"dashboard": info.dashboard},
    )


class _Lifecycle:
    """Per-file events on the driver, as a local run would emit them: every planned file is
    queued before the shards go out, and started + completed (or failed) when its shard's
    report arrives, so the progress view, the per-file lines and the JSON records are a
    local run's (in shard-sized steps)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.ids: dict[tuple[str, str], int] = {}
        self._next = itertools.count(1)

    def queue(self, tasks: list[ShardTask]) -> None:
        from s3z_core.events import TransferQueued

        for task in tasks:
            for spec in task.specs:
                tid = next(self._next)
                self.ids[(spec.source, spec.destination)] = tid
                event = TransferQueued(
                    tid, spec.direction, spec.source, spec.destination, spec.size, spec
                )
                self.session.on_event(event)

    def _id(self, source: str, destination: str) -> int:
        found = self.ids.pop((source, destination), None)
        return found if found is not None else next(self._next)

    def finished(self, report: ShardReport) -> None:
        from s3z_core import events as ev
        from s3z_core.cluster.reports import rebuild_error

        for done in report.completed:
            tid = self._id(done.source, done.destination)
            self.session.on_event(ev.TransferStarted(tid, done.size, done.parts))
            self.session.on_event(
                ev.TransferCompleted(tid, done.size, done.verification, done.etag, done.elapsed_s)
            )
        for failed in report.failed:
            tid = self._id(failed.spec.source, failed.spec.destination)
            error = rebuild_error(failed.error_type, failed.message)
            self.session.on_event(ev.TransferFailed(tid, error))


def _shard_done(
    session: Session, agg: Aggregate, report: ShardReport, shards: int, files: _Lifecycle
) -> None:
    agg.add(report)
    files.finished(report)
    again = f", {report.already_there} already there (re-run)" if report.retry else ""
    session.console.info(
        f"cluster: shard {report.index} ({agg.shards_done}/{shards}) done by {report.worker}: "
        f"{report.files} files, {len(report.failed)} failed{again}",
        {
            "type": "shard",
            "shard": report.index,
            "worker": report.worker,
            "pid": report.pid,
            "files_done": report.files,
            "files_failed": len(report.failed) + len(report.delete_failures),
            "retry": report.retry,
            "already_there": report.already_there,
            "aborted_uploads": report.aborted_uploads,
        },
    )


async def run_on_cluster(session: Session, engine: Engine, tasks: list[ShardTask]) -> Aggregate:
    """Submit the shards (Dask's blocking client runs in a thread), gather on this loop.

    Afterwards — also after Ctrl-C, when closing the cluster may have cut workers off
    mid-upload — the driver aborts what multipart uploads on the planned keys began since
    the run started: no lost or cancelled worker leaves one behind."""
    from s3z_core.cluster.driver import Submission, run_tasks
    from s3z_core.cluster.reports import Aggregate

    loop = asyncio.get_running_loop()
    agg = Aggregate()
    if not tasks:
        return agg
    submission = Submission()
    started = time.time()
    files = _Lifecycle(session)
    files.queue(tasks)

    def ready(info: ClusterInfo) -> None:  # called on the Dask thread: hop to the loop
        loop.call_soon_threadsafe(_ready, session, info, len(tasks))

    def got(report: ShardReport) -> None:
        loop.call_soon_threadsafe(_shard_done, session, agg, report, len(tasks), files)

    work = asyncio.ensure_future(
        asyncio.to_thread(
            run_tasks,
            session.args.cluster,
            tasks,
            on_ready=ready,
            on_report=got,
            submission=submission,
            run_started=started,
        )
    )
    try:
        await asyncio.shield(work)
    except asyncio.CancelledError:
        submission.cancel()  # Ctrl-C: cancel the shards, let the cluster close, then stop
        await asyncio.gather(work, return_exceptions=True)
        raise
    finally:
        await asyncio.sleep(0)  # the last reports' callbacks were queued before the result
        session.progress.close()
        swept = await finish_despite_cancel(_sweep(session, engine, tasks, started))
        agg.aborted_uploads += swept
    return agg


async def _sweep(session: Session, engine: Engine, tasks: list[ShardTask], started: float) -> int:
    from s3z_core.cluster.worker import abort_leftovers

    specs = [spec for task in tasks for spec in task.specs]
    try:
        return await abort_leftovers(engine, specs, started)
    except S3zError as exc:  # the run's own result stands; say what could not be checked
        session.console.warn(f"could not check for unfinished multipart uploads: {exc}")
        return 0


def report_cluster(
    session: Session, command: str, agg: Aggregate, elapsed_s: float, more: list[Failed]
) -> int:
    """Per-worker counts, then the local run's own failure lines, summary and exit code."""
    console = session.console
    workers = dict(sorted(agg.per_worker.items()))
    if not console.json_lines and not console.quiet:
        done = ", ".join(f"{w} did {n}" for w, n in workers.items()) or "no files"
        extra = f"; {agg.retried_shards} shards re-run" if agg.retried_shards else ""
        console.err.write(f"cluster: {done}{extra}\n")
    code = report_outcome(
        console,
        command,
        agg.result,
        elapsed_s,
        more,
        extra={"workers": workers, "shards_rerun": agg.retried_shards}
        | {"already_there": agg.already_there, "aborted_uploads": agg.aborted_uploads},
    )
    return 1 if console.failures else code
