"""Progress events: frozen, past-tense facts delivered on the event-loop thread.

The core never formats progress for a UI: the CLI renders these as a bar or JSON
lines, the GUI bridge folds them into table rows on a timer. ``BytesTransferred``
is batched (about every 256 KiB or 100 ms per transfer) so a 10 GiB transfer emits
thousands of events, not millions; a negative ``delta`` means a retried part rewound.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from s3z_core.errors import S3zError
from s3z_core.records import record
from s3z_core.specs import Direction, TransferSpec


class Verification(StrEnum):
    """How sure we are the bytes that arrived are the bytes that were sent."""

    VERIFIED_MD5 = "verified-md5"  # single-part ETag == MD5 of the data
    VERIFIED_COMPOSITE = "verified-composite"  # multipart ETag recomputed from part MD5s
    SIZE_ONLY = "size-only"  # size matched; ETag not comparable (SSE, unknown part size)
    UNVERIFIED = "unverified"  # verification off


@record
class TransferFact:
    """The part every event of one transfer shares: the id its ``TransferQueued`` gave it,
    which a UI keys its row on. Subclasses add their fields after it, so it is always the
    first positional argument."""

    transfer_id: int


@record
class TransferQueued(TransferFact):
    """``spec`` says exactly what the transfer is (bucket, key, local folder …): a UI acts
    on it (retry is ``Engine.restart(spec)``) instead of parsing the display strings."""

    direction: Direction
    source: str
    destination: str
    size: int | None
    spec: TransferSpec | None = None


@record
class TransferStarted(TransferFact):
    size: int
    parts: int


@record
class BytesTransferred(TransferFact):
    delta: int


@record
class PartRetried(TransferFact):
    """``throttled``: the server asked us to slow down (by error type, never by text)."""

    part_number: int
    attempt: int
    reason: str
    delay_s: float
    throttled: bool = False


@record
class TransferPaused(TransferFact):
    """No new part starts until ``TransferResumed``; parts already in flight finish."""


@record
class TransferResumed(TransferFact):
    """Parts are scheduled again from where the pause stopped them."""


@record
class TransferCompleted(TransferFact):
    size: int
    verification: Verification
    etag: str
    elapsed_s: float


@record
class TransferFailed(TransferFact):
    error: S3zError


@record
class TransferCancelled(TransferFact):
    """A terminal event, like ``TransferCompleted`` and ``TransferFailed``: every queued
    transfer gets exactly one, so no UI row is left hanging."""


@record
class RequestRetried:
    """A non-transfer request (listing, delete, head) was retried; feeds the GUI chart."""

    operation: str
    attempt: int
    reason: str
    delay_s: float
    throttled: bool = False


@record
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
    "TransferFact",
    "TransferFailed",
    "TransferPaused",
    "TransferQueued",
    "TransferResumed",
    "TransferSpec",
    "TransferStarted",
    "Verification",
    "ignore_event",
]
