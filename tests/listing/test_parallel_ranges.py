"""Split points (pure): always strictly between their bounds in every order still possible,
sendable, increasing; and placed where the keys are, so pieces hold about what they aim at."""

from __future__ import annotations

import bisect
import itertools
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from s3z_core.listing.ranges import (
    ALL_ORDERS,
    NOT_A_FOLDER,
    KeyOrder,
    before_in_all,
    consistent_orders,
    estimate_keys,
    precedes,
    sendable,
    split_points,
)

# Characters that make orders and encodings differ: '/' against the ones below it (' ', '+',
# '-', '.', '%'), '~', a control character, accents in both normal forms, an astral emoji.
KEY_PARTS = st.sampled_from(
    [*"/+-.% ~_09azAZ\\", "\x01", "é", unicodedata.normalize("NFD", "é"), "日", "😀"]
)
KEYS = st.lists(KEY_PARTS, min_size=1, max_size=10).map("".join)


def _shared(strings: list[str]) -> int:
    low, high = min(strings), max(strings)
    pairs = enumerate(zip(low, high, strict=False))
    return next((i for i, (x, y) in pairs if x != y), min(len(low), len(high)))


def test_orders_tell_a_directory_walk_from_byte_order() -> None:
    # SeaweedFS lists "a/b" before "a+b" ('a' < 'a+b' as a first segment); bytes disagree.
    assert consistent_orders(["a/b", "a+b"], ALL_ORDERS) == {KeyOrder.PATHS}
    assert consistent_orders(["a+b", "a/b"], ALL_ORDERS) == {KeyOrder.BYTES}
    assert consistent_orders(["a", "b", "c/d"], ALL_ORDERS) == ALL_ORDERS
    assert consistent_orders(["b", "a"], ALL_ORDERS) == frozenset()
    assert consistent_orders(["b"], ALL_ORDERS, after="c") == frozenset()
    # Code points are UTF-8 byte order: U+E000 before an astral character (UTF-16 says no).
    assert precedes("\ue000", "😀", KeyOrder.BYTES)
    assert "\ue000".encode() < "😀".encode()


@settings(max_examples=600)
@given(
    keys=st.lists(KEYS, min_size=1, max_size=12),
    after=st.one_of(st.none(), KEYS),
    orders=st.sampled_from([ALL_ORDERS, frozenset({KeyOrder.BYTES}), frozenset({KeyOrder.PATHS})]),
    sort=st.sampled_from([None, KeyOrder.BYTES, KeyOrder.PATHS]),
)
def test_orders_are_what_comparing_every_pair_says(
    keys: list[str], after: str | None, orders: frozenset[KeyOrder], sort: KeyOrder | None
) -> None:
    """The shortcut (byte order is path order when no character sorts below "/") never
    changes the answer: against the definition, pair by pair, on pages sorted either way."""
    if sort is KeyOrder.BYTES:
        keys = sorted(keys)
    elif sort is KeyOrder.PATHS:
        keys = sorted(keys, key=lambda k: k.split("/"))
    seq = keys if after is None else [after, *keys]
    expected = frozenset(
        order for order in orders if all(precedes(a, b, order) for a, b in itertools.pairwise(seq))
    )
    assert consistent_orders(keys, orders, after) == expected


@settings(max_examples=400)
@given(
    sample=st.lists(KEYS, min_size=2, max_size=60, unique=True),
    before=st.one_of(st.none(), KEYS),
    orders=st.sampled_from([ALL_ORDERS, frozenset({KeyOrder.BYTES}), frozenset({KeyOrder.PATHS})]),
    per_piece=st.integers(1, 40),
    max_points=st.integers(1, 20),
)
def test_split_points_are_strictly_between_and_sendable(
    sample: list[str],
    before: str | None,
    orders: frozenset[KeyOrder],
    per_piece: int,
    max_points: int,
) -> None:
    sample.sort()
    after = sample[-1]
    if before is not None and not before_in_all(after, before, orders):
        before = None
    points = split_points(
        after, before, sample, keys_per_piece=per_piece, max_points=max_points, orders=orders
    )
    assert len(points) <= max_points
    floor = after
    for point in points:
        assert before_in_all(floor, point, orders), (floor, point)
        if before is not None:
            assert before_in_all(point, before, orders), (point, before)
        assert point.endswith(NOT_A_FOLDER)
        assert "//" not in point or "//" in after
        floor = point
    # Past what the bounds and the sample share (with no end: all of it), a point carries
    # only characters XML can echo back.
    shared = 0 if before is None else _shared([after, before, *sample])
    for point in points:
        assert all(sendable(c) for c in point[shared:]), point


def _sizes(keys: list[str], bounds: list[str]) -> list[int]:
    """Keys in each (lo, hi] of consecutive bounds (``keys`` sorted)."""
    at = [bisect.bisect_right(keys, b) for b in bounds]
    return [b - a for a, b in itertools.pairwise(at)]


def test_a_counter_is_cut_into_pieces_of_about_the_size_asked() -> None:
    # The bench's shape: obj-000000.bin upwards. The first page extrapolates past itself.
    page = [f"list/obj-{i:06d}.bin" for i in range(1000)]
    points = split_points(page[-1], None, page, prefix="list/", keys_per_piece=2000, max_points=10)
    assert len(points) == 10
    everything = [f"list/obj-{i:06d}.bin" for i in range(40000)]
    bounds = [page[-1], *points]
    sizes = _sizes(everything, bounds)
    assert all(1500 <= n <= 2500 for n in sizes), sizes
    # Between two known places (interpolation) the same holds.
    points = split_points(page[-1], "list/obj-021000.bin", page, keys_per_piece=2000, max_points=40)
    bounds = [page[-1], *points, "list/obj-021000.bin"]
    sizes = _sizes(everything, bounds)
    assert len(sizes) in (10, 11)
    assert all(1500 <= n <= 2500 for n in sizes), sizes


def test_folders_split_at_folders_and_estimates_count_keys() -> None:
    page = [f"d00/s{b}/f{c:03d}" for b in range(10) for c in range(100)]
    points = split_points(page[-1], None, page, keys_per_piece=1000, max_points=8)
    # One folder d01, d02, ... per piece, give or take the end of the one before.
    assert [p[:3] for p in points] == [f"d{i:02d}" for i in range(1, 9)]
    estimate = estimate_keys("d00/s0/f000", "d00/s5/f000", page)
    assert estimate is not None
    assert 450 <= estimate <= 550
    assert estimate_keys("d00/s5/f000", "d00/s0/f000", page) is None
    assert estimate_keys("x", "y", ["x"]) is None


def test_nothing_to_split() -> None:
    assert split_points("a", None, ["a"], keys_per_piece=10, max_points=5) == []
    assert split_points("a1", "a2", ["a0", "a1"], keys_per_piece=10, max_points=5) == []
    # Only control characters past the prefix: no point can be sent.
    control = ["p\x01", "p\x02", "p\x03"]
    assert split_points("p\x03", None, control, prefix="p", keys_per_piece=1, max_points=5) == []
