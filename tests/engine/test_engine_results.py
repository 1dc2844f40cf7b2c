"""Batches can drop per-file records (flat memory) yet still account for every file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from enginekit import make_engine, sha256_file, write_random
from servers import S3Endpoint


@pytest.mark.asyncio
async def test_batches_without_kept_results_still_count_every_file(
    seaweed: S3Endpoint, bucket: Callable[[S3Endpoint], str], tmp_path: Path
) -> None:
    name = bucket(seaweed)
    src = tmp_path / "src"
    digests = {f"f{i}": write_random(src / f"f{i}", 1000 + i) for i in range(40)}
    (src / "dangling").symlink_to(tmp_path / "missing")  # ignored: links not followed
    async with make_engine(seaweed) as engine:
        up = await engine.upload_paths([src], name, "p/", keep_results=False)
        assert (up.files_done, up.completed, up.failed) == (40, [], [])
        assert up.bytes_done == sum(1000 + i for i in range(40))
        kept = await engine.upload_paths([src / "f0"], name, "q/")
        assert kept.files_done == 1
        assert [r.destination for r in kept.completed] == [f"s3://{name}/q/f0"]
        down = await engine.download_prefix(name, "p/", tmp_path / "out", keep_results=False)
    assert (down.files_done, down.completed, down.failed) == (40, [], [])
    assert down.bytes_done == up.bytes_done
    for rel, digest in digests.items():
        assert sha256_file(tmp_path / "out" / "src" / rel) == digest
