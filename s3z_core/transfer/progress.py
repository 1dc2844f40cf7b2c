"""Per-transfer event emission with byte counts batched (about every 1 MiB or 100 ms).

Batching is what keeps a 10 GiB transfer at thousands of events rather than millions,
so the CLI bar and the GUI table cost the same whatever the link speed.
"""

from __future__ import annotations

import time

from s3z_core.events import BytesTransferred, EventSink, PartRetried
from s3z_core.transport.messages import RetryNotice

FLUSH_BYTES = 1024 * 1024
FLUSH_INTERVAL_S = 0.1


class ProgressReporter:
    __slots__ = ("_last_flush", "_pending", "_sink", "part_number", "total", "transfer_id")

    def __init__(self, transfer_id: int, sink: EventSink) -> None:
        self.transfer_id = transfer_id
        self._sink = sink
        self._pending = 0
        self._last_flush = time.monotonic()
        self.total = 0
        self.part_number = 0

    def add(self, delta: int) -> None:
        self.total += delta
        self._pending += delta
        if delta < 0:
            self.flush()  # a rewind is news: show it at once
            return
        if self._pending >= FLUSH_BYTES:
            self.flush()
            return
        now = time.monotonic()
        if now - self._last_flush >= FLUSH_INTERVAL_S:
            self.flush(now)

    def flush(self, now: float | None = None) -> None:
        if self._pending:
            self._sink(BytesTransferred(self.transfer_id, self._pending))
            self._pending = 0
        self._last_flush = time.monotonic() if now is None else now

    def retried(self, part_number: int, notice: RetryNotice) -> None:
        self.flush()
        self._sink(
            PartRetried(
                transfer_id=self.transfer_id,
                part_number=part_number,
                attempt=notice.attempt,
                reason=notice.reason,
                delay_s=notice.delay_s,
                throttled=notice.throttled,
            )
        )
