"""Every resumable command continues when it is simply run again after a kill.

The kill tests run ``cp``; ``sync``, ``upload`` and ``download`` reach the same per-file
resume through their own planning (sync's compare, the original s3z shapes' prefix and
folder handling), and a user re-runs whatever command was killed. For each: kill it
mid-file through the proxy, run the very same command again, and check the re-run moved
fewer bytes than the file (it continued, it did not start over), the data is
byte-identical by sha256, and nothing is left behind (no multipart upload, no temp file,
nothing in the journal).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest
from clirun import sha256_file, sha256_object
from fault_proxy import FaultProxy, RecordedRequest
from killkit import (
    MiB,
    assert_nothing_to_resume,
    leftovers,
    run_attempt,
    uploads_in,
    write_random,
)
from servers import boto3_client

from s3z_core.local_server import LocalS3Server

COMMON = ["--part-size", "5MiB", "--concurrency", "1", "--workers", "1"]
SIZE = 12 * MiB


def _after_first_part(event: str, record: RecordedRequest, _proxy: FaultProxy) -> bool:
    return event == "response" and record.params.get("partNumber") == "1"


def _after_9_mib_out(event: str, _record: RecordedRequest, proxy: FaultProxy) -> bool:
    return event == "bytes" and proxy.bytes_out >= 9 * MiB


UPLOADS = {
    "sync": lambda src, b: ["sync", str(src), f"s3://{b}/pre/"],
    "upload": lambda src, b: ["upload", "-b", b, "-p", "pre/", str(src / "big.bin")],
}
DOWNLOADS = {
    "sync": lambda b, dest: ["sync", f"s3://{b}/pre/", str(dest)],
    "download": lambda b, dest: ["download", "-b", b, "-p", "pre/", "-d", str(dest)],
}


@pytest.mark.parametrize("name", sorted(UPLOADS))
def test_an_upload_command_run_again_continues(
    seaweed: LocalS3Server,
    proxy: FaultProxy,
    bucket: Callable[..., str],
    home: Path,
    state: Path,
    tmp_path: Path,
    name: str,
) -> None:
    b = bucket(seaweed)
    src = tmp_path / "src"
    src.mkdir()
    write_random(src / "big.bin", SIZE, seed=51)
    args = [*COMMON, *UPLOADS[name](src, b)]
    killed, _, _ = run_attempt(proxy, seaweed, home, state, args, _after_first_part)
    assert killed
    client = boto3_client(seaweed)
    assert [u["Key"] for u in uploads_in(client, b)] == ["pre/big.bin"]
    proxy.clear()

    run_attempt(proxy, seaweed, home, state, args)

    assert sha256_object(client, b, "pre/big.bin") == sha256_file(src / "big.bin")
    assert proxy.bytes_in < SIZE  # the part the server held was not sent again
    assert uploads_in(client, b) == []
    assert_nothing_to_resume(proxy, seaweed, home, state)


@pytest.mark.parametrize("name", sorted(DOWNLOADS))
def test_a_download_command_run_again_continues(
    seaweed: LocalS3Server,
    proxy: FaultProxy,
    bucket: Callable[..., str],
    home: Path,
    state: Path,
    tmp_path: Path,
    name: str,
) -> None:
    b = bucket(seaweed)
    client = boto3_client(seaweed)
    data = random.Random(52).randbytes(SIZE)
    client.put_object(Bucket=b, Key="pre/big.bin", Body=data)
    source = tmp_path / "source.bin"
    source.write_bytes(data)
    dest = tmp_path / "dest"
    dest.mkdir()
    args = [*COMMON, *DOWNLOADS[name](b, dest)]
    proxy.send_buffer = 64 << 10  # the kill lands near 9 MiB, not after the whole body
    killed, _, _ = run_attempt(proxy, seaweed, home, state, args, _after_9_mib_out)
    assert killed
    assert len(leftovers(dest)) == 1
    proxy.clear()

    run_attempt(proxy, seaweed, home, state, args)

    assert sorted(p.name for p in dest.rglob("*") if p.is_file()) == ["big.bin"]
    assert sha256_file(dest / "big.bin") == sha256_file(source)
    assert proxy.bytes_out < SIZE  # the bytes kept in the temp file were not fetched again
    assert leftovers(dest) == []
    assert_nothing_to_resume(proxy, seaweed, home, state)
