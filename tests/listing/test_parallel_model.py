"""The parallel lister against the in-memory ListObjectsV2 (listing_model.py): exactly the
sequential listing for generated key sets, in byte order and in SeaweedFS's order with its
start-after quirk; sequential when a server is in neither order; bounded requests, buffers and
clean cancellation. The real servers confirm it in test_parallel_backends.py."""

from __future__ import annotations

import asyncio
import unicodedata
from contextlib import aclosing
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from listing_model import ModelBucket

from s3z_core.errors import InvalidValueError, ProtocolError, ServiceError
from s3z_core.listing import parallel
from s3z_core.listing.parallel import iter_objects_parallel, paginate_parallel
from s3z_core.listing.ranges import KeyOrder
from s3z_core.models import ListPage

# Every character class where orders or encodings differ; no backslash, which SeaweedFS
# (the store whose quirk the model copies) cannot hold.
PARTS = st.sampled_from(
    [*"/+-.% ~_019azAZ", "\x01", "\x7f", "é", unicodedata.normalize("NFD", "é"), "日", "😀"]
)
SEGMENT = st.lists(PARTS, min_size=1, max_size=6).map("".join)


@st.composite
def key_sets(draw: st.DrawFn) -> list[str]:
    """Mixed layouts: counters (flat), folders of folders (deep) and anything."""
    keys: set[str] = set()
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flat", "deep", "any"]))
        stem = draw(SEGMENT)
        count = draw(st.integers(1, 1000))
        if kind == "flat":
            keys.update(f"{stem}{i:05d}.bin" for i in range(count))
        elif kind == "deep":
            fan = draw(st.integers(1, 12))
            keys.update(f"{stem}/{i % fan}/{i // fan % fan}/f{i}" for i in range(count))
        else:
            keys.update(draw(st.lists(SEGMENT, max_size=200)))
    return sorted(keys)


async def _listed(bucket: ModelBucket, prefix: str = "", **options: Any) -> list[str]:
    return [o.key async for o in iter_objects_parallel(bucket.as_ops(), "b", prefix, **options)]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    keys=key_sets(),
    order=st.sampled_from([KeyOrder.BYTES, KeyOrder.PATHS]),
    page_size=st.integers(1, 60),
    concurrency=st.integers(1, 24),
    prefix_len=st.integers(0, 2),
)
def test_parallel_is_exactly_the_sequential_listing(
    keys: list[str], order: KeyOrder, page_size: int, concurrency: int, prefix_len: int
) -> None:
    bucket = ModelBucket(keys, order=order, skip_named_dirs=order is KeyOrder.PATHS)
    prefix = keys[len(keys) // 2][:prefix_len] if keys else ""
    want = bucket.sequential(prefix)
    options = {"page_size": page_size, "concurrency": concurrency}
    assert asyncio.run(_listed(bucket, prefix, **options)) == want
    assert bucket.max_in_flight <= concurrency
    unordered = asyncio.run(_listed(bucket, prefix, ordered=False, **options))
    assert len(unordered) == len(want)
    assert set(unordered) == set(want)


@pytest.mark.asyncio
async def test_a_prefix_that_fits_one_page_costs_one_request() -> None:
    bucket = ModelBucket([f"k{i}" for i in range(1000)])
    assert await _listed(bucket) == bucket.sequential()
    assert bucket.requests == 1
    bucket = ModelBucket([])
    assert await _listed(bucket) == []
    assert bucket.requests == 1


@pytest.mark.asyncio
async def test_it_splits_big_listings_and_reads_little_twice() -> None:
    keys = [f"list/obj-{i:06d}.bin" for i in range(50_000)]
    bucket = ModelBucket(keys)
    assert await _listed(bucket, "list/", concurrency=8) == keys
    assert bucket.max_in_flight == 8
    assert bucket.keys_returned < 1.15 * len(keys)  # the overshoot of each range is small


@pytest.mark.asyncio
async def test_a_server_in_neither_order_is_listed_sequentially() -> None:
    keys = [f"{i:05d}" for i in range(5000)]
    bucket = ModelBucket(keys, order=None)
    assert await _listed(bucket, page_size=100) == bucket.sequential()
    assert bucket.requests == 50  # continuation tokens only, never a split
    assert bucket.max_in_flight == 1


class _IgnoresStartAfter(ModelBucket):
    """A server that answers every start-after from the beginning."""

    async def list_objects_v2(self, bucket: str, **kw: Any) -> ListPage:
        kw["start_after"] = None
        return await super().list_objects_v2(bucket, **kw)


@pytest.mark.asyncio
@pytest.mark.parametrize("ordered", [True, False])
async def test_a_server_that_breaks_start_after_fails_loudly_without_duplicates(
    ordered: bool,
) -> None:
    bucket = _IgnoresStartAfter([f"{i:05d}" for i in range(5000)])
    seen: list[str] = []

    async def consume() -> None:
        async for page in paginate_parallel(bucket.as_ops(), "b", page_size=100, ordered=ordered):
            seen.extend(o.key for o in page)

    with pytest.raises(ProtocolError, match="does not list keys in an order"):
        await consume()
    assert len(seen) == len(set(seen))
    if ordered:
        assert seen == bucket.sequential()[: len(seen)]


@pytest.mark.asyncio
async def test_a_slow_consumer_holds_the_listing_back(monkeypatch: pytest.MonkeyPatch) -> None:
    held: list[int] = []
    launch = parallel._Lister._launch

    def watched(self: parallel._Lister) -> None:
        launch(self)
        held.append(self.buffered + len(self.tasks))

    monkeypatch.setattr(parallel._Lister, "_launch", watched)
    keys = [f"{i:06d}" for i in range(20_000)]
    bucket = ModelBucket(keys)
    yielded = 0
    async for page in paginate_parallel(
        bucket.as_ops(), "b", page_size=100, concurrency=4, buffer_pages=6
    ):
        yielded += len(page)
        before = bucket.requests
        await asyncio.sleep(0.002)  # the consumer works; nothing new may start meanwhile
        assert bucket.requests == before
    assert yielded == len(keys)
    # Pages held back or on their way: the buffer, plus what the head itself needs.
    assert max(held) <= 6 + 2
    assert bucket.max_in_flight == 4


@pytest.mark.asyncio
async def test_stopping_early_cancels_what_is_in_flight() -> None:
    bucket = ModelBucket([f"{i:06d}" for i in range(20_000)], yield_every=5)
    async with aclosing(paginate_parallel(bucket.as_ops(), "b", page_size=100)) as pages:
        async for _ in pages:
            break
    await asyncio.sleep(0)
    assert bucket.in_flight == 0
    assert asyncio.all_tasks() == {asyncio.current_task()}


class _FailsOnce(ModelBucket):
    async def list_objects_v2(self, bucket: str, **kw: Any) -> ListPage:
        if self.requests == 5:
            self.requests += 1
            raise ServiceError(code="AccessDenied", status=403, operation="ListObjectsV2")
        return await super().list_objects_v2(bucket, **kw)


@pytest.mark.asyncio
async def test_a_failed_request_fails_the_listing() -> None:
    bucket = _FailsOnce([f"{i:06d}" for i in range(20_000)])
    with pytest.raises(ServiceError, match="AccessDenied"):
        await _listed(bucket, page_size=100)
    await asyncio.sleep(0)
    assert asyncio.all_tasks() == {asyncio.current_task()}


@pytest.mark.asyncio
@pytest.mark.parametrize("knob", ["concurrency", "page_size", "buffer_pages", "pages_per_piece"])
async def test_knobs_must_be_positive(knob: str) -> None:
    with pytest.raises(InvalidValueError):
        async for _ in paginate_parallel(ModelBucket([]).as_ops(), "b", **{knob: 0}):
            pass
