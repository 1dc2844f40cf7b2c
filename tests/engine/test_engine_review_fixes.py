"""Regression tests for the code-review fixes in ``s3z_core/transfer`` and ``s3z_core/transport``.

One test per fix; each failed on the code before the fix (hang, leak, wrong error type,
stray object…) and passes now. Real servers (SeaweedFS), the FaultProxy for timing-sensitive
windows (a delayed request is a window we can act in, never a timing assertion), data
checked by sha256. Every await that could hang on the old code sits under ``guard()``, which
turns a hang into a failure.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from botocore.exceptions import ClientError
from enginekit import EventLog, make_engine, sha256_file, unfinished_uploads, write_random
from fault_proxy import FaultProxy, RecordedRequest
from servers import boto3_client

from s3z_core.config import MiB
from s3z_core.errors import (
    LocalFileError,
    S3zError,
    UnsafeKeyError,
    VerificationError,
)
from s3z_core.events import TransferCancelled, TransferEvent, TransferQueued, TransferStarted

HANG_S = 60  # a hang guard, not a timing assertion
T = TypeVar("T")


async def guard(aw: Awaitable[T]) -> T:
    """Await ``aw``; a hang (the old behaviour of several fixes) becomes a TimeoutError."""
    return await asyncio.wait_for(aw, HANG_S)


async def until(condition: Callable[[], bool]) -> None:
    """Poll state that lives in the proxy's records or on disk (there is no Event to await)."""

    async def poll() -> None:
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)

    await guard(poll())


def temp_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.s3z-part"))


def put_object(seaweed: Any, name: str, key: str, data: bytes) -> str:
    """Upload through boto3 (a plain single-part object: its ETag is the MD5)."""
    return str(boto3_client(seaweed).put_object(Bucket=name, Key=key, Body=data)["ETag"]).strip('"')


class StartedLog(EventLog):
    """An EventLog that also wakes a waiter on the first TransferStarted."""

    def __init__(self) -> None:
        super().__init__()
        self.started = asyncio.Event()

    def __call__(self, event: TransferEvent) -> None:
        super().__call__(event)
        if isinstance(event, TransferStarted):
            self.started.set()


# -- 1. cancelling a batch whose producer waits on the full queue ------------------------------


@pytest.mark.asyncio
async def test_cancel_batch_with_blocked_producer_does_not_hang(seaweed, bucket, tmp_path):
    name = bucket(seaweed)
    async with make_engine(seaweed) as engine:
        sem = asyncio.Semaphore(32)

        async def put(i: int) -> None:
            async with sem:
                await engine.put_bytes(name, f"many/f{i:03d}", os.urandom(64 + i))

        await guard(asyncio.gather(*(put(i) for i in range(300))))

    events = StartedLog()
    dest = tmp_path / "out"
    # workers=2: the queue holds 4 jobs, so the producer is parked on a full queue.
    async with make_engine(seaweed, events, workers=2) as engine:
        batch = engine.download_prefix(name, "many/", dest)
        await guard(events.started.wait())
        batch.cancel()
        with pytest.raises(asyncio.CancelledError):
            await guard(batch.result())  # the old code hung here (TimeoutError)
        assert batch.done()
    assert temp_files(tmp_path) == []


# -- 2. an object bigger than the size the caller passed -----------------------------------------


@pytest.mark.asyncio
async def test_object_bigger_than_stated_size_is_a_typed_error(
    seaweed, bucket, tmp_path, monkeypatch
):
    name = bucket(seaweed)
    etag = await asyncio.to_thread(put_object, seaweed, name, "big", os.urandom(10 * MiB))
    thread_errors: list[threading.ExceptHookArgs] = []
    monkeypatch.setattr(threading, "excepthook", thread_errors.append)
    dest = tmp_path / "out" / "big"
    async with make_engine(seaweed) as engine:
        handle = engine.download_file(name, "big", dest, size=100, etag=etag)
        with pytest.raises(S3zError) as caught:
            await guard(handle.result())
    assert isinstance(caught.value, VerificationError), repr(caught.value)
    assert thread_errors == [], [(a.thread, a.exc_value) for a in thread_errors]
    # No temp file, nothing under the final name (the folder is made only for a first write).
    assert not dest.parent.exists() or list(dest.parent.iterdir()) == []


# -- 3. a plain OSError in one download does not abort the batch ---------------------------------


@pytest.mark.asyncio
async def test_os_error_in_one_download_fails_only_that_file(seaweed, bucket, tmp_path):
    name = bucket(seaweed)
    other = os.urandom(3000)
    await asyncio.to_thread(put_object, seaweed, name, "p/photos", os.urandom(2000))
    await asyncio.to_thread(put_object, seaweed, name, "p/other", other)
    dest = tmp_path / "out"
    (dest / "photos").mkdir(parents=True)  # a folder where the file "photos" should go
    async with make_engine(seaweed) as engine:
        result = await guard(engine.download_prefix(name, "p/", dest).result())
    assert [f.source for f in result.failed] == [f"s3://{name}/p/photos"]
    assert isinstance(result.failed[0].error, LocalFileError), repr(result.failed[0].error)
    assert [r.source for r in result.completed] == [f"s3://{name}/p/other"]
    (src := tmp_path / "other.expected").write_bytes(other)
    assert sha256_file(dest / "other") == sha256_file(src)
    assert (dest / "photos").is_dir()
    assert list((dest / "photos").iterdir()) == []
    assert temp_files(dest) == []


# -- 4. cancel during CreateMultipartUpload leaves no upload behind ------------------------------


@pytest.mark.asyncio
async def test_cancel_during_create_multipart_leaves_no_upload(seaweed, bucket, tmp_path):
    name = bucket(seaweed)
    src = tmp_path / "src.bin"
    write_random(src, 12 * MiB)
    knobs = {"multipart_threshold": 5 * MiB, "part_size": 5 * MiB}
    async with FaultProxy(seaweed.endpoint_url) as proxy:
        proxy.delay(1.0, method="POST", query="uploads")

        def creates() -> list[RecordedRequest]:
            return proxy.requests_matching(method="POST", query="uploads")

        async with make_engine(proxy.endpoint(seaweed), **knobs) as engine:
            handle = engine.upload_file(src, name, "obj")
            await until(lambda: bool(creates()))  # the create is in the proxy's delay
            handle.cancel()
            with pytest.raises(asyncio.CancelledError):
                await guard(handle.result())
            # The server did assign an upload id (the proxy forwarded the create after its
            # delay): it must have been aborted, not leaked.
            await until(lambda: creates()[0].status is not None)
        assert creates()[0].status == 200
        assert len(proxy.requests_matching(method="DELETE", query="uploadId")) == 1
    assert await asyncio.to_thread(unfinished_uploads, seaweed, name) == []


# -- 5. a handle cancelled before its task ever ran ----------------------------------------------


@pytest.mark.asyncio
async def test_cancel_before_first_step_emits_terminal_event(seaweed, bucket, tmp_path):
    name = bucket(seaweed)
    src = tmp_path / "small.bin"
    src.write_bytes(b"x" * 100)
    events = EventLog()
    async with make_engine(seaweed, events) as engine:
        handle = engine.upload_file(src, name, "small")
        handle.cancel()  # same synchronous step: the task never started
        with pytest.raises(asyncio.CancelledError):
            await guard(handle.result())
        await asyncio.sleep(0)  # let every done-callback of the task run
        kinds = [type(e) for e in events.by_id[handle.transfer_id]]
        assert kinds == [TransferQueued, TransferCancelled]
        assert engine._ctx.controls == {}
    assert handle.state == "cancelled"


# -- 6. open_stream: a mid-body reset is our TransportError --------------------------------------


@pytest.mark.asyncio
async def test_open_stream_mid_body_reset_resumes_from_the_next_byte(seaweed, bucket):
    """A cut body is one more attempt from where it broke (before: a TransportError)."""
    name = bucket(seaweed)
    data = os.urandom(4 * MiB)
    await asyncio.to_thread(put_object, seaweed, name, "obj", data)
    async with FaultProxy(seaweed.endpoint_url) as proxy:
        rule = proxy.reset_response(method="GET", path=r"/obj$", after_bytes=MiB)
        async with make_engine(proxy.endpoint(seaweed)) as engine:
            received = bytearray()

            async def read_all() -> None:
                async with engine.open_stream(name, "obj") as chunks:
                    async for chunk in chunks:
                        received.extend(chunk)

            await guard(read_all())
        gets = proxy.requests_matching(method="GET", path=r"/obj$")
    assert rule.fired == 1
    assert hashlib.sha256(received).digest() == hashlib.sha256(data).digest()
    assert len(gets) == 2
    assert (gets[1].header("range") or "").startswith("bytes=")


# -- 7. a file that shrinks during a single PUT: LocalFileError, no retry ------------------------


@pytest.mark.asyncio
async def test_file_shrinking_during_single_put_is_local_error_not_retried(
    seaweed, bucket, tmp_path
):
    name = bucket(seaweed)
    src = tmp_path / "shrink.bin"
    write_random(src, 20 * MiB)  # under the 64 MiB default threshold: one streamed PUT
    async with FaultProxy(seaweed.endpoint_url) as proxy:
        # The proxy reads nothing of the body for 2 s: the client fills the socket buffers
        # (a few MiB of 20) and waits, mid-body, while we truncate the file.
        proxy.delay(2.0, method="PUT", path=r"/shrink$")

        def puts() -> list[RecordedRequest]:
            return proxy.requests_matching(method="PUT", path=r"/shrink$")

        async with make_engine(proxy.endpoint(seaweed)) as engine:
            handle = engine.upload_file(src, name, "shrink")
            await until(lambda: bool(puts()))
            os.truncate(src, MiB)
            with pytest.raises(LocalFileError, match="shrank"):
                await guard(handle.result())
        assert len(puts()) == 1  # a local error is not a network error: never retried


# -- 8. a long file name: the temp name stays under NAME_MAX -------------------------------------


@pytest.mark.asyncio
async def test_long_file_name_downloads(seaweed, bucket, tmp_path):
    name = bucket(seaweed)
    leaf = "写" * 80  # 240 bytes of UTF-8; the old temp name added 19 bytes (> 255)
    assert len(leaf.encode()) == 240
    data = os.urandom(300_000)
    await asyncio.to_thread(put_object, seaweed, name, f"long/{leaf}", data)
    (expected := tmp_path / "expected.bin").write_bytes(data)
    dest = tmp_path / "out" / leaf
    async with make_engine(seaweed) as engine:
        await guard(engine.download_file(name, f"long/{leaf}", dest).result())
    assert sha256_file(dest) == sha256_file(expected)
    assert temp_files(tmp_path) == []


# -- 9. a symlink loop in the destination --------------------------------------------------------


@pytest.mark.asyncio
async def test_symlink_loop_in_destination_is_unsafe_key(seaweed, bucket, tmp_path):
    name = bucket(seaweed)
    good = os.urandom(5000)
    await asyncio.to_thread(put_object, seaweed, name, "loop/x", b"looped")
    await asyncio.to_thread(put_object, seaweed, name, "fine/y", good)
    dest = tmp_path / "out"
    dest.mkdir()
    os.symlink("loop", dest / "loop")  # dest/loop -> loop
    async with make_engine(seaweed) as engine:
        result = await guard(engine.download_keys(name, ["loop/x", "fine/y"], dest).result())
    assert [f.source for f in result.failed] == [f"s3://{name}/loop/x"]
    assert isinstance(result.failed[0].error, UnsafeKeyError), repr(result.failed[0].error)
    assert [r.source for r in result.completed] == [f"s3://{name}/fine/y"]
    (expected := tmp_path / "expected.bin").write_bytes(good)
    assert sha256_file(dest / "fine" / "y") == sha256_file(expected)
    assert os.readlink(dest / "loop") == "loop"


# -- 10. "changed while uploading" runs before CompleteMultipartUpload ---------------------------


@pytest.mark.asyncio
async def test_multipart_source_changed_is_aborted_not_completed(seaweed, bucket, tmp_path):
    name = bucket(seaweed)
    src = tmp_path / "src.bin"
    write_random(src, 12 * MiB)  # parts of 5, 5 and 2 MiB
    knobs = {"multipart_threshold": 5 * MiB, "part_size": 5 * MiB}
    async with FaultProxy(seaweed.endpoint_url) as proxy:
        proxy.delay(1.5, method="PUT", query="partNumber=3")

        def last_part() -> list[RecordedRequest]:
            return proxy.requests_matching(method="PUT", query="partNumber=3")

        async with make_engine(proxy.endpoint(seaweed), **knobs) as engine:
            handle = engine.upload_file(src, name, "obj")
            await until(lambda: bool(last_part()))  # part 3 is held in the proxy
            st = src.stat()
            os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns - 100 * 10**9))
            with pytest.raises(LocalFileError, match="changed while it was uploading"):
                await guard(handle.result())
        completes = proxy.requests_matching(method="POST", query="uploadId")
        assert completes == []  # a torn object is aborted, never committed
    with pytest.raises(ClientError) as missing:
        await asyncio.to_thread(boto3_client(seaweed).head_object, Bucket=name, Key="obj")
    assert missing.value.response["Error"]["Code"] in {"404", "NoSuchKey"}
    assert await asyncio.to_thread(unfinished_uploads, seaweed, name) == []


# -- 11. an object replaced mid-download ---------------------------------------------------------


@pytest.mark.asyncio
async def test_object_replaced_mid_download_fails(seaweed, bucket, tmp_path):
    name = bucket(seaweed)
    size = 12 * MiB
    await asyncio.to_thread(put_object, seaweed, name, "obj", os.urandom(size))
    dest = tmp_path / "out" / "obj"
    knobs = {"download_threshold": 5 * MiB, "concurrency": 2}
    async with FaultProxy(seaweed.endpoint_url) as proxy:
        proxy.delay(2.0, method="GET", path=r"/obj$", nth=2)

        def gets() -> list[RecordedRequest]:
            return proxy.requests_matching(method="GET", path=r"/obj$")

        def one_answered_one_held() -> bool:
            seen = gets()
            answered = [g for g in seen if g.fault is None and g.status is not None]
            held = [g for g in seen if g.fault == "delay"]
            return bool(answered) and bool(held)

        async with make_engine(proxy.endpoint(seaweed), **knobs) as engine:
            handle = engine.download_file(name, "obj", dest)
            # One range is streaming from the original object, the other waits in the proxy:
            # replace the object (same size, other bytes) before the held range is forwarded.
            await until(one_answered_one_held)
            await asyncio.to_thread(put_object, seaweed, name, "obj", os.urandom(size))
            with pytest.raises(VerificationError, match="changed while downloading"):
                await guard(handle.result())
    assert not dest.exists()
    assert temp_files(tmp_path) == []


# -- 12. the marker of the folder being downloaded, and a destination that cannot resolve ----


@pytest.mark.asyncio
async def test_folder_marker_of_the_downloaded_prefix_is_not_a_failure(seaweed, bucket, tmp_path):
    name = bucket(seaweed)
    data = os.urandom(7000)
    await asyncio.to_thread(put_object, seaweed, name, "made/", b"")  # the GUI's "New folder"
    await asyncio.to_thread(put_object, seaweed, name, "made/a.bin", data)
    dest = tmp_path / "out"
    async with make_engine(seaweed) as engine:
        result = await guard(engine.download_prefix(name, "made/", dest).result())
    assert result.failed == []
    assert sorted(r.source for r in result.completed) == [
        f"s3://{name}/made/",
        f"s3://{name}/made/a.bin",
    ]
    (expected := tmp_path / "expected.bin").write_bytes(data)
    assert sha256_file(dest / "a.bin") == sha256_file(expected)
    assert sorted(p.name for p in dest.iterdir()) == ["a.bin"]


@pytest.mark.asyncio
async def test_destination_that_is_a_symlink_loop_is_a_local_file_error(seaweed, bucket, tmp_path):
    """Checked in the file-system pool when the first file would be written (planning does
    no I/O on the loop): each file fails typed, nothing is written."""
    name = bucket(seaweed)
    await asyncio.to_thread(put_object, seaweed, name, "k", b"x")
    looped = tmp_path / "looped"
    os.symlink("looped", looped)
    async with make_engine(seaweed) as engine:
        result = await guard(engine.download_keys(name, ["k"], looped).result())
    (failure,) = result.failed
    assert isinstance(failure.error, LocalFileError)
    assert "cannot be resolved" in str(failure.error)
    assert result.files_done == 0
