"""Load and event volume: many files × tiny parts lose no part; every transfer's events
follow the grammar; a 256 MiB transfer emits a bounded number of progress events."""

from __future__ import annotations

import pytest
from enginekit import EventLog, make_engine, sha256_file, unfinished_uploads, write_random

from s3z_core.config import MiB
from s3z_core.events import BytesTransferred, TransferCompleted, TransferStarted


@pytest.mark.asyncio
async def test_no_part_dropped_under_load(seaweed, bucket, tmp_path):
    name = bucket(seaweed)
    src = tmp_path / "many"
    sums = {f"f{i:02d}.bin": write_random(src / f"f{i:02d}.bin", 6 * MiB) for i in range(50)}
    events = EventLog()
    settings = {
        "workers": 16,
        "max_in_flight_requests": 8,
        "part_size": 5 * MiB,
        "multipart_threshold": 5 * MiB,
        "download_threshold": 5 * MiB,
    }
    async with make_engine(seaweed, events, **settings) as engine:
        up = await engine.upload_paths([src], name, keep_dir_names=False).result()
        dest = tmp_path / "back"
        down = await engine.download_prefix(name, "", dest).result()
    assert up.failed == []
    assert down.failed == []
    assert len(up.completed) == len(down.completed) == 50
    assert all(r.parts == 2 and r.etag.endswith("-2") for r in up.completed)
    assert all(r.verification.value == "verified-composite" for r in down.completed)
    assert {p.name: sha256_file(p) for p in dest.iterdir()} == sums
    assert unfinished_uploads(seaweed, name) == []
    for tid in events.transfer_ids():
        events.check_grammar(tid)
        assert isinstance(events.terminal(tid), TransferCompleted)
        assert events.bytes_sum(tid) == 6 * MiB


@pytest.mark.asyncio
async def test_256_mib_transfer_emits_few_events(seaweed, bucket, tmp_path):
    name = bucket(seaweed)
    size = 256 * MiB
    src = tmp_path / "big.bin"
    digest = write_random(src, size)
    events = EventLog()
    async with make_engine(seaweed, events) as engine:
        up = await engine.upload_file(src, name, "big").result()
        src.unlink()
        down = await engine.download_file(name, "big", tmp_path / "back.bin").result()
    assert sha256_file(tmp_path / "back.bin") == digest
    for result in (up, down):
        tid = result.transfer_id
        events.check_grammar(tid)
        progress = events.of(BytesTransferred, tid)
        # 256 MiB arrives in tens of thousands of network chunks; events are batched.
        assert 0 < len(progress) < 2_000
        assert sum(e.delta for e in progress) == size
        started = events.of(TransferStarted, tid)
        assert [s.size for s in started] == [size]
        assert isinstance(events.terminal(tid), TransferCompleted)
    print(
        f"\n256 MiB: upload {len(events.of(BytesTransferred, up.transfer_id))} progress events, "
        f"download {len(events.of(BytesTransferred, down.transfer_id))}"
    )
