"""A bandwidth cap as one token bucket for every body byte the client moves (``--limit-rate``).

Uploads and downloads draw from the same bucket, chunk by chunk (256 KiB or what the socket
gave), so the cap holds across all files and parts at once, whatever the concurrency; it is
not a sleep per request. A chunk may overdraw the bucket: the taker then waits until the debt
is paid back at ``rate``, so over any stretch longer than the burst the bytes moved stay
within ``rate × time + burst``. Takers queue in order (one lock), so no stream starves.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from s3z_core.errors import InvalidValueError

#: How much may go at once after an idle spell: a tenth of a second's worth (at least 256 KiB).
BURST_S = 0.1
MIN_BURST_BYTES = 256 * 1024


class TokenBucket:
    def __init__(
        self,
        rate_bps: float,
        *,
        burst_bytes: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if not rate_bps > 0:
            raise InvalidValueError(f"a bandwidth limit must be positive, not {rate_bps!r}")
        self.rate_bps = float(rate_bps)
        self.burst_bytes = burst_bytes or max(MIN_BURST_BYTES, self.rate_bps * BURST_S)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst_bytes
        self._updated = clock()
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"TokenBucket(rate_bps={self.rate_bps:.0f})"

    async def take(self, nbytes: int) -> None:
        """Wait until ``nbytes`` may go; the bytes are accounted for at once."""
        if nbytes <= 0:
            return
        async with self._lock:
            now = self._clock()
            self._tokens = min(
                self.burst_bytes, self._tokens + (now - self._updated) * self.rate_bps
            )
            self._updated = now
            self._tokens -= nbytes
            if self._tokens < 0:
                await self._sleep(-self._tokens / self.rate_bps)


Pace = Callable[[int], Awaitable[None]]
