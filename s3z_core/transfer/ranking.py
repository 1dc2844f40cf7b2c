"""The queue a batch's workers take jobs from: lowest rank first, the rest in arrival order.

A GUI lets users reorder queued rows and give them a priority; the rank of each transfer
lives in the context (``TransferContext.ranks``) and may change while the job waits, so
the order is decided when a worker takes the next job, not when it was put. The queue holds
at most a few jobs per worker (the batch bounds it), so one scan per take is cheap.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

UNRANKED = 1e300  # after every ranked item, before an end marker (infinity)


class RankedQueue(asyncio.Queue[T]):
    def __init__(self, maxsize: int, rank: Callable[[T], float]) -> None:
        super().__init__(maxsize)
        self._rank = rank

    def _init(self, maxsize: int) -> None:
        self._items: list[T] = []
        self._queue = self._items  # what asyncio.Queue's qsize/empty/full look at

    def _put(self, item: T) -> None:
        self._items.append(item)

    def _get(self) -> T:
        items = self._items
        best = min(range(len(items)), key=lambda i: (self._rank(items[i]), i))
        return items.pop(best)


__all__ = ["UNRANKED", "RankedQueue"]
