"""An in-memory ListObjectsV2 with the orders and quirks the real servers showed (probed on
SeaweedFS 4.48, rclone and moto; see test_parallel_backends.py): byte order, SeaweedFS's
directory-walk order, and SeaweedFS's ``start-after`` that skips the subtree of a directory
it names exactly. Hypothesis runs the parallel lister against it thousands of times; the real
servers then confirm on fewer, larger key sets."""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Callable, Iterable
from typing import Any, cast

from s3z_core.listing.ranges import KeyOrder
from s3z_core.models import ListPage, ObjectInfo
from s3z_core.operations import S3Operations

SortKey = Callable[[str], Any]


def sort_key(order: KeyOrder) -> SortKey:
    if order is KeyOrder.BYTES:
        return lambda key: key
    return lambda key: key.split("/")


class ModelBucket:
    """Keys of one bucket served page by page; counts requests and the keys they returned.

    ``order=None`` models a server in neither order (code points of the reversed key), so the
    parallel lister must notice and stay sequential. ``skip_named_dirs`` is SeaweedFS's
    ``start-after=a`` answering from after the whole ``a/`` subtree.
    """

    def __init__(
        self,
        keys: Iterable[str],
        *,
        order: KeyOrder | None = KeyOrder.BYTES,
        skip_named_dirs: bool = False,
        yield_every: int = 1,
    ) -> None:
        self.key_of: SortKey = sort_key(order) if order is not None else (lambda k: k[::-1])
        self.keys = sorted(set(keys), key=self.key_of)
        self.sorted_keys = [self.key_of(k) for k in self.keys]
        self.skip_named_dirs = skip_named_dirs
        self.yield_every = yield_every
        self.requests = 0
        self.keys_returned = 0
        self.in_flight = 0
        self.max_in_flight = 0

    def as_ops(self) -> S3Operations:
        return cast(S3Operations, self)

    def sequential(self, prefix: str = "") -> list[str]:
        return [k for k in self.keys if k.startswith(prefix)]

    def _index_after(self, key: str) -> int:
        index = bisect.bisect_right(self.sorted_keys, self.key_of(key))
        if self.skip_named_dirs:
            subtree = key + "/"
            while index < len(self.keys) and self.keys[index].startswith(subtree):
                index += 1
        return index

    async def list_objects_v2(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str | None = None,
        start_after: str | None = None,
        continuation_token: str | None = None,
        max_keys: int = 1000,
    ) -> ListPage:
        assert delimiter is None, "the model lists flat only"
        self.requests += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            for _ in range(self.yield_every):
                await asyncio.sleep(0)  # let other requests interleave, as real ones do
        finally:
            self.in_flight -= 1
        if continuation_token is not None:
            # A token resumes strictly after the last key returned (no directory skipping:
            # SeaweedFS's tokens do not skip either).
            index = bisect.bisect_right(self.sorted_keys, self.key_of(continuation_token[2:]))
        elif start_after:
            index = self._index_after(start_after)
        else:
            index = 0
        found: list[str] = []
        while index < len(self.keys) and len(found) < max_keys + 1:
            if self.keys[index].startswith(prefix):
                found.append(self.keys[index])
            index += 1
        page, more = found[:max_keys], len(found) > max_keys
        self.keys_returned += len(page)
        return ListPage(
            objects=[ObjectInfo(key=k, size=len(k), etag="", last_modified=None) for k in page],
            common_prefixes=[],
            is_truncated=more,
            next_token="t:" + page[-1] if more else None,
        )
