"""The event loop only waits: with a file system that takes 1 s for every open and read
(a stalled NFS mount), uploads and downloads still arrive and the loop's heartbeat never
stops for anything near that long (the walk, creates, reads, renames run in the pool).

No speed is judged: the threshold only tells "the loop stood still for a second" from
"the loop kept beating", with a wide margin for a loaded 2-core box.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
import time

import pytest
from enginekit import make_engine
from servers import boto3_client

from s3z_core.loop_lag import LoopLagProbe

SLOW_S = 1.0


def _slow_file_system(monkeypatch: pytest.MonkeyPatch) -> None:
    real_open, real_pread = os.open, os.pread

    def slow_open(*args: object, **kwargs: object) -> int:
        time.sleep(SLOW_S)
        return real_open(*args, **kwargs)  # type: ignore[arg-type]

    def slow_pread(*args: object) -> bytes:
        time.sleep(SLOW_S)
        return real_pread(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", slow_open)
    monkeypatch.setattr(os, "pread", slow_pread)
    # A process's first content-type guess reads the system's mime.types files.
    real_read = mimetypes.MimeTypes.read

    def slow_read(self: mimetypes.MimeTypes, *args: object, **kwargs: object) -> None:
        time.sleep(SLOW_S)
        real_read(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(mimetypes.MimeTypes, "read", slow_read)
    monkeypatch.setattr(mimetypes, "_db", None)
    monkeypatch.setattr(mimetypes, "inited", False)


@pytest.mark.asyncio
async def test_a_stalled_disk_never_stalls_the_loop(seaweed, bucket, tmp_path, monkeypatch):
    name = bucket(seaweed)
    src = tmp_path / "src"
    src.mkdir()
    blobs = {f"f{i}.bin": os.urandom(300_000 + i) for i in range(4)}
    for file_name, data in blobs.items():
        (src / file_name).write_bytes(data)
    _slow_file_system(monkeypatch)
    probe = LoopLagProbe()
    probe.start(asyncio.get_running_loop())
    try:
        async with make_engine(seaweed, workers=4) as engine:
            up = await engine.upload_paths([src], name, "k/").result()
            down = await engine.download_prefix(name, "k/", tmp_path / "out").result()
    finally:
        probe.stop()
    stats = probe.stats()
    assert up.failed == []
    assert down.failed == []
    for file_name, data in blobs.items():
        body = boto3_client(seaweed).get_object(Bucket=name, Key=f"k/src/{file_name}")["Body"]
        assert body.read() == data
        assert (tmp_path / "out" / "src" / file_name).read_bytes() == data
    assert stats.samples > 0
    # Each slow call took a second; had one run on the loop, the heartbeat would show it.
    assert stats.max_ms < SLOW_S * 1000 / 2, stats
