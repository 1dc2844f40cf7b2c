"""The queue a batch's workers take jobs from: lowest rank first, the rest in arrival order.

A GUI lets users reorder queued rows and give them a priority; the rank of each transfer
lives in the context (``TransferContext.ranks``) and may change while the job waits, so
the order is decided when a worker takes the next job, not when it was put. The queue holds
at most a few jobs per worker (the batch bounds it), so one scan per take is cheap when
ranks exist; while none does (every CLI run, a GUI queue nobody reordered) a take is a plain
FIFO pop: the scan cost ~10 % of the loop thread's CPU on 1,000 small downloads.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

UNRANKED = 1e300  # after every ranked item, before an end marker (infinity)


class RankedQueue(asyncio.Queue[T]):
    """``ranked()`` says whether any rank exists now (False: arrival order is the order)."""

    def __init__(
        self, maxsize: int, rank: Callable[[T], float], ranked: Callable[[], bool]
    ) -> None:
        super().__init__(maxsize)
        self._rank = rank
        self._ranked = ranked

    def _init(self, maxsize: int) -> None:
        self._items: deque[T] = deque()
        self._queue = self._items  # what asyncio.Queue's qsize/empty/full look at

    def _put(self, item: T) -> None:
        self._items.append(item)

    def _get(self) -> T:
        items = self._items
        if not self._ranked():
            return items.popleft()
        rank = self._rank
        best = min(range(len(items)), key=lambda i: (rank(items[i]), i))
        item = items[best]
        del items[best]
        return item


__all__ = ["UNRANKED", "RankedQueue"]
