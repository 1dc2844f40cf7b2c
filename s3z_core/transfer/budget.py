"""A byte budget shared by every relayed copy of an engine: the one bound on relay memory.

A relay (another store's GET streamed into this store's PUT / UploadPart) must hold each
part in memory until the destination acknowledges it, so 32 files × 3 parts × 8 MiB would
be 768 MiB. Every part a relay reads first takes its bytes from this budget and gives them
back once sent; a file waits for room instead of allocating. A part larger than the whole
budget is still let through when nothing else is held, so a small budget slows a run down
but can never deadlock it.
"""

from __future__ import annotations

import asyncio
from collections import deque

from s3z_core.config import require_positive


class ByteBudget:
    def __init__(self, limit: int) -> None:
        require_positive("relay memory budget", limit)
        self.limit = limit
        self.used = 0
        self.peak = 0  # the most ever held at once: what tests and the bench report
        self._waiters: deque[tuple[int, asyncio.Future[None]]] = deque()

    def _fits(self, size: int) -> bool:
        return self.used == 0 or self.used + size <= self.limit

    async def acquire(self, size: int) -> None:
        """Wait (first come, first served) until ``size`` more bytes fit, then hold them."""
        if size <= 0:
            return
        if not self._waiters and self._fits(size):
            self._take(size)
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (size, waiter)
        self._waiters.append(entry)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.release(size)  # granted just as we were cancelled: give it back
            else:
                self._waiters.remove(entry)
            raise

    def _take(self, size: int) -> None:
        self.used += size
        self.peak = max(self.peak, self.used)

    def release(self, size: int) -> None:
        """Give bytes back and wake whoever now fits (synchronous: safe in ``finally``)."""
        if size <= 0:
            return
        self.used = max(0, self.used - size)
        while self._waiters and self._fits(self._waiters[0][0]):
            size_wanted, waiter = self._waiters.popleft()
            if not waiter.done():
                self._take(size_wanted)
                waiter.set_result(None)
