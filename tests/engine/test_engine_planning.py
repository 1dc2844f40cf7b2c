"""Planning is pure: property tests over 0 … 50 TiB, S3's part limits, stream tiers, and
config validation (zero/negative knobs raise InvalidValueError, a ValueError)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s3z_core.config import GiB, MiB, RetryPolicy, TiB, TransferConfig
from s3z_core.errors import InvalidValueError
from s3z_core.transfer.planning import (
    MAX_OBJECT_BYTES,
    ObjectTooLargeError,
    plan_download,
    plan_upload,
    split,
    streams_for_size,
    upload_part_size,
)

sizes = st.integers(min_value=0, max_value=50 * TiB)
part_sizes = st.none() | st.integers(min_value=1, max_value=6 * GiB)
concurrency = st.none() | st.integers(min_value=1, max_value=64)
thresholds = st.integers(min_value=1, max_value=8 * GiB)


def _covers_exactly(parts, size):
    assert [p.number for p in parts] == list(range(1, len(parts) + 1))
    offset = 0
    for part in parts:
        assert part.offset == offset
        offset += part.length
    assert offset == size


@settings(max_examples=600, deadline=None)
@given(size=sizes, part_size=part_sizes, conc=concurrency, threshold=thresholds)
def test_upload_plan_respects_every_s3_limit(size, part_size, conc, threshold):
    config = TransferConfig(part_size=part_size, concurrency=conc, multipart_threshold=threshold)
    if size > MAX_OBJECT_BYTES:
        with pytest.raises(ObjectTooLargeError):
            plan_upload(size, config)
        return
    plan = plan_upload(size, config)
    _covers_exactly(plan.parts, size)
    assert plan.size == size
    if not plan.multipart:
        assert len(plan.parts) == 1
        assert size <= 5 * GiB  # a single PUT is never above 5 GiB
        assert size < threshold
        return
    assert 1 <= len(plan.parts) <= 10_000
    assert 5 * MiB <= plan.part_size <= 5 * GiB
    for part in plan.parts[:-1]:
        assert 5 * MiB <= part.length <= 5 * GiB
        assert part.length == plan.part_size
    assert 0 < plan.parts[-1].length <= plan.part_size
    assert 1 <= plan.streams <= len(plan.parts)


@settings(max_examples=300, deadline=None)
@given(size=st.integers(min_value=5 * GiB, max_value=MAX_OBJECT_BYTES))
def test_sizes_at_or_above_5gib_always_go_multipart(size):
    # Even with a threshold far above 5 GiB the single-PUT ceiling holds.
    plan = plan_upload(size, TransferConfig(multipart_threshold=1 << 50))
    assert plan.multipart
    assert len(plan.parts) <= 10_000


@settings(max_examples=200, deadline=None)
@given(size=st.integers(min_value=MAX_OBJECT_BYTES + 1, max_value=60 * TiB))
def test_above_the_largest_object_raises(size):
    with pytest.raises(ObjectTooLargeError):
        plan_upload(size, TransferConfig())
    with pytest.raises(ObjectTooLargeError):
        upload_part_size(size, 8)


def test_largest_object_is_exactly_plannable():
    plan = plan_upload(MAX_OBJECT_BYTES, TransferConfig())
    assert len(plan.parts) == 10_000
    assert plan.part_size == 5 * GiB
    # The original s3z capped parts at 256 MiB: 2.5 TiB was unplannable there.
    plan = plan_upload(2 * TiB + TiB // 2, TransferConfig())
    assert len(plan.parts) <= 10_000
    assert plan.part_size > 256 * MiB


@settings(max_examples=400, deadline=None)
@given(
    size=st.integers(min_value=0, max_value=50 * TiB),
    conc=concurrency,
    threshold=thresholds,
    aligned=st.none() | st.integers(min_value=5 * MiB, max_value=5 * GiB),
)
def test_download_plan_covers_the_object(size, conc, threshold, aligned):
    config = TransferConfig(concurrency=conc, download_threshold=threshold)
    plan = plan_download(size, config, aligned)
    _covers_exactly(plan.ranges, size)
    assert 1 <= plan.streams <= max(1, len(plan.ranges))
    if not plan.ranged:
        assert len(plan.ranges) == 1
    elif aligned:
        # Ranges align with upload parts so each part's MD5 can be recomputed in order.
        for part in plan.ranges[:-1]:
            assert part.length % aligned == 0


@pytest.mark.parametrize(
    ("size", "streams"),
    [
        (0, 2),
        (1, 2),
        (256 * MiB, 2),
        (256 * MiB + 1, 4),
        (2 * GiB, 4),
        (2 * GiB + 1, 8),
        (50 * TiB, 8),
    ],
)
def test_stream_tiers(size, streams):
    assert streams_for_size(size, TransferConfig()) == streams


def test_stream_tiers_are_overridable():
    config = TransferConfig(stream_tiers=((MiB, 1), (1 << 62, 3)))
    assert streams_for_size(MiB, config) == 1
    assert streams_for_size(MiB + 1, config) == 3
    assert streams_for_size(10 * TiB, TransferConfig(concurrency=5)) == 5


@pytest.mark.parametrize(
    "kwargs",
    [
        {"workers": 0},
        {"workers": -1},
        {"concurrency": 0},
        {"concurrency": -4},
        {"part_size": 0},
        {"part_size": -5 * MiB},
        {"max_in_flight_requests": 0},
        {"multipart_threshold": 0},
        {"download_threshold": -1},
        {"stream_tiers": ()},
        {"stream_tiers": ((MiB, 0),)},
    ],
)
def test_non_positive_knobs_raise_a_value_error(kwargs):
    with pytest.raises(InvalidValueError) as info:
        TransferConfig(**kwargs)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("bad", [0, -1])
def test_planning_functions_reject_non_positive_inputs(bad):
    with pytest.raises(InvalidValueError):
        upload_part_size(10 * MiB, bad)
    with pytest.raises(InvalidValueError):
        upload_part_size(10 * MiB, 4, bad)
    with pytest.raises(InvalidValueError):
        split(10 * MiB, bad)
    with pytest.raises(InvalidValueError):
        RetryPolicy(max_attempts=bad)


def test_small_file_upload_examples():
    config = TransferConfig(multipart_threshold=5 * MiB, part_size=5 * MiB)
    assert not plan_upload(5 * MiB - 1, config).multipart
    five = plan_upload(5 * MiB, config)
    assert five.multipart
    assert [p.length for p in five.parts] == [5 * MiB]
    plus = plan_upload(5 * MiB + 1, config)
    assert [p.length for p in plus.parts] == [5 * MiB, 1]
    # A requested part size below S3's minimum is raised to 5 MiB, never obeyed.
    assert plan_upload(20 * MiB, TransferConfig(part_size=1, multipart_threshold=1)).part_size == (
        5 * MiB
    )
