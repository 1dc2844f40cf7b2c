"""Progress events: frozen, past-tense facts delivered on the event-loop thread.

The core never formats progress for a UI: the CLI renders these as a bar or JSON
lines, the GUI bridge folds them into table rows on a timer. ``BytesTransferred``
is batched (about every 256 KiB or 100 ms per transfer) so a 10 GiB transfer emits
thousands of events, not millions; a negative ``delta`` means a retried part rewound.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from s3z_core.errors import S3zError
from s3z_core.specs import Direction, TransferSpec


class Verification(StrEnum):
    """How sure we are the bytes that arrived are the bytes that were sent."""

    VERIFIED_MD5 = "verified-md5"  # single-part ETag == MD5 of the data
    VERIFIED_COMPOSITE = "verified-composite"  # multipart ETag recomputed from part MD5s
    SIZE_ONLY = "size-only"  # size matched; ETag not comparable (SSE, unknown part size)
    UNVERIFIED = "unverified"  # verification off


@dataclass(frozen=True, slots=True)
class TransferQueued:
    """``spec`` says exactly what the transfer is (bucket, key, local folder …): a UI acts
    on it (retry is ``Engine.restart(spec)``) instead of parsing the display strings."""

    transfer_id: int
    direction: Direction
    source: str
    destination: str
    size: int | None
    spec: TransferSpec | None = None


@dataclass(frozen=True, slots=True)
class TransferStarted:
    transfer_id: int
    size: int
    parts: int


@dataclass(frozen=True, slots=True)
class BytesTransferred:
    transfer_id: int
    delta: int


@dataclass(frozen=True, slots=True)
class PartRetried:
    """``throttled``: the server asked us to slow down (by error type, never by text)."""

    transfer_id: int
    part_number: int
    attempt: int
    reason: str
    delay_s: float
    throttled: bool = False


@dataclass(frozen=True, slots=True)
class TransferPaused:
    transfer_id: int


@dataclass(frozen=True, slots=True)
class TransferResumed:
    transfer_id: int


@dataclass(frozen=True, slots=True)
class TransferCompleted:
    transfer_id: int
    size: int
    verification: Verification
    etag: str
    elapsed_s: float


@dataclass(frozen=True, slots=True)
class TransferFailed:
    transfer_id: int
    error: S3zError


@dataclass(frozen=True, slots=True)
class TransferCancelled:
    transfer_id: int


@dataclass(frozen=True, slots=True)
class RequestRetried:
    """A non-transfer request (listing, delete, head) was retried; feeds the GUI chart."""

    operation: str
    attempt: int
    reason: str
    delay_s: float
    throttled: bool = False


@dataclass(frozen=True, slots=True)
class PathSkipped:
    """A local path a batch left out on purpose (a symlink while links are not followed):
    not a failure, but said at once, never silent."""

    path: str
    reason: str


TransferEvent = (
    TransferQueued
    | TransferStarted
    | BytesTransferred
    | PartRetried
    | TransferPaused
    | TransferResumed
    | TransferCompleted
    | TransferFailed
    | TransferCancelled
    | RequestRetried
    | PathSkipped
)

EventSink = Callable[[TransferEvent], None]


def ignore_event(event: TransferEvent) -> None:
    """The no-op sink: progress behind an interface, like s5cmd's."""


__all__ = [
    "BytesTransferred",
    "Direction",
    "EventSink",
    "PartRetried",
    "PathSkipped",
    "RequestRetried",
    "TransferCancelled",
    "TransferCompleted",
    "TransferEvent",
    "TransferFailed",
    "TransferPaused",
    "TransferQueued",
    "TransferResumed",
    "TransferSpec",
    "TransferStarted",
    "Verification",
    "ignore_event",
]
