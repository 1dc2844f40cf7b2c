"""Listing one prefix as many key ranges at once, yielding exactly what the sequential walk
yields (`pages.iter_objects`), in the same order when ``ordered``.

How, and why it stays exact:

- The first page is listed alone. Not truncated: that was the whole listing, and no other
  request is made (small prefixes cost what they cost before).
- Otherwise the rest is cut at split points (`ranges.split_points`: midpoints between a
  range's last key and where the next range starts, or, past the last range, extrapolated
  from the density of the page just read) and every piece is listed from its own
  ``start-after``, concurrently, reading on with continuation tokens. A piece whose page comes
  back full without reaching its end is cut again while there is room for more work.
- A piece ends where the next one begins: at the first key the server returned after the next
  piece's ``start-after``. That is an equality test, not a comparison, so the pieces join
  exactly in whatever order the server lists: UTF-8 byte order (AWS, moto, rclone) or
  SeaweedFS's directory walk. It also survives a ``start-after`` that skips keys (SeaweedFS
  skips the subtree of a directory named exactly by ``start-after``): the piece before simply
  reads on until it meets the key where the next one really started.
- Every page must increase in one of the orders `ranges.KeyOrder` knows. When the first page
  fits neither, the listing stays sequential (continuation tokens only); a page that breaks
  both once pieces exist raises `ProtocolError` rather than yield a key twice or lose one.

Memory stays bounded: requests are started lowest range first, at most ``concurrency`` at a
time, and in ordered mode no new request starts while ``buffer_pages`` pages wait for the
range being yielded (except the requests that range itself needs). Nothing runs while the
consumer holds a page, so a slow consumer slows the listing instead of filling memory.
"""

from __future__ import annotations

import asyncio
import heapq
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing, suppress
from dataclasses import field
from fractions import Fraction
from typing import ParamSpec

from s3z_core.config import require_positive
from s3z_core.errors import DamagedListingError, ProtocolError
from s3z_core.listing.pages import one_at_a_time
from s3z_core.listing.ranges import (
    ALL_ORDERS,
    before_in_all,
    consistent_orders,
    estimate_keys,
    split_points,
)
from s3z_core.models import ListPage, ObjectInfo
from s3z_core.operations import S3Operations
from s3z_core.records import record


@record(frozen=False, eq=False)
class _Piece:
    """One key range: from ``start`` (exclusive) to where the next piece's keys begin."""

    pos: Fraction  # place in the listing: pieces sort by it
    start: str | None  # the start-after of its first request (None: the listing's start)
    token: str | None = None  # continuation token of its next page
    max_keys: int = 0  # the size of its next request (0: a full page)
    pages: int = 0  # pages settled so far
    first_known: bool = False
    first: str | None = None  # the first key the server returned after ``start``
    last: str | None = None  # the last key this piece yielded
    prev: _Piece | None = None
    next: _Piece | None = None
    parked: ListPage | None = None  # a page waiting for ``next.first``
    out: deque[list[ObjectInfo]] = field(default_factory=deque)  # ordered: pages to yield
    done: bool = False


class _Lister:
    """The state of one parallel listing; `pages` drives it."""

    def __init__(
        self,
        ops: S3Operations,
        bucket: str,
        prefix: str,
        start_after: str | None,
        *,
        concurrency: int,
        ordered: bool,
        page_size: int,
        buffer_pages: int,
        pages_per_piece: int,
    ) -> None:
        self.ops = ops
        self.bucket = bucket
        self.prefix = prefix
        self.concurrency = concurrency
        self.ordered = ordered
        self.page_size = page_size
        self.buffer_pages = buffer_pages
        self.keys_per_piece = page_size * pages_per_piece
        self.head = _Piece(pos=Fraction(0), start=start_after)
        self.queue: list[tuple[Fraction, int, _Piece]] = []
        self.queued = 0  # a tie-breaker for the heap
        self.tasks: dict[asyncio.Task[ListPage], _Piece] = {}
        self.ready: deque[list[ObjectInfo]] = deque()  # unordered: pages to yield
        self.buffered = 0  # pages held back (parked or waiting for an earlier piece)
        self.orders = ALL_ORDERS
        self.splitting = True
        self.fill = 0.5  # see _first_request_size
        self.pieces = 1
        self.requests = 0
        # Entries that did not parse, named after every good key (as the sequential listing
        # does). Every entry is on some page read, but pages of neighbouring ranges overlap:
        # an entry with a key is named once by key; one without (nothing to tell two apart)
        # counts where its range keeps the page.
        self.damaged: dict[str, str] = {}
        self.keyless: list[str] = []

    # -- the driver ----------------------------------------------------------------------
    async def pages(self) -> AsyncGenerator[list[ObjectInfo], None]:
        self._enqueue(self.head)
        try:
            while True:
                for page in self._take_ready():
                    yield page
                if self._finished():
                    if self.damaged or self.keyless:
                        where = f"ListObjectsV2 s3://{self.bucket}/{self.prefix}"
                        named = [*self.damaged.items(), *(("", r) for r in self.keyless)]
                        raise DamagedListingError(where, named)
                    return
                self._launch()
                if not self.tasks:
                    raise AssertionError("parallel listing stalled with ranges left")  # a bug
                done, _ = await asyncio.wait(self.tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in sorted(done, key=lambda t: self.tasks[t].pos):
                    piece = self.tasks.pop(task)
                    self._received(piece, task.result())
        finally:
            for task in self.tasks:
                task.cancel()
            for task in self.tasks:
                with suppress(BaseException):
                    await task

    def _take_ready(self) -> list[list[ObjectInfo]]:
        if not self.ordered:
            pages = list(self.ready)
            self.ready.clear()
            return pages
        pages = []
        while True:
            head = self.head
            if head.out:
                pages.append(head.out.popleft())
                self.buffered -= 1
            elif head.done and head.next is not None:
                self.head = head.next
                self.head.prev = None
            else:
                return pages

    def _finished(self) -> bool:
        if self.ordered:
            return self.head.done and self.head.next is None and not self.head.out
        return not self.tasks and not self.queue and self.buffered == 0

    def _launch(self) -> None:
        while self.queue and len(self.tasks) < self.concurrency:
            piece = self.queue[0][2]
            full = self.buffered + len(self.tasks) >= self.buffer_pages
            if self.ordered and full and not self._unblocks_head(piece):
                return
            heapq.heappop(self.queue)
            self.requests += 1
            self.tasks[asyncio.ensure_future(self._fetch(piece))] = piece

    def _unblocks_head(self, piece: _Piece) -> bool:
        """The head's own next page, and the first page of the piece after it (the head
        cannot end before it knows where that piece starts)."""
        return piece is self.head or (piece is self.head.next and not piece.first_known)

    def _enqueue(self, piece: _Piece) -> None:
        self.queued += 1
        heapq.heappush(self.queue, (piece.pos, self.queued, piece))

    async def _fetch(self, piece: _Piece) -> ListPage:
        return await self.ops.list_objects_v2(
            self.bucket,
            prefix=self.prefix,
            start_after=piece.start if piece.token is None else None,
            continuation_token=piece.token,
            max_keys=piece.max_keys or self.page_size,
        )

    # -- one page ------------------------------------------------------------------------
    def _received(self, piece: _Piece, page: ListPage) -> None:
        after = piece.last if piece.last is not None else piece.start
        self._check_order([o.key for o in page.objects], after)
        if not piece.first_known and (page.objects or not page.is_truncated):
            piece.first_known = True
            piece.first = page.objects[0].key if page.objects else None
            before = piece.prev
            if before is not None and before.parked is not None:
                parked, before.parked = before.parked, None
                self.buffered -= 1
                self._settle(before, parked)
        self._settle(piece, page)

    def _settle(self, piece: _Piece, page: ListPage) -> None:
        following = piece.next
        if following is not None and not following.first_known:
            piece.parked = page
            self.buffered += 1
            return
        stop = following.first if following is not None else None
        objects = page.objects
        cut = len(objects)
        if stop is not None:
            cut = next((i for i, o in enumerate(objects) if o.key == stop), cut)
        taken = objects[:cut]
        for entry in page.damaged:
            if entry.key:
                self.damaged.setdefault(entry.key, entry.reason)
            elif entry.good_before < cut or cut == len(objects):
                self.keyless.append(entry.reason)
        full = cut < len(objects) or page.is_truncated
        if piece.pages == 0 and piece.start is not None and objects and full:
            # How much of a new range's first page was its own: low when the split points
            # were extrapolated into key space with no keys.
            self.fill = (self.fill + cut / len(objects)) / 2
        piece.pages += 1
        if taken:
            piece.last = taken[-1].key
        if cut < len(objects):
            piece.done = True
        elif not page.is_truncated:
            piece.done = True
            if stop is not None:
                self._misordered(f"the range after {piece.start!r} ended before {stop!r}")
        else:
            self._continue(piece, page, stop)
        if taken:
            self._emit(piece, taken)

    def _continue(self, piece: _Piece, page: ListPage, stop: str | None) -> None:
        if not page.next_token or page.next_token == piece.token:
            # Stopping here would silently drop the rest of the listing.
            raise ProtocolError(
                f"ListObjectsV2 s3://{self.bucket}/{self.prefix}: truncated page without a "
                "new continuation token"
            )
        last = piece.last
        if stop is not None and last is not None and before_in_all(stop, last, self.orders):
            self._misordered(f"the range after {piece.start!r} passed {stop!r}")
        piece.token = page.next_token
        piece.max_keys = 0
        if last is not None:
            sample = [o.key for o in page.objects]
            if stop is not None:
                piece.max_keys = self._last_request_size(last, stop, sample)
            self._split(piece, last, sample)
        self._enqueue(piece)

    def _first_request_size(self, estimated: int) -> int:
        """A new range's first request reads what earlier ranges' first pages turned out to
        hold (``fill``): where split points keep landing in empty key space, a short first
        page finds out for a fraction of a full one."""
        size = max(self.page_size // 8, int(self.page_size * self.fill))
        if estimated:
            size = min(size, estimated)
        return 0 if size >= self.page_size else size

    def _last_request_size(self, last: str, stop: str, sample: list[str]) -> int:
        """Enough keys to reach ``stop`` with a margin (0: a full page): a range's last page
        would otherwise be mostly the next range's keys, read by the server and dropped."""
        expected = estimate_keys(last, stop, sample, prefix=self.prefix)
        if expected is None:
            return 0
        size = expected + expected // 4 + 16
        return 0 if size >= self.page_size else size

    def _emit(self, piece: _Piece, taken: list[ObjectInfo]) -> None:
        if not self.ordered:
            self.ready.append(taken)
            return
        piece.out.append(taken)
        self.buffered += 1

    def _split(self, piece: _Piece, last: str, sample: list[str]) -> None:
        room = 2 * self.concurrency - len(self.queue) - len(self.tasks) - 1
        if not self.splitting or room < 1:
            return
        following = piece.next
        points = split_points(
            last,
            following.start if following is not None else None,
            sample,
            prefix=self.prefix,
            keys_per_piece=self.keys_per_piece,
            max_points=room,
            orders=self.orders,
        )
        if not points:
            return
        end = following.pos if following is not None else piece.pos + 1
        step = (end - piece.pos) / (len(points) + 1)
        ends: list[str | None] = [*points[1:], following.start if following is not None else None]
        left = piece
        for index, (point, upto) in enumerate(zip(points, ends, strict=True), 1):
            new = _Piece(pos=piece.pos + step * index, start=point, prev=left, next=following)
            new.max_keys = self._first_request_size(
                self._last_request_size(point, upto, sample) if upto is not None else 0
            )
            left.next = new
            left = new
            self._enqueue(new)
        if following is not None:
            following.prev = left
        self.pieces += len(points)

    # -- order checks --------------------------------------------------------------------
    def _check_order(self, keys: list[str], after: str | None) -> None:
        orders = consistent_orders(keys, self.orders, after)
        if orders:
            self.orders = orders
        elif self.pieces == 1:
            # Not an order we can split in: stay sequential (continuation tokens only).
            self.splitting = False
        else:
            self._misordered("a page is in neither UTF-8 byte order nor path order")

    def _misordered(self, what: str) -> None:
        raise ProtocolError(
            f"ListObjectsV2 s3://{self.bucket}/{self.prefix}: {what}; this server does not "
            "list keys in an order the parallel listing can rely on (list it sequentially)"
        )


async def paginate_parallel(
    ops: S3Operations,
    bucket: str,
    prefix: str = "",
    *,
    start_after: str | None = None,
    concurrency: int = 16,
    ordered: bool = True,
    page_size: int = 1000,
    buffer_pages: int | None = None,
    pages_per_piece: int = 2,
) -> AsyncGenerator[list[ObjectInfo], None]:
    """The keys of ``prefix`` in batches (at most ``page_size`` each), listed by up to
    ``concurrency`` ListObjectsV2 requests at once. ``ordered``: the batches join into exactly
    the sequential listing; otherwise each key still comes exactly once, in batches as they
    arrive (for copies, deletes and sizes, which do not care). ``buffer_pages`` (ordered only,
    default ``4 * concurrency``) bounds the pages held ahead of the one being yielded;
    ``pages_per_piece`` is the size a new range aims at."""
    for name, value in (
        ("concurrency", concurrency),
        ("page_size", page_size),
        ("pages_per_piece", pages_per_piece),
    ):
        require_positive(name, value)
    if buffer_pages is not None:
        require_positive("buffer_pages", buffer_pages)
    lister = _Lister(
        ops,
        bucket,
        prefix,
        start_after,
        concurrency=concurrency,
        ordered=ordered,
        page_size=min(page_size, 1000),
        buffer_pages=buffer_pages or 4 * concurrency,
        pages_per_piece=pages_per_piece,
    )
    # aclosing: an early stop cancels the requests in flight now, not when the loop gets
    # round to finalising an abandoned generator.
    async with aclosing(lister.pages()) as pages:
        async for page in pages:
            yield page


P = ParamSpec("P")


def _one_at_a_time(
    paginate: Callable[P, AsyncGenerator[list[ObjectInfo], None]],
) -> Callable[P, AsyncIterator[ObjectInfo]]:
    def objects(*args: P.args, **kwargs: P.kwargs) -> AsyncIterator[ObjectInfo]:
        return one_at_a_time(paginate(*args, **kwargs))

    return objects


# `paginate_parallel`, one object at a time (same arguments): a drop-in for `pages.iter_objects`.
iter_objects_parallel = _one_at_a_time(paginate_parallel)
