"""Kill the CLI with SIGKILL at seeded random moments; the next run continues where it was.

Every attempt talks through a recording proxy that kills the process the instant its
byte count is reached. Across all attempts: the result is byte-identical (sha256 against
the source, read back by boto3), the bytes sent stay under size + 1.5 parts per kill (so
nothing the server already had was sent again), and no multipart upload or temp file is
left. One part or range stream per file (``--concurrency 1``): parts are all-or-nothing,
so with N streams a kill may lose N partial parts, and the bound is stated per stream.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from clirun import sha256_file, sha256_object
from fault_proxy import FaultProxy, RecordedRequest
from killkit import (
    PART,
    MiB,
    assert_nothing_to_resume,
    leftovers,
    run_attempt,
    uploads_in,
    write_random,
)
from servers import boto3_client

from s3z_core.local_server import LocalS3Server

KILLS = 10  # the default run; the 1 GiB runs (``slow``) are killed 20 times
SLOW_KILLS = 20
SEED = 14


def _kill_points(seed: int, count: int, size: int) -> list[int]:
    """The moments, as byte counts over the whole job (all attempts together): spread at
    random over the file, so a run that started over instead of resuming would pay
    for everything sent before each kill again."""
    rng = random.Random(seed)
    return sorted(rng.randrange(0, size) for _ in range(count))


def _at_total(limit: int, *, out: bool) -> Callable[[str, RecordedRequest, FaultProxy], bool]:
    def when(event: str, record: RecordedRequest, proxy: FaultProxy) -> bool:
        total = proxy.bytes_out if out else proxy.bytes_in
        return event == "bytes" and total >= limit

    return when


def _until_done(
    proxy: FaultProxy,
    server: Any,
    home: Path,
    state: Path,
    args: list[str],
    *,
    out: bool,
    size: int,
    kills_at_most: int,
) -> list[int]:
    """Kill at each moment until a run gets through; how many requests each attempt made
    (to tell the attempts apart in the proxy's record). Every moment lies below ``size``
    and all attempts together move at least ``size`` bytes, so every kill lands; only the
    last may find its run already exiting (then it was not killed)."""
    marks: list[int] = []
    for point in _kill_points(SEED, kills_at_most, size):
        killed, _, _ = run_attempt(proxy, server, home, state, args, _at_total(point, out=out))
        marks.append(len(proxy.requests))
        if not killed:
            return marks
    killed, _, _ = run_attempt(proxy, server, home, state, args)
    assert not killed
    marks.append(len(proxy.requests))
    return marks


def _upload_killed(
    seaweed: LocalS3Server,
    proxy: FaultProxy,
    bucket: Callable[..., str],
    tmp_path: Path,
    home: Path,
    state: Path,
    size: int,
    kills_at_most: int = KILLS,
) -> None:
    b = bucket(seaweed)
    src = tmp_path / "src.bin"
    write_random(src, size, seed=size)
    args = ["--part-size", "5MiB", "--concurrency", "1", "cp", str(src), f"s3://{b}/big.bin"]
    marks = _until_done(
        proxy, seaweed, home, state, args, out=False, size=size, kills_at_most=kills_at_most
    )
    kills = len(marks) - 1
    client = boto3_client(seaweed)
    assert sha256_object(client, b, "big.bin") == sha256_file(src)
    assert kills >= kills_at_most - 1, f"only {kills} of {kills_at_most} kills landed"
    assert proxy.bytes_in < size + 1.5 * PART * kills, (proxy.bytes_in, size, kills)
    assert uploads_in(client, b) == []
    # Resumed, never restarted: a part reached the server twice only when it was the one
    # in flight as its process was killed (the server may still store it after the next
    # run's ListParts: nobody can know of it then).
    in_flight_at_kill: set[int] = set()
    for begin, end in zip([0, *marks], marks[:-1], strict=False):
        puts = proxy.requests_matching(method="PUT", query="partNumber")
        mine = [r for r in proxy.requests[begin:end] if r in puts]
        if mine:
            in_flight_at_kill.add(id(mine[-1]))
    seen: set[str] = set()
    for r in proxy.requests_matching(method="PUT", query="partNumber"):
        if r.status != 200:
            continue
        number = r.params["partNumber"]
        assert number not in seen, f"part {number}, which the server had, was sent again"
        if id(r) not in in_flight_at_kill:
            seen.add(number)
    # The journal forgot the finished job: nothing left to resume.
    assert_nothing_to_resume(proxy, seaweed, home, state)


def test_upload_killed_ten_times_ends_byte_identical(
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
    kills_at_most: int = KILLS,
) -> None:
    b = bucket(seaweed)
    src = tmp_path / "src.bin"
    write_random(src, size, seed=size + 1)
    # Uploaded by s3z in 5 MiB parts: the object carries its part size, so the resumed
    # download is checked against its composite ETag (read back from the whole file).
    run_attempt(proxy, seaweed, home, state, ["--part-size", "5MiB", "cp", str(src), f"s3://{b}/o"])
    proxy.clear()
    proxy.send_buffer = 64 << 10
    dest = tmp_path / "dest"
    dest.mkdir()
    args = ["--concurrency", "1", "cp", f"s3://{b}/o", f"{dest}/"]
    marks = _until_done(
        proxy, seaweed, home, state, args, out=True, size=size, kills_at_most=kills_at_most
    )
    kills = len(marks) - 1
    assert sha256_file(dest / "o") == sha256_file(src)
    assert kills >= kills_at_most - 1, f"only {kills} of {kills_at_most} kills landed"
    assert proxy.bytes_out < size + 1.5 * PART * kills, (proxy.bytes_out, size, kills)
    assert leftovers(dest) == []
    assert sorted(p.name for p in dest.iterdir()) == ["o"]
    # Each attempt asked for the bytes from where the last one got to, never from 0 again.
    starts = []
    for begin, end in zip([0, *marks], marks, strict=False):
        gets = [r for r in proxy.requests[begin:end] if r.method == "GET" and r.header("range")]
        if gets:
            starts.append(int(gets[0].header("range").split("=")[1].split("-")[0]))
    assert starts == sorted(starts), starts
    assert starts[-1] > 0, starts
    assert_nothing_to_resume(proxy, seaweed, home, state)


def test_download_killed_ten_times_ends_byte_identical(
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
    _upload_killed(seaweed, proxy, bucket, tmp_path, home, state, 1 << 30, SLOW_KILLS)


@pytest.mark.slow
def test_one_gib_download_killed_twenty_times(
    seaweed: LocalS3Server,
    proxy: FaultProxy,
    bucket: Callable[..., str],
    tmp_path: Path,
    home: Path,
    state: Path,
) -> None:
    _download_killed(seaweed, proxy, bucket, tmp_path, home, state, 1 << 30, SLOW_KILLS)
