"""Kill the CLI with SIGKILL at seeded random moments; the next run continues where it was.

Every attempt talks through a recording proxy that kills the process the instant its
byte count is reached. Across all attempts: the result is byte-identical (sha256 against
the source, read back by boto3), the bytes sent stay under size + 1.5 parts per kill (so
nothing the server already had was sent again), and no multipart upload or temp file is
left. One part or range stream per file (``--concurrency 1``): parts are all-or-nothing,
so with N streams a kill may lose N partial parts, and the bound is stated per stream.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from clirun import sha256_file, sha256_object
from fault_proxy import FaultProxy
from killkit import MiB, PART, after_bytes, leftovers, run_attempt, uploads_in, write_random
from servers import boto3_client

from s3z_core.local_server import LocalS3Server

KILLS = 20
SEED = 14


def _kill_points(seed: int, count: int) -> list[int]:
    """Where in each attempt's own byte stream it is killed: anywhere in its first two
    parts (0 included: killed before its first part got anywhere)."""
    rng = random.Random(seed)
    return [rng.randrange(0, 2 * PART) for _ in range(count)]


def _until_done(
    proxy: FaultProxy, server: Any, home: Path, state: Path, args: list[str], *, out: bool
) -> int:
    """Kill at each point until a run gets through; the kills it took."""
    kills = 0
    for point in _kill_points(SEED, KILLS):
        killed, _, _ = run_attempt(proxy, server, home, state, args, after_bytes(point, out=out))
        if not killed:
            return kills
        kills += 1
    killed, _, _ = run_attempt(proxy, server, home, state, args)
    assert not killed
    return kills


def _upload_killed(
    seaweed: LocalS3Server,
    proxy: FaultProxy,
    bucket: Callable[..., str],
    tmp_path: Path,
    home: Path,
    state: Path,
    size: int,
) -> None:
    b = bucket(seaweed)
    src = tmp_path / "src.bin"
    write_random(src, size, seed=size)
    args = ["--part-size", "5MiB", "--concurrency", "1", "cp", str(src), f"s3://{b}/big.bin"]
    kills = _until_done(proxy, seaweed, home, state, args, out=False)
    client = boto3_client(seaweed)
    assert sha256_object(client, b, "big.bin") == sha256_file(src)
    assert kills >= 5, "too few kills landed to say anything"
    assert proxy.bytes_in < size + 1.5 * PART * kills, (proxy.bytes_in, size, kills)
    assert uploads_in(client, b) == []
    # The journal forgot the finished job: nothing left to resume.
    _, listing, _ = _resume_list(proxy, seaweed, home, state)
    assert [json.loads(line)["type"] for line in listing.splitlines()] == ["resumable_none"]


def _resume_list(proxy: FaultProxy, server: Any, home: Path, state: Path) -> tuple[int, str, str]:
    from killkit import Attempt

    return Attempt(proxy, server, home, state, ["--json", "resume", "--list"]).wait()


def test_upload_killed_twenty_times_ends_byte_identical(
    seaweed: LocalS3Server,
    proxy: FaultProxy,
    bucket: Callable[..., str],
    tmp_path: Path,
    home: Path,
    state: Path,
) -> None:
    _upload_killed(seaweed, proxy, bucket, tmp_path, home, state, 32 * MiB + 12345)


def _download_killed(
    seaweed: LocalS3Server,
    proxy: FaultProxy,
    bucket: Callable[..., str],
    tmp_path: Path,
    home: Path,
    state: Path,
    size: int,
) -> None:
    b = bucket(seaweed)
    src = tmp_path / "src.bin"
    write_random(src, size, seed=size + 1)
    # Uploaded by s3z in 5 MiB parts: the object carries its part size, so the resumed
    # download is checked against its composite ETag (read back from the whole file).
    run_attempt(proxy, seaweed, home, state, ["--part-size", "5MiB", "cp", str(src), f"s3://{b}/o"])
    proxy.clear()
    dest = tmp_path / "dest"
    dest.mkdir()
    args = ["--concurrency", "1", "cp", f"s3://{b}/o", f"{dest}/"]
    kills = _until_done(proxy, seaweed, home, state, args, out=True)
    assert sha256_file(dest / "o") == sha256_file(src)
    assert kills >= 5
    assert proxy.bytes_out < size + 1.5 * PART * kills, (proxy.bytes_out, size, kills)
    assert leftovers(dest) == [] and sorted(p.name for p in dest.iterdir()) == ["o"]


def test_download_killed_twenty_times_ends_byte_identical(
    seaweed: LocalS3Server,
    proxy: FaultProxy,
    bucket: Callable[..., str],
    tmp_path: Path,
    home: Path,
    state: Path,
) -> None:
    _download_killed(seaweed, proxy, bucket, tmp_path, home, state, 30 * MiB + 777)


@pytest.mark.slow
def test_one_gib_upload_killed_twenty_times(
    seaweed: LocalS3Server,
    proxy: FaultProxy,
    bucket: Callable[..., str],
    tmp_path: Path,
    home: Path,
    state: Path,
) -> None:
    _upload_killed(seaweed, proxy, bucket, tmp_path, home, state, 1 << 30)


@pytest.mark.slow
def test_one_gib_download_killed_twenty_times(
    seaweed: LocalS3Server,
    proxy: FaultProxy,
    bucket: Callable[..., str],
    tmp_path: Path,
    home: Path,
    state: Path,
) -> None:
    _download_killed(seaweed, proxy, bucket, tmp_path, home, state, 1 << 30)
