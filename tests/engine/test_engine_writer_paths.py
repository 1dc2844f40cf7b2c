"""Writer thread (pwritev partial writes, hashing across part boundaries, composite ETags
equal to what S3 made for boto3's multipart upload) and the safe-path table."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import random
import threading
import tracemalloc
from pathlib import Path

import boto3.s3.transfer
import pytest
from servers import boto3_client

from s3z_core.config import MiB
from s3z_core.errors import LocalFileError, UnsafeKeyError
from s3z_core.transfer.hashing import PartHasher
from s3z_core.transfer.paths import is_dir_marker, safe_local_path
from s3z_core.transfer.resume import READ_BACK_BYTES, hash_file
from s3z_core.transfer.writer import FileWriter


def _chunks(data: bytes, rng: random.Random, biggest: int = 300_000) -> list[bytes]:
    out, pos = [], 0
    while pos < len(data):
        step = rng.randint(1, biggest)
        out.append(data[pos : pos + step])
        pos += step
    return out


def _composite(data: bytes, part_size: int) -> str:
    digests = [
        hashlib.md5(data[i : i + part_size], usedforsecurity=False).digest()
        for i in range(0, len(data), part_size)
    ]
    return f"{hashlib.md5(b''.join(digests), usedforsecurity=False).hexdigest()}-{len(digests)}"


@pytest.mark.asyncio
async def test_writer_survives_partial_pwritev(tmp_path, monkeypatch):
    """The kernel may write less than asked: every short write must be continued exactly."""
    real = os.pwritev
    calls = {"n": 0, "short": 0}
    rng = random.Random(7)

    def short_pwritev(fd, buffers, offset):
        calls["n"] += 1
        total = sum(len(b) for b in buffers)
        want = rng.randint(1, total)
        if want < total:
            calls["short"] += 1
        kept, left = [], want
        for buf in buffers:
            if not left:
                break
            view = memoryview(buf)[:left]
            kept.append(view)
            left -= len(view)
        return real(fd, kept, offset)

    monkeypatch.setattr(os, "pwritev", short_pwritev)
    data = os.urandom(3 * MiB + 17)
    path = tmp_path / "out.bin"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        writer = FileWriter(fd, str(path), asyncio.get_running_loop(), depth=2)
        # Two "ranges" submitted interleaved, each as lists of uneven chunks.
        half = len(data) // 2
        first = _chunks(data[:half], rng, 100_000)
        second = _chunks(data[half:], rng, 100_000)
        pos_a, pos_b = 0, half
        while first or second:
            if first:
                batch = [first.pop(0) for _ in range(min(5, len(first)))]
                await writer.submit(pos_a, batch)
                pos_a += sum(len(c) for c in batch)
            if second:
                batch = [second.pop(0) for _ in range(min(3, len(second)))]
                await writer.submit(pos_b, batch)
                pos_b += sum(len(c) for c in batch)
        await writer.close()
    finally:
        os.close(fd)
    assert calls["short"] > 0  # the fault really happened
    assert hashlib.sha256(path.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()


@pytest.mark.asyncio
async def test_writer_error_is_a_local_file_error(tmp_path):
    path = tmp_path / "ro.bin"
    path.write_bytes(b"")
    fd = os.open(path, os.O_RDONLY)  # writing to it fails with EBADF
    try:
        writer = FileWriter(fd, str(path), asyncio.get_running_loop())
        await writer.submit(0, [b"x" * 1000])
        with pytest.raises(LocalFileError):
            await writer.close()
    finally:
        os.close(fd)


@pytest.mark.asyncio
async def test_shared_backlog_caps_batches_waiting_for_a_stalled_disk(tmp_path, monkeypatch):
    """Many files onto a disk that stops: only ``backlog`` batches are accepted in all,
    the rest wait (memory stays bounded); when the disk moves again everything lands."""
    disk_moves = threading.Event()
    real = os.pwritev

    def stalled_pwritev(fd, buffers, offset):
        disk_moves.wait(10)
        return real(fd, buffers, offset)

    monkeypatch.setattr(os, "pwritev", stalled_pwritev)
    backlog = asyncio.Semaphore(3)
    loop = asyncio.get_running_loop()
    blobs = [os.urandom(4 * 100_000) for _ in range(4)]
    fds, writers = [], []
    for i in range(4):
        fds.append(os.open(tmp_path / f"f{i}", os.O_WRONLY | os.O_CREAT))
        writers.append(FileWriter(fds[-1], f"f{i}", loop, backlog=backlog))
    accepted = 0

    async def feed(writer: FileWriter, blob: bytes) -> None:
        nonlocal accepted
        for offset in range(0, len(blob), 100_000):
            await writer.submit(offset, [blob[offset : offset + 100_000]])
            accepted += 1

    try:
        feeders = [asyncio.create_task(feed(w, b)) for w, b in zip(writers, blobs, strict=True)]
        await asyncio.sleep(0.2)
        assert accepted == 3  # 16 batches offered, 3 in memory: the backlog's size
        disk_moves.set()
        await asyncio.wait_for(asyncio.gather(*feeders), 10)
        for writer in writers:
            await writer.close()
    finally:
        disk_moves.set()
        for fd in fds:
            os.close(fd)
    assert accepted == 16
    for i, blob in enumerate(blobs):
        assert (tmp_path / f"f{i}").read_bytes() == blob
    for _ in range(3):  # every batch gave its place back
        await asyncio.wait_for(backlog.acquire(), 1)
    assert backlog.locked()


@pytest.mark.asyncio
async def test_cancelled_wait_for_the_backlog_gives_the_file_slot_back(tmp_path):
    backlog = asyncio.Semaphore(0)
    path = tmp_path / "out.bin"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        writer = FileWriter(fd, str(path), asyncio.get_running_loop(), depth=1, backlog=backlog)
        waiting = asyncio.create_task(writer.submit(0, [b"lost"]))
        await asyncio.sleep(0.05)
        assert not waiting.done()  # holds the file's only slot, waits for the backlog
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        backlog.release()
        # Had the cancelled wait kept the file's only slot, this would hang.
        await asyncio.wait_for(writer.submit(0, [b"kept"]), 2)
        await writer.close()
    finally:
        os.close(fd)
    assert path.read_bytes() == b"kept"


@pytest.mark.asyncio
async def test_write_after_close_is_refused_and_keeps_the_backlog_whole(tmp_path):
    backlog = asyncio.Semaphore(1)
    path = tmp_path / "out.bin"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        writer = FileWriter(fd, str(path), asyncio.get_running_loop(), backlog=backlog)
        await writer.submit(0, [b"done"])
        await writer.close()
        with pytest.raises(LocalFileError, match="after its writer closed"):
            await writer.submit(4, [b"late"])
        await writer.close()  # a second close is harmless
    finally:
        os.close(fd)
    assert path.read_bytes() == b"done"
    await asyncio.wait_for(backlog.acquire(), 1)  # the one place came back


@pytest.mark.asyncio
async def test_two_writer_threads_hash_their_own_ranges(tmp_path, monkeypatch):
    """A verified ranged download is written by two threads, a range each: the bytes and the
    composite ETag are exact, and both threads really wrote (one hashing thread was the
    bottleneck of a 1 GiB download)."""
    real = os.pwritev
    writers: dict[int, set[int]] = {}

    def recording_pwritev(fd, buffers, offset):
        writers.setdefault(threading.get_ident(), set()).add(offset // span)
        return real(fd, buffers, offset)

    monkeypatch.setattr(os, "pwritev", recording_pwritev)
    part_size, span = 1 * MiB, 2 * MiB  # a range is two parts, as plan_download aligns them
    data = random.Random(11).randbytes(7 * MiB + 5)
    hasher = PartHasher(len(data), part_size, composite=True)
    path = tmp_path / "out.bin"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    rng = random.Random(12)
    try:
        loop = asyncio.get_running_loop()
        writer = FileWriter(fd, str(path), loop, hasher=hasher, threads=2, span=span)
        ranges = {
            start: _chunks(data[start : start + span], rng, 200_000)
            for start in range(0, len(data), span)
        }
        offsets = dict.fromkeys(ranges, 0)
        while any(ranges.values()):  # the ranges' batches interleaved, as streams send them
            for start, chunks in ranges.items():
                if chunks:
                    batch = [chunks.pop(0) for _ in range(min(3, len(chunks)))]
                    await writer.submit(start + offsets[start], batch)
                    offsets[start] += sum(len(c) for c in batch)
        await writer.close()
    finally:
        os.close(fd)
    assert path.read_bytes() == data
    assert hasher.etag() == _composite(data, part_size)
    assert len(writers) == 2  # two threads wrote, and no range was written by both
    first, second = writers.values()
    assert first.isdisjoint(second)
    assert first | second == {0, 1, 2, 3}


@pytest.mark.parametrize("size", [0, 1, 5 * MiB - 1, 5 * MiB, 5 * MiB + 1, 17 * MiB + 3])
def test_part_hasher_matches_hashlib_across_part_boundaries(size):
    part_size = 5 * MiB
    data = random.Random(size).randbytes(size)
    hasher = PartHasher(size, part_size)
    rng = random.Random(size + 1)
    # Feed the data as two aligned ranges, each in chunks that straddle part boundaries.
    split_at = min(size, 2 * part_size)
    for start, end in ((0, split_at), (split_at, size)):
        offset = start
        chunks = _chunks(data[start:end], rng, 3 * MiB)
        while chunks:
            batch = [chunks.pop(0) for _ in range(min(2, len(chunks)))]
            hasher.update(offset, batch)
            offset += sum(len(c) for c in batch)
    if size <= part_size:
        assert hasher.etag() == hashlib.md5(data, usedforsecurity=False).hexdigest()
    else:
        assert hasher.etag() == _composite(data, part_size)


@pytest.mark.parametrize("composite", [False, True])
def test_a_file_is_hashed_back_through_one_reused_buffer(tmp_path, composite):
    """A ranged single-part download (and a resumed one) is verified by reading the file
    back: exact, and holding one READ_BACK_BYTES buffer, not a fresh chunk per read (four
    pool threads reading 4 MiB chunks were ~40 MB of a download's peak RSS)."""
    data = random.Random(5).randbytes(9 * MiB + 7)
    path = tmp_path / "kept.bin"
    path.write_bytes(data)
    part_size = 2 * MiB if composite else len(data)
    tracemalloc.start()
    try:
        etag = hash_file(str(path), len(data), part_size, composite)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    expected = (
        _composite(data, part_size)
        if composite
        else hashlib.md5(data, usedforsecurity=False).hexdigest()
    )
    assert etag == expected
    assert peak < READ_BACK_BYTES + 256 * 1024


def test_part_hasher_refuses_out_of_order_bytes():
    hasher = PartHasher(10 * MiB, 5 * MiB)
    hasher.update(0, [b"a" * 10])
    with pytest.raises(LocalFileError):
        hasher.update(20, [b"b"])


def test_composite_etag_equals_the_one_s3_made_for_boto3(s3_server, bucket):
    """boto3 uploads in 8 MiB parts; the server's ETag is the oracle for PartHasher."""
    name = bucket(s3_server)
    size = 8 * MiB * 3 + 12345
    data = random.Random(3).randbytes(size)
    client = boto3_client(s3_server)
    config = boto3.s3.transfer.TransferConfig(
        multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB
    )
    client.upload_fileobj(io.BytesIO(data), name, "obj", Config=config)
    server_etag = client.head_object(Bucket=name, Key="obj")["ETag"].strip('"')
    hasher = PartHasher(size, 8 * MiB)
    hasher.update(0, _chunks(data, random.Random(4), MiB))
    assert hasher.etag() == _composite(data, 8 * MiB)
    if type(s3_server).__name__ == "RcloneS3Server":
        # rclone serve s3 stores a plain file and reports the MD5 of the whole object.
        assert server_etag == hashlib.md5(data, usedforsecurity=False).hexdigest()
    else:
        assert server_etag.endswith("-4")
        assert hasher.etag() == server_etag


# -- safe_local_path ---------------------------------------------------------------------------

UNSAFE = [
    "../x",
    "/abs",
    "..",
    "a/../../x",
    "a/..",  # resolves to the destination itself: still refused (a '..' segment)
    "C:\\x",
    "c:x",
    "a\\..\\x",
    "dir/\x00name",
    "",
    "/",
    "./",
    "././",
    "//etc/passwd",
]
SAFE = [
    ("a", "a"),
    ("a/b/c.txt", "a/b/c.txt"),
    ("a//b", "a/b"),
    ("./a", "a"),
    ("a/./b", "a/b"),
    ("..a/b..", "..a/b.."),
    ("...", "..."),
    ("a b/é.txt", "a b/é.txt"),
    ("ab:c", "ab:c"),  # a colon after the second character is no drive letter
]


@pytest.mark.parametrize("key", UNSAFE)
def test_unsafe_keys_are_refused(tmp_path, key):
    with pytest.raises(UnsafeKeyError):
        safe_local_path(tmp_path, key)


@pytest.mark.parametrize(("key", "rel"), SAFE)
def test_safe_keys_land_inside(tmp_path, key, rel):
    target = safe_local_path(tmp_path, key)
    assert target == tmp_path.resolve() / rel
    assert tmp_path.resolve() in target.parents


def test_strip_prefix_applies_before_the_checks(tmp_path):
    assert safe_local_path(tmp_path, "pre/a/b", "pre/") == tmp_path.resolve() / "a/b"
    with pytest.raises(UnsafeKeyError):
        safe_local_path(tmp_path, "pre/../x", "pre/")
    with pytest.raises(UnsafeKeyError):
        safe_local_path(tmp_path, "pre/", "pre/")  # names nothing inside the destination


def test_a_symlinked_folder_pointing_out_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafeKeyError):
        safe_local_path(dest, "link/file")
    assert safe_local_path(dest, "real/file") == dest.resolve() / "real/file"


@pytest.mark.parametrize(
    ("key", "size", "marker"),
    [("d/", 0, True), ("d/", 5, False), ("d", 0, False), ("a/b/", 0, True)],
)
def test_dir_marker(key, size, marker):
    assert is_dir_marker(key, size) is marker


def test_unsafe_key_error_names_the_key(tmp_path):
    with pytest.raises(UnsafeKeyError) as info:
        safe_local_path(Path(tmp_path), "a/../../x")
    assert "a/../../x" in str(info.value)


def test_part_hasher_single_part_multipart_object_is_composite():
    """A multipart upload of one part has ETag ``md5(md5)-1``, not the plain MD5
    (the 5 MiB file with 5 MiB parts failed verification before this was fixed)."""
    data = random.Random(9).randbytes(5 * MiB)
    hasher = PartHasher(len(data), 5 * MiB, composite=True)
    hasher.update(0, [data])
    assert hasher.etag() == _composite(data, 5 * MiB)
    assert hasher.etag().endswith("-1")
