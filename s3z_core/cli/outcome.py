"""Run many engine transfers with bounded parallelism, and cancel them cleanly on Ctrl-C.

Each transfer is started lazily when a slot frees up (at most ``workers`` at once), so a
100,000-file copy holds 100,000 small records, not 100,000 running tasks. On
cancellation every started handle is cancelled *and awaited*: the engine aborts the
multipart upload / removes the temp file before we report "interrupted".
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from s3z_core.cli.units import format_size
from s3z_core.errors import S3zError

if TYPE_CHECKING:
    from s3z_core.cli.render import Console
    from s3z_core.engine import BatchHandle, TransferHandle
    from s3z_core.models import BatchResult, TransferResult


@dataclass(frozen=True, slots=True)
class Failed:
    operation: str
    source: str
    destination: str
    error: S3zError


@dataclass(slots=True)
class Outcome:
    """Counts what arrived and lists what failed; keeps no per-file record of successes,
    so a million-file copy stays flat in memory (only ``mv`` tracks sources to delete)."""

    files_done: int = 0
    bytes_done: int = 0
    failed: list[Failed] = field(default_factory=list)
    # The sources (local path or s3:// URL, as given to the job) that arrived: what mv deletes.
    done_sources: list[str] = field(default_factory=list)

    def merge(self, other: Outcome) -> None:
        self.files_done += other.files_done
        self.bytes_done += other.bytes_done
        self.failed += other.failed
        self.done_sources += other.done_sources

    def arrived(self, result: TransferResult, source: str, track_source: bool) -> None:
        self.files_done += 1
        self.bytes_done += result.size
        if track_source:
            self.done_sources.append(source)


async def finish_handle(handle: TransferHandle) -> TransferResult:
    """Await one transfer; if *we* are cancelled, cancel it and wait for its cleanup."""
    try:
        return await handle.result()
    except asyncio.CancelledError:
        handle.cancel()
        with contextlib.suppress(asyncio.CancelledError, S3zError):
            await handle.result()
        raise


async def finish_batch(batch: BatchHandle) -> BatchResult:
    try:
        return await batch.result()
    except asyncio.CancelledError:
        batch.cancel()
        with contextlib.suppress(asyncio.CancelledError, S3zError):
            await batch.result()
        raise


@dataclass(frozen=True, slots=True)
class Job:
    operation: str  # upload / download / copy
    source: str
    destination: str
    start: Callable[[], TransferHandle]


async def run_jobs(jobs: Iterable[Job], workers: int, track_sources: bool = False) -> Outcome:
    outcome = Outcome()
    pending = iter(jobs)

    async def slot() -> None:
        for job in pending:
            try:
                outcome.arrived(await finish_handle(job.start()), job.source, track_sources)
            except S3zError as exc:
                outcome.failed.append(Failed(job.operation, job.source, job.destination, exc))

    tasks = [asyncio.ensure_future(slot()) for _ in range(max(1, workers))]
    try:
        await asyncio.gather(*tasks)
    except asyncio.CancelledError:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    return outcome


def batch_outcome(operation: str, result: BatchResult) -> Outcome:
    """``result.completed`` is filled only by batches run with ``keep_results`` (mv)."""
    return Outcome(
        result.files_done,
        result.bytes_done,
        [Failed(operation, f.source, f.destination, f.error) for f in result.failed],
        [r.source for r in result.completed],
    )


def report_failed(console: Console, failed: Iterable[Failed]) -> None:
    """One line each (``operation source -> destination: error``), and a JSON record."""
    for failure in failed:
        target = failure.source
        if failure.destination:
            target = f"{failure.source} -> {failure.destination}"
        console.failure(failure.operation, target, failure.error)


def report_outcome(console: Console, command: str, outcome: Outcome, elapsed_s: float) -> int:
    """List every failure (one line each), print a summary; exit 1 if anything failed."""
    report_failed(console, outcome.failed)
    total = outcome.bytes_done
    rate = total / elapsed_s if elapsed_s > 0 else 0.0
    record = {
        "type": "summary",
        "command": command,
        "ok": not outcome.failed,
        "files_done": outcome.files_done,
        "files_failed": len(outcome.failed),
        "bytes": total,
        "elapsed_s": round(elapsed_s, 3),
        "rate_bps": round(rate, 1),
    }
    if console.json_lines:
        console.emit(record)
    elif not console.quiet and (outcome.files_done or outcome.failed):
        failed = f", {len(outcome.failed)} failed" if outcome.failed else ""
        console.err.write(
            f"{command}: {outcome.files_done} files, {format_size(total)} in "
            f"{elapsed_s:.2f} s ({format_size(rate)}/s){failed}\n"
        )
    return 1 if outcome.failed else 0
