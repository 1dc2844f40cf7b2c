"""The bandwidth cap (``TransferConfig.limit_rate``, ``--limit-rate``): one token bucket in the
transport for every body byte, uploads and downloads together.

The bucket's arithmetic is checked with a fake clock (exact, no waiting); over a real server
(SeaweedFS) a capped upload, download and a mix of both run near the cap, measured as bytes
over time, with a generous band: the machine is shared, so only a cap that does not hold (or
a limiter that halves the rate) can fail it.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from enginekit import make_engine, sha256_file, write_random

from s3z_core.cli.values import rate
from s3z_core.config import MiB, TransferConfig
from s3z_core.errors import InvalidValueError
from s3z_core.transport.bandwidth import TokenBucket

CAP = 4 * MiB  # bytes/s: a few seconds per test, far below what the local server does
SIZE = 12 * MiB


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.now += seconds


@pytest.mark.asyncio
async def test_the_bucket_lets_rate_times_time_plus_burst_through() -> None:
    fake = FakeTime()
    bucket = TokenBucket(1_000_000, burst_bytes=100_000, clock=fake.clock, sleep=fake.sleep)
    for _ in range(100):  # 10 MB in 100 kB chunks, as fast as they come
        await bucket.take(100_000)
    # The first 100 kB went on the burst; the rest waited at exactly 1 MB/s.
    assert fake.slept == pytest.approx((10_000_000 - 100_000) / 1_000_000)
    fake.now += 5.0  # idle: the bucket refills only up to its burst
    before = fake.slept
    await bucket.take(100_000)
    assert fake.slept == before
    await bucket.take(100_000)
    assert fake.slept - before == pytest.approx(0.1)


@pytest.mark.asyncio
async def test_concurrent_takers_share_one_cap() -> None:
    fake = FakeTime()
    bucket = TokenBucket(2_000_000, burst_bytes=1, clock=fake.clock, sleep=fake.sleep)

    async def stream() -> None:
        for _ in range(10):
            await bucket.take(200_000)

    await asyncio.gather(*(stream() for _ in range(8)))  # 16 MB over 8 streams
    assert fake.now == pytest.approx(16_000_000 / 2_000_000, rel=1e-6)


def test_limits_must_be_positive_and_parse_like_sizes() -> None:
    with pytest.raises(InvalidValueError):
        TokenBucket(0)
    with pytest.raises(InvalidValueError):
        TransferConfig(limit_rate=0)
    assert rate("20M") == 20 * MiB
    assert rate("512K/s") == 512 * 1024


def _band(moved: int, seconds: float) -> float:
    return moved / seconds / CAP


@pytest.mark.asyncio
async def test_a_capped_upload_and_download_run_near_the_cap(seaweed, bucket, tmp_path):
    name = bucket(seaweed)
    src = tmp_path / "big.bin"
    digest = write_random(src, SIZE)
    async with make_engine(seaweed, limit_rate=CAP, part_size=5 * MiB) as engine:
        started = time.monotonic()
        await engine.upload_file(src, name, "big.bin").result()
        up = _band(SIZE, time.monotonic() - started)
        started = time.monotonic()
        await engine.download_file(name, "big.bin", tmp_path / "back.bin").result()
        down = _band(SIZE, time.monotonic() - started)
        # Both directions at once share the one cap.
        started = time.monotonic()
        both = [
            engine.upload_file(src, name, "again.bin"),
            engine.download_file(name, "big.bin", tmp_path / "back2.bin"),
        ]
        await asyncio.gather(*(h.result() for h in both))
        mixed = _band(2 * SIZE, time.monotonic() - started)
    assert sha256_file(tmp_path / "back.bin") == digest
    assert sha256_file(tmp_path / "back2.bin") == digest
    print(f"throughput / cap: upload {up:.2f}, download {down:.2f}, both {mixed:.2f}")
    for measured in (up, down, mixed):
        assert 0.6 < measured < 1.15, (up, down, mixed)
