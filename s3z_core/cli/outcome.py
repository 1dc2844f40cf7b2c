"""How a command's outcome is told: every failure on its own line, then one summary.

The CLI runs no transfers of its own: every multi-file operation is an engine batch, and
this module only reports the ``BatchResult`` it returns (plus any failure the command met
outside a batch, such as an unreadable local folder while planning a sync).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from s3z_core.cli.units import format_size
from s3z_core.errors import S3zError
from s3z_core.records import record

if TYPE_CHECKING:
    from s3z_core.cli.render import Console
    from s3z_core.models import BatchResult


@record
class Failed:
    """One failed item: what was being done, to what, and the typed error."""

    operation: str
    source: str
    destination: str
    error: S3zError


def failures_of(result: BatchResult) -> list[Failed]:
    return [Failed(f.operation, f.source, f.destination, f.error) for f in result.failed]


def report_failed(console: Console, failed: Iterable[Failed]) -> None:
    """One line each (``operation source -> destination: error``), and a JSON record."""
    for failure in failed:
        target = failure.source
        if failure.destination:
            target = f"{failure.source} -> {failure.destination}"
        console.failure(failure.operation, target, failure.error)


def report_outcome(
    console: Console,
    command: str,
    result: BatchResult,
    elapsed_s: float,
    more_failed: Iterable[Failed] = (),
    extra: dict[str, object] | None = None,
) -> int:
    """List every failure (one line each), print a summary; exit 1 if anything failed.
    ``extra``: more summary fields (a cluster run's per-worker file counts)."""
    failed = [*failures_of(result), *more_failed]
    report_failed(console, failed)
    total = result.bytes_done
    rate = total / elapsed_s if elapsed_s > 0 else 0.0
    record = {
        "type": "summary",
        "command": command,
        "ok": not failed,
        "files_done": result.files_done,
        "files_failed": len(failed),
        "bytes": total,
        "elapsed_s": round(elapsed_s, 3),
        "rate_bps": round(rate, 1),
    } | (extra or {})
    if console.json_lines:
        console.emit(record)
    elif not console.quiet and (result.files_done or failed):
        failures = f", {len(failed)} failed" if failed else ""
        console.err.write(
            f"{command}: {result.files_done} files, {format_size(total)} in "
            f"{elapsed_s:.2f} s ({format_size(rate)}/s){failures}\n"
        )
    return 1 if failed else 0
