"""The transfer queue as pure Python rows, folded from engine events (no Qt here).

The engine may emit thousands of events a second; this store only records what
changed. The Qt model asks for the changes once per tick, so the cost of the UI
stays flat whatever the event rate (see STYLE.md, "How progress travels").
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from pathlib import PurePosixPath

from s3z_core.errors import S3zError, ServiceError, UnsafeKeyError
from s3z_core.events import (
    BytesTransferred,
    Direction,
    PartRetried,
    RequestRetried,
    TransferCancelled,
    TransferCompleted,
    TransferEvent,
    TransferFailed,
    TransferPaused,
    TransferQueued,
    TransferResumed,
    TransferStarted,
    Verification,
)
from s3z_core.specs import TransferSpec

# Speed is averaged over this window: long enough to be steady, short enough to react.
RATE_WINDOW_S = 2.0


class Column(IntEnum):
    NAME = 0
    DIRECTION = 1
    SIZE = 2
    PROGRESS = 3
    SPEED = 4
    ETA = 5
    STATUS = 6


ALL_COLUMNS = frozenset(Column)
PROGRESS_COLUMNS = frozenset({Column.PROGRESS, Column.SPEED, Column.ETA})


class Status(StrEnum):
    QUEUED = "Queued"
    RUNNING = "Running"
    PAUSED = "Paused"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELLED = "Cancelled"

    @property
    def finished(self) -> bool:
        return self in (Status.COMPLETED, Status.FAILED, Status.CANCELLED)


class MarkerKind(StrEnum):
    RETRY = "retry"
    THROTTLE = "throttle"


@dataclass(frozen=True, slots=True)
class Marker:
    """A retry or throttle moment to pin on the throughput chart."""

    at_s: float
    kind: MarkerKind
    text: str


def marker_kind(throttled: bool) -> MarkerKind:
    """Throttling is worth telling apart on the chart: the server asked us to slow down.

    The engine decides it by the error's type (``ThrottledError``: SlowDown,
    ServiceUnavailable, TooManyRequests, 503, 429 …) and says so on the retry event;
    the reason text is only shown, never read.
    """
    return MarkerKind.THROTTLE if throttled else MarkerKind.RETRY


def describe_error(error: S3zError) -> str:
    """What the queue row says on failure: the S3 code first, never a traceback."""
    if isinstance(error, ServiceError):
        detail = error.message or f"HTTP {error.status}"
        return f"{error.code}: {detail}"
    return str(error) or type(error).__name__


def unsafe_refusal(error: UnsafeKeyError) -> str:
    """Why a row whose key would leave the download folder is never retried."""
    return f"Retry is off: the key would be written outside the download folder ({error.reason})"


def _leaf(path: str) -> str:
    trimmed = path.rstrip("/")
    if trimmed.startswith("s3://"):
        trimmed = trimmed[len("s3://") :]
    return PurePosixPath(trimmed.replace("\\", "/")).name or path


@dataclass(slots=True)
class TransferRow:
    transfer_id: int
    direction: Direction
    source: str
    destination: str
    size: int | None
    done_bytes: int = 0
    status: Status = Status.QUEUED
    error: str = ""
    error_code: str = ""  # the S3 error code when the server said no (NoSuchKey, …)
    verification: Verification | None = None
    retries: int = 0
    rate_bps: float = 0.0
    elapsed_s: float | None = None
    # (time, cumulative bytes) samples for the moving-average speed
    samples: deque[tuple[float, int]] = field(default_factory=deque, repr=False)
    # What the engine says this transfer is: Retry runs it again (``Engine.restart``).
    spec: TransferSpec | None = None
    retry_refusal: str = ""  # why Retry must not run this row again; "" when it may

    @property
    def local_root(self) -> str | None:
        """A download's folder: the engine derives the path from the key under it again."""
        return (self.spec.local_root or None) if self.spec is not None else None

    @property
    def strip_prefix(self) -> str:
        return self.spec.strip_prefix if self.spec is not None else ""

    def requeue(self, event: TransferQueued) -> None:
        """The row's transfer runs again (Retry): back to queued, nothing carried over."""
        self.source, self.destination, self.size = event.source, event.destination, event.size
        self.spec = event.spec
        self.done_bytes = self.retries = 0
        self.status = Status.QUEUED
        self.error = self.error_code = self.retry_refusal = ""
        self.verification = self.elapsed_s = None
        self.rate_bps = 0.0
        self.samples.clear()

    @property
    def retryable(self) -> bool:
        return self.status in (Status.FAILED, Status.CANCELLED) and not self.retry_refusal

    @property
    def name(self) -> str:
        """The file's own name: the local side for uploads, the key's leaf for downloads."""
        return _leaf(self.source if self.direction == "upload" else self.destination)

    @property
    def local_path(self) -> str:
        return self.source if self.direction == "upload" else self.destination

    @property
    def fraction(self) -> float:
        if self.status == Status.COMPLETED:
            return 1.0
        if not self.size:
            return 0.0
        return max(0.0, min(1.0, self.done_bytes / self.size))

    @property
    def eta_s(self) -> float | None:
        if self.status != Status.RUNNING or self.rate_bps <= 0 or self.size is None:
            return None
        return max(0.0, (self.size - self.done_bytes) / self.rate_bps)

    @property
    def status_text(self) -> str:
        if self.status == Status.FAILED and self.error_code:
            return f"Failed: {self.error_code}"
        if self.status == Status.FAILED and self.error:
            return f"Failed: {self.error}"
        if self.status == Status.COMPLETED and self.verification in (
            Verification.VERIFIED_MD5,
            Verification.VERIFIED_COMPOSITE,
        ):
            return "Verified"
        if self.status == Status.RUNNING and self.retries:
            return f"Running ({self.retries} retries)"
        return self.status.value


@dataclass(frozen=True, slots=True)
class TickChanges:
    """What one tick must tell the view: new rows, changed cells, bytes moved, markers."""

    first_new_row: int
    new_row_count: int
    changed: dict[int, frozenset[Column]]
    upload_bytes: int
    download_bytes: int
    markers: tuple[Marker, ...]


@dataclass(frozen=True, slots=True)
class Totals:
    active: int  # running now; paused transfers are counted apart (bug 9)
    queued: int
    completed: int
    failed: int
    upload_bps: float
    download_bps: float
    remaining_bytes: int
    paused: int = 0
    cancelled: int = 0


class TransferStore:
    """Rows in arrival order plus an index by transfer id; records dirt, not pixels."""

    def __init__(self) -> None:
        self.rows: list[TransferRow] = []
        self._index: dict[int, int] = {}
        self._dirty: dict[int, set[Column]] = {}  # by transfer id, so removals keep it valid
        self._published_rows = 0
        self._moved = {"upload": 0, "download": 0, "copy": 0}
        self._markers: list[Marker] = []

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def published_rows(self) -> int:
        """Rows the view already knows about (new rows appear on the next tick)."""
        return self._published_rows

    def row_for(self, transfer_id: int) -> TransferRow | None:
        position = self._index.get(transfer_id)
        return None if position is None else self.rows[position]

    def _touch(self, transfer_id: int, columns: frozenset[Column]) -> TransferRow | None:
        position = self._index.get(transfer_id)
        if position is None:
            return None
        self._dirty.setdefault(transfer_id, set()).update(columns)
        return self.rows[position]

    def apply(self, event: TransferEvent, now_s: float) -> None:
        """Fold one engine event into the rows. Unknown ids are ignored (late events)."""
        if isinstance(event, TransferQueued):
            known = self.row_for(event.transfer_id)
            if known is not None:  # a retry under the row's own id: the row is reused
                if known.status.finished:
                    known.requeue(event)
                    self._touch(event.transfer_id, ALL_COLUMNS)
                return
            self._index[event.transfer_id] = len(self.rows)
            self.rows.append(
                TransferRow(
                    event.transfer_id,
                    event.direction,
                    event.source,
                    event.destination,
                    event.size,
                    spec=event.spec,
                )
            )
        elif isinstance(event, BytesTransferred):
            row = self._touch(event.transfer_id, PROGRESS_COLUMNS)
            if row is not None:
                row.done_bytes += event.delta
                self._moved[row.direction] += event.delta
                if row.status == Status.QUEUED:
                    row.status = Status.RUNNING
                    self._touch(event.transfer_id, ALL_COLUMNS)
        elif isinstance(event, TransferStarted):
            row = self._touch(event.transfer_id, ALL_COLUMNS)
            if row is not None:
                row.size = event.size
                row.status = Status.RUNNING
                row.samples.clear()
                row.samples.append((now_s, row.done_bytes))
        elif isinstance(event, PartRetried):
            row = self._touch(event.transfer_id, frozenset({Column.STATUS}))
            if row is not None:
                row.retries += 1
            self._markers.append(
                Marker(
                    now_s,
                    marker_kind(event.throttled),
                    f"{event.reason} (part {event.part_number})",
                )
            )
        elif isinstance(event, RequestRetried):
            self._markers.append(
                Marker(now_s, marker_kind(event.throttled), f"{event.operation}: {event.reason}")
            )
        elif isinstance(event, TransferPaused):
            self._set_status(event.transfer_id, Status.PAUSED)
        elif isinstance(event, TransferResumed):
            self._set_status(event.transfer_id, Status.RUNNING)
        elif isinstance(event, TransferCompleted):
            row = self._set_status(event.transfer_id, Status.COMPLETED)
            if row is not None:
                row.size = event.size
                row.done_bytes = event.size
                row.verification = event.verification
                row.elapsed_s = event.elapsed_s
        elif isinstance(event, TransferFailed):
            row = self._set_status(event.transfer_id, Status.FAILED)
            if row is not None:
                row.error = describe_error(event.error)
                if isinstance(event.error, ServiceError):
                    row.error_code = event.error.code
                if isinstance(event.error, UnsafeKeyError):
                    row.retry_refusal = unsafe_refusal(event.error)
        elif isinstance(event, TransferCancelled):
            self._set_status(event.transfer_id, Status.CANCELLED)

    def _set_status(self, transfer_id: int, status: Status) -> TransferRow | None:
        row = self._touch(transfer_id, ALL_COLUMNS)
        if row is not None:
            row.status = status
            if status != Status.RUNNING:
                row.rate_bps = 0.0
                row.samples.clear()
        return row

    def tick(self, now_s: float) -> TickChanges:
        """Update speeds and hand over everything that changed since the last tick.

        New rows stay unpublished until ``publish(changes)``.
        """
        for row in self.rows[: self._published_rows]:
            if row.status != Status.RUNNING:
                continue
            row.samples.append((now_s, row.done_bytes))
            while len(row.samples) > 2 and now_s - row.samples[1][0] >= RATE_WINDOW_S:
                row.samples.popleft()
            first_t, first_bytes = row.samples[0]
            span = now_s - first_t
            new_rate = (row.done_bytes - first_bytes) / span if span > 0 else 0.0
            if new_rate != row.rate_bps:
                row.rate_bps = max(0.0, new_rate)
                self._dirty.setdefault(row.transfer_id, set()).update(PROGRESS_COLUMNS)

        first_new = self._published_rows
        new_count = len(self.rows) - first_new
        changed: dict[int, frozenset[Column]] = {}
        for transfer_id, columns in self._dirty.items():
            position = self._index.get(transfer_id)
            if position is not None and position < first_new:
                changed[position] = frozenset(columns)
        self._dirty.clear()
        changes = TickChanges(
            first_new_row=first_new,
            new_row_count=new_count,
            changed=changed,
            upload_bytes=self._moved["upload"],
            download_bytes=self._moved["download"] + self._moved["copy"],
            markers=tuple(self._markers),
        )
        self._moved = {"upload": 0, "download": 0, "copy": 0}
        self._markers = []
        return changes

    def publish(self, changes: TickChanges) -> None:
        """Make the tick's new rows visible (the Qt model calls this between
        ``beginInsertRows`` and ``endInsertRows``, so observers see the old count first)."""
        self._published_rows = changes.first_new_row + changes.new_row_count

    def finished_ranges(self) -> list[tuple[int, int]]:
        """Published finished rows as (first, last) ranges, last range first, so removing
        them in order never shifts a range still to come."""
        ranges: list[tuple[int, int]] = []
        position = self._published_rows - 1
        while position >= 0:
            if self.rows[position].status.finished:
                last = position
                while position - 1 >= 0 and self.rows[position - 1].status.finished:
                    position -= 1
                ranges.append((position, last))
            position -= 1
        return ranges

    def remove_rows(self, first: int, last: int) -> None:
        """Drop published rows ``first..last``; pending changes of other rows survive."""
        del self.rows[first : last + 1]
        self._published_rows -= last - first + 1
        self._index = {row.transfer_id: i for i, row in enumerate(self.rows)}
        self._dirty = {tid: cols for tid, cols in self._dirty.items() if tid in self._index}

    def remove_finished(self) -> list[tuple[int, int]]:
        """Drop every finished published row; returns the removed ranges."""
        ranges = self.finished_ranges()
        for first, last in ranges:
            self.remove_rows(first, last)
        return ranges

    def totals(self) -> Totals:
        active = queued = completed = failed = paused = cancelled = 0
        up = down = 0.0
        remaining = 0
        for row in self.rows:
            if row.status == Status.RUNNING:
                active += 1
            elif row.status == Status.PAUSED:
                paused += 1
            elif row.status == Status.CANCELLED:
                cancelled += 1
            elif row.status == Status.QUEUED:
                queued += 1
            elif row.status == Status.COMPLETED:
                completed += 1
            elif row.status == Status.FAILED:
                failed += 1
            if row.direction == "upload":
                up += row.rate_bps
            else:
                down += row.rate_bps
            if not row.status.finished and row.size is not None:
                remaining += max(0, row.size - row.done_bytes)
        return Totals(active, queued, completed, failed, up, down, remaining, paused, cancelled)
