"""A killed download is continued only from the object it started on.

The temp file a killed ranged download keeps holds bytes of one object version, named in
the journal by its ETag. If the object is overwritten before the re-run (another ETag),
those bytes belong to nothing: continuing in them would land a file that is half old,
half new. The re-run must drop the temp file and fetch the new object from byte 0.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from clirun import sha256_file
from fault_proxy import FaultProxy, RecordedRequest
from killkit import MiB, assert_nothing_to_resume, leftovers, run_attempt
from servers import boto3_client

from s3z_core.local_server import LocalS3Server

COMMON = ["--part-size", "5MiB", "--concurrency", "1", "--workers", "1"]
SIZE = 12 * MiB  # over the 8 MiB threshold: a ranged, journalled download


def _after_9_mib(event: str, _record: RecordedRequest, proxy: FaultProxy) -> bool:
    return event == "bytes" and proxy.bytes_out >= 9 * MiB


def _covered(records: list[RecordedRequest]) -> list[tuple[int, int]]:
    """The byte spans the GETs asked for, merged (``bytes=a-b``, both ends inclusive)."""
    spans = []
    for r in records:
        if r.method == "GET":
            first, _, last = (r.header("range") or "").removeprefix("bytes=").partition("-")
            spans.append((int(first), int(last)))
    merged: list[tuple[int, int]] = []
    for first, last in sorted(spans):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def test_an_object_overwritten_after_the_kill_is_downloaded_from_zero(
    seaweed: LocalS3Server,
    proxy: FaultProxy,
    bucket: Callable[..., str],
    home: Path,
    state: Path,
    tmp_path: Path,
) -> None:
    import random

    b = bucket(seaweed)
    client = boto3_client(seaweed)
    old = random.Random(41).randbytes(SIZE)
    new = random.Random(42).randbytes(SIZE)  # same size: only the ETag tells them apart
    client.put_object(Bucket=b, Key="obj.bin", Body=old)
    dest = tmp_path / "dest"
    dest.mkdir()
    args = [*COMMON, "cp", f"s3://{b}/obj.bin", f"{dest}/"]
    proxy.send_buffer = 64 << 10  # the kill lands near 9 MiB, not after the whole body
    killed, _, _ = run_attempt(proxy, seaweed, home, state, args, _after_9_mib)
    assert killed
    assert len(leftovers(dest)) == 1  # the kept temp file, holding old bytes

    before = client.head_object(Bucket=b, Key="obj.bin")["ETag"]
    client.put_object(Bucket=b, Key="obj.bin", Body=new)
    assert client.head_object(Bucket=b, Key="obj.bin")["ETag"] != before
    proxy.clear()
    run_attempt(proxy, seaweed, home, state, args)

    assert sha256_file(dest / "obj.bin") == hashlib.sha256(new).hexdigest()
    assert leftovers(dest) == []
    # From byte 0: every byte asked for and fetched again, none taken from the temp file.
    assert _covered(proxy.requests) == [(0, SIZE - 1)]
    assert proxy.bytes_out == SIZE
    assert_nothing_to_resume(proxy, seaweed, home, state)
