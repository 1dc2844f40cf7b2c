"""How the CLI shows progress and results: a TTY bar, plain lines, or JSON lines.

Progress is behind one interface (``ProgressView``: called with each engine event,
then ``close()``), like s5cmd's, with a no-op implementation. The TTY bar goes to
stderr, redrawn with ``\\r`` at most ``MAX_REDRAWS_PER_S`` times a second whatever the
event rate; off a TTY nothing but plain lines is written (no escape codes, CI logs
stay readable); ``--json`` writes one JSON object per line to stdout (schema in
the README; fields are only ever added, never renamed). The clock is injected so
the throttle is tested without sleeping.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import field
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from s3z_core import events as ev
from s3z_core.cli.units import format_duration, format_size
from s3z_core.records import record

if TYPE_CHECKING:
    from s3z_core.errors import S3zError
    from s3z_core.events import TransferEvent

Clock = Callable[[], float]
MAX_REDRAWS_PER_S = 10
RATE_WINDOW_S = 3.0
PROG = "s3z-core"


def error_record(error: BaseException) -> dict[str, Any]:
    """The JSON shape of an error: its kind (class), message, and for S3 errors code/status."""
    record: dict[str, Any] = {"kind": type(error).__name__, "message": str(error)}
    code = getattr(error, "code", None)
    if isinstance(code, str):
        record["code"] = code
        record["status"] = getattr(error, "status", None)
        record["s3_message"] = getattr(error, "message", "")
    return record


@record(frozen=False)
class _Transfer:
    direction: str
    source: str
    destination: str
    size: int | None
    done: int = 0


@record(frozen=False)
class ProgressTally:
    """Aggregate progress folded from events: bytes, files, failures, a windowed rate."""

    bytes_done: int = 0
    bytes_total: int = 0
    files_total: int = 0
    files_done: int = 0
    files_failed: int = 0
    files_cancelled: int = 0
    retries: int = 0
    started_at: float | None = None
    transfers: dict[int, _Transfer] = field(default_factory=dict)
    _samples: deque[tuple[float, int]] = field(default_factory=deque)

    def apply(self, event: TransferEvent, now: float) -> _Transfer | None:
        """Fold one event in; returns the transfer it finished (completed/failed), if any."""
        if self.started_at is None:
            self.started_at = now
        if isinstance(event, ev.TransferQueued):
            self.transfers[event.transfer_id] = _Transfer(
                event.direction, event.source, event.destination, event.size
            )
            self.files_total += 1
            self.bytes_total += event.size or 0
        elif isinstance(event, ev.TransferStarted):
            t = self.transfers.get(event.transfer_id)
            if t is not None and t.size is None:
                t.size = event.size
                self.bytes_total += event.size
        elif isinstance(event, ev.BytesTransferred):
            t = self.transfers.get(event.transfer_id)
            if t is not None:
                t.done += event.delta
            self.bytes_done += event.delta
        elif isinstance(event, ev.PartRetried | ev.RequestRetried):
            self.retries += 1
        elif isinstance(event, ev.TransferCompleted):
            t = self.transfers.pop(event.transfer_id, None)
            if t is not None and t.done < event.size:
                self.bytes_done += event.size - t.done  # sinks may batch the tail away
            self.files_done += 1
            return t
        elif isinstance(event, ev.TransferFailed):
            t = self.transfers.pop(event.transfer_id, None)
            if t is not None:
                self.bytes_done -= t.done
                self.bytes_total -= t.size or 0
            self.files_failed += 1
            return t
        elif isinstance(event, ev.TransferCancelled):
            t = self.transfers.pop(event.transfer_id, None)
            if t is not None:
                self.bytes_done -= t.done
                self.bytes_total -= t.size or 0
            self.files_cancelled += 1
        self._samples.append((now, self.bytes_done))
        while len(self._samples) > 2 and now - self._samples[0][0] > RATE_WINDOW_S:
            self._samples.popleft()
        return None

    def rate_bps(self, now: float) -> float:
        """Bytes per second over the last few seconds (0 until there are two samples)."""
        if not self._samples:
            return 0.0
        t0, b0 = self._samples[0]
        if now - t0 <= 0:
            return 0.0
        return max(0.0, (self.bytes_done - b0) / (now - t0))

    def eta_s(self, now: float) -> float | None:
        rate = self.rate_bps(now)
        remaining = self.bytes_total - self.bytes_done
        if rate <= 0 or remaining <= 0:
            return None
        return remaining / rate

    def elapsed_s(self, now: float) -> float:
        return 0.0 if self.started_at is None else now - self.started_at

    def snapshot(self, now: float) -> dict[str, Any]:
        eta = self.eta_s(now)
        return {
            "type": "progress",
            "bytes_done": self.bytes_done,
            "bytes_total": self.bytes_total,
            "files_done": self.files_done,
            "files_total": self.files_total,
            "files_failed": self.files_failed,
            "retries": self.retries,
            "rate_bps": round(self.rate_bps(now), 1),
            "eta_s": None if eta is None else round(eta, 1),
            "elapsed_s": round(self.elapsed_s(now), 3),
        }

    def status_line(self, now: float) -> str:
        parts = [f"{format_size(self.bytes_done)} / {format_size(self.bytes_total)}"]
        if self.bytes_total:
            parts.append(f"{min(100, 100 * self.bytes_done // self.bytes_total):3d}%")
        parts.append(f"{format_size(self.rate_bps(now))}/s")
        eta = self.eta_s(now)
        parts.append(f"ETA {format_duration(eta)}" if eta is not None else "ETA -:--")
        parts.append(f"files {self.files_done}/{self.files_total}")
        if self.files_failed:
            parts.append(f"failed {self.files_failed}")
        if self.retries:
            parts.append(f"retries {self.retries}")
        return "  ".join(parts)


class ProgressView(Protocol):
    def __call__(self, event: TransferEvent) -> None: ...

    def close(self) -> None: ...


class Console:
    """Where results, per-file lines, warnings and failures go; knows text vs JSON."""

    def __init__(
        self,
        *,
        out: TextIO | None = None,
        err: TextIO | None = None,
        json_lines: bool = False,
        quiet: bool = False,
    ) -> None:
        self.out = out if out is not None else sys.stdout
        self.err = err if err is not None else sys.stderr
        self.json_lines = json_lines
        self.quiet = quiet
        self.failures = 0
        # A live bar registers itself here so other stderr output clears its line first.
        self.clear_line: Callable[[], None] = lambda: None

    def emit(self, record: dict[str, Any]) -> None:
        # Flushed per line: a pipe is block-buffered, and a JSON consumer wants progress now.
        self.out.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        self.out.flush()

    def result(self, record: dict[str, Any], text: str) -> None:
        """A command's answer (an ls row, a URL): always shown, even with -q."""
        if self.json_lines:
            self.emit(record)
        else:
            self.clear_line()
            self.out.write(text + "\n")

    def results_text(self, texts: list[str]) -> None:
        """Many answers' text lines at once (one write): what ``result`` shows without JSON."""
        if texts:
            self.clear_line()
            self.out.write("\n".join(texts) + "\n")

    def info(self, text: str, record: dict[str, Any] | None = None) -> None:
        """A per-item line (``upload: a -> s3://b/a``): hidden by -q; JSON only if a record."""
        if self.json_lines:
            if record is not None:
                self.emit(record)
        elif not self.quiet:
            self.clear_line()
            self.out.write(text + "\n")

    def warn(self, text: str) -> None:
        self.clear_line()
        self.err.write(f"{PROG}: warning: {text}\n")
        self.err.flush()

    def failure(self, operation: str, target: str, error: S3zError | OSError) -> None:
        """One failed item: always on stderr (one line), plus a JSON record with --json."""
        self.failures += 1
        self.clear_line()
        text = str(error)
        # Engine errors already name operation and object; don't say it twice.
        line = text if (target and target in text) else f"{operation} {target}: {text}"
        self.err.write(f"{PROG}: failed: {line}\n")
        self.err.flush()
        if self.json_lines:
            self.emit(
                {"type": "failure", "operation": operation, "target": target}
                | {"error": error_record(error)}
            )


def _completion_line(transfer: _Transfer) -> str:
    return f"{transfer.direction}: {transfer.source} -> {transfer.destination}"


class NoProgress:
    """Prints one line per finished file (unless -q); no bar, no escape codes."""

    def __init__(self, console: Console, clock: Clock) -> None:
        self.console = console
        self.clock = clock
        self.tally = ProgressTally()

    def __call__(self, event: TransferEvent) -> None:
        finished = self.tally.apply(event, self.clock())
        if finished is not None and isinstance(event, ev.TransferCompleted):
            self.console.info(_completion_line(finished))

    def close(self) -> None:
        return None


class TtyProgress(NoProgress):
    """A single status line on a terminal, redrawn with ``\\r`` at most 10 times a second."""

    def __init__(self, console: Console, clock: Clock, stream: TextIO | None = None) -> None:
        super().__init__(console, clock)
        self.stream = stream if stream is not None else console.err
        self.last_draw: float | None = None
        self.draws = 0
        self.drawn = False
        console.clear_line = self._clear

    def _clear(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.drawn = False

    def _draw(self, now: float) -> None:
        width = shutil.get_terminal_size((100, 24)).columns
        line = self.tally.status_line(now)[: max(10, width - 1)]
        self.stream.write("\r" + line + "\x1b[K")
        self.stream.flush()
        self.drawn = True
        self.draws += 1
        self.last_draw = now

    def __call__(self, event: TransferEvent) -> None:
        super().__call__(event)
        now = self.clock()
        if self.last_draw is None or now - self.last_draw >= 1.0 / MAX_REDRAWS_PER_S:
            self._draw(now)

    def close(self) -> None:
        if self.tally.files_total:
            self._draw(self.clock())
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False
        self.console.clear_line = lambda: None


class JsonProgress:
    """Lifecycle events as JSON lines, plus a throttled aggregate ``progress`` record."""

    def __init__(self, console: Console, clock: Clock) -> None:
        self.console = console
        self.clock = clock
        self.tally = ProgressTally()
        self.last_emit: float | None = None

    def __call__(self, event: TransferEvent) -> None:
        now = self.clock()
        self.tally.apply(event, now)
        record: dict[str, Any] | None = None
        if isinstance(event, ev.TransferQueued):
            record = {
                "type": "queued",
                "id": event.transfer_id,
                "direction": event.direction,
                "source": event.source,
                "destination": event.destination,
                "size": event.size,
            }
        elif isinstance(event, ev.TransferStarted):
            record = {"type": "started", "id": event.transfer_id}
            record |= {"size": event.size, "parts": event.parts}
        elif isinstance(event, ev.PartRetried):
            record = {"type": "retried", "id": event.transfer_id, "part": event.part_number}
            record |= {"attempt": event.attempt, "reason": event.reason}
            record["delay_s"] = event.delay_s
        elif isinstance(event, ev.RequestRetried):
            record = {"type": "retried", "operation": event.operation}
            record |= {"attempt": event.attempt, "reason": event.reason}
            record["delay_s"] = event.delay_s
        elif isinstance(event, ev.TransferCompleted):
            record = {"type": "completed", "id": event.transfer_id, "size": event.size}
            record |= {"verification": event.verification.value, "etag": event.etag}
            record["elapsed_s"] = round(event.elapsed_s, 3)
        elif isinstance(event, ev.TransferFailed):
            record = {"type": "failed", "id": event.transfer_id}
            record["error"] = error_record(event.error)
        elif isinstance(event, ev.TransferCancelled):
            record = {"type": "cancelled", "id": event.transfer_id}
        if record is not None:
            self.console.emit(record)
        if self.last_emit is None or now - self.last_emit >= 1.0 / MAX_REDRAWS_PER_S:
            self.console.emit(self.tally.snapshot(now))
            self.last_emit = now

    def close(self) -> None:
        if self.tally.files_total:
            self.console.emit(self.tally.snapshot(self.clock()))


def make_progress(
    console: Console, *, clock: Clock, show_bar: bool, stderr_is_tty: bool
) -> NoProgress | JsonProgress:
    """Pick the view: JSON lines, a live bar (TTY and wanted), or plain lines."""
    if console.json_lines:
        return JsonProgress(console, clock)
    if show_bar and stderr_is_tty and not console.quiet:
        return TtyProgress(console, clock)
    return NoProgress(console, clock)
