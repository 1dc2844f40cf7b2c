"""One transfer's row, and the vocabulary the queue speaks (columns, statuses, markers).

Pure Python, no Qt: the store folds engine events into these rows; the Qt model only shows
them. A row keeps the engine's ``TransferSpec`` so Retry runs exactly that again.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from s3z_core.errors import S3zError, ServiceError, UnsafeKeyError
from s3z_core.events import Direction, TransferQueued, Verification
from s3z_core.specs import TransferSpec

if TYPE_CHECKING:
    from s3z_gui.models.transfer_groups import TransferGroup

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


class Priority(IntEnum):
    """Which queued transfer starts first: High before Normal before Low, then row order."""

    HIGH = 0
    NORMAL = 1
    LOW = 2

    @property
    def label(self) -> str:
        return self.name.capitalize()


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
    group: TransferGroup | None = field(default=None, repr=False)  # a folder's row, if any
    priority: Priority = Priority.NORMAL
    connection: str = ""  # the label of the connection it runs on (a saved row resumes there)
    # A row of an earlier run of the app: no engine knows it until it is resumed (its spec
    # runs again under its id and the engine continues from the journal).
    restored: bool = False

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
        self.restored = False
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
        if self.status == Status.PAUSED and self.restored:
            return "Paused (resume to continue)"
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
