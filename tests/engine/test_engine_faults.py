"""Faults between the Engine and a real server (our FaultProxy in front of SeaweedFS):
resets mid-body, 500s and SlowDown on parts, permanent errors, cancellation and pause.
Data must arrive identical, retries must show in events, and no multipart upload may be
left behind; the proxy's log proves the abort guard sent ``DELETE ?uploadId=``."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from enginekit import (
    SMALL,
    EventLog,
    make_engine,
    sha256_file,
    sha256_object,
    unfinished_uploads,
    write_random,
)
from fault_proxy import FaultProxy
from servers import boto3_client

from s3z_core.config import MiB, RetryPolicy
from s3z_core.errors import AccessDeniedError, MultipartAbortError, RetryableServiceError
from s3z_core.events import (
    BytesTransferred,
    PartRetried,
    TransferCancelled,
    TransferCompleted,
    TransferFailed,
    TransferPaused,
    TransferResumed,
)

SIZE = 20 * MiB + 7  # 5 parts of 5 MiB (the last 7 bytes), 4 aligned download ranges


async def wait_for(condition: Callable[[], bool]) -> None:
    """Poll a condition; the suite's timeout bounds it. Never a timing assertion.
    (The state lives in the proxy's records and on disk: there is no Event to await.)"""
    while not condition():  # noqa: ASYNC110
        await asyncio.sleep(0.01)


def part_puts(proxy: FaultProxy) -> list:
    return proxy.requests_matching(method="PUT", query="partNumber")


def aborts(proxy: FaultProxy) -> list:
    return proxy.requests_matching(method="DELETE", query="uploadId")


@pytest.fixture
def source(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "src.bin"
    return path, write_random(path, SIZE)


@pytest.mark.asyncio
async def test_get_resets_mid_body_resume_and_data_is_identical(seaweed, bucket, source, tmp_path):
    name = bucket(seaweed)
    src, digest = source
    async with make_engine(seaweed, **SMALL) as engine:
        await engine.upload_file(src, name, "obj").result()
    events = EventLog()
    dest = tmp_path / "out" / "obj"
    async with FaultProxy(seaweed.endpoint_url) as proxy:
        rule = proxy.reset_response(method="GET", path=r"/obj$", after_bytes=MiB + 5, times=3)
        async with make_engine(proxy.endpoint(seaweed), events, **SMALL) as engine:
            result = await engine.download_file(name, "obj", dest).result()
        gets = proxy.requests_matching(method="GET", path=r"/obj$")
    assert rule.fired == 3
    assert sha256_file(dest) == digest
    assert result.verification.value == "verified-composite"
    retried = events.of(PartRetried, result.transfer_id)
    assert len(retried) == 3
    assert len(gets) == result.parts + 3
    # A cut body resumes after the bytes already received, not from the range start:
    # first attempts start on part boundaries (ranges align with 5 MiB parts), resumes not.
    starts = [int(g.header("range").split("=")[1].split("-")[0]) for g in gets]
    assert len([s for s in starts if s % (5 * MiB) == 0]) == result.parts
    assert len([s for s in starts if s % (5 * MiB) != 0]) == 3
    assert events.bytes_sum(result.transfer_id) == SIZE
    events.check_grammar(result.transfer_id)
    assert [p.name for p in dest.parent.iterdir()] == ["obj"]


@pytest.mark.asyncio
async def test_part_upload_resets_are_retried_and_rewound(seaweed, bucket, source):
    name = bucket(seaweed)
    src, digest = source
    events = EventLog()
    async with FaultProxy(seaweed.endpoint_url) as proxy:
        # Part 2: the connection drops after 1 MiB of the body (nothing reaches the server).
        proxy.reset_request(method="PUT", query="partNumber=2", after_bytes=MiB)
        # Part 4: the server stored it, but the answer is lost.
        proxy.reset_response(method="PUT", query="partNumber=4", after_bytes=0)
        async with make_engine(proxy.endpoint(seaweed), events, **SMALL) as engine:
            result = await engine.upload_file(src, name, "obj").result()
        puts = part_puts(proxy)
    assert sha256_object(seaweed, name, "obj") == digest
    assert sorted(int(p.params["partNumber"]) for p in puts) == [1, 2, 2, 3, 4, 4, 5]
    assert {e.part_number for e in events.of(PartRetried, result.transfer_id)} == {2, 4}
    deltas = [e.delta for e in events.of(BytesTransferred, result.transfer_id)]
    assert any(d < 0 for d in deltas)  # a retried part rewinds the progress
    assert sum(deltas) == SIZE
    assert unfinished_uploads(seaweed, name) == []
    events.check_grammar(result.transfer_id)


@pytest.mark.asyncio
async def test_500_and_slowdown_on_random_parts(seaweed, bucket, tmp_path):
    name = bucket(seaweed)
    size = 40 * MiB + 1  # 9 parts
    src = tmp_path / "src.bin"
    digest = write_random(src, size)
    rng = random.Random(20240611)
    failing = rng.sample(range(1, 10), 4)
    events = EventLog()
    async with FaultProxy(seaweed.endpoint_url) as proxy:
        for i, part in enumerate(failing):
            if i % 2:
                proxy.slow_down(method="PUT", query=f"partNumber={part}", times=2)
            else:
                proxy.internal_error(method="PUT", query=f"partNumber={part}")
        proxy.slow_down(method="GET", path=r"/obj$", nth=2)
        proxy.internal_error(method="GET", path=r"/obj$", nth=3)
        async with make_engine(proxy.endpoint(seaweed), events, **SMALL) as engine:
            up = await engine.upload_file(src, name, "obj").result()
            down = await engine.download_file(name, "obj", tmp_path / "out.bin").result()
        puts = part_puts(proxy)
        faults = [p for p in puts if p.fault]
    assert sha256_object(seaweed, name, "obj") == digest
    assert sha256_file(tmp_path / "out.bin") == digest
    assert len(faults) == 6
    assert {int(p.params["partNumber"]) for p in faults} == set(failing)
    retried = events.of(PartRetried, up.transfer_id)
    assert {e.part_number for e in retried} == set(failing)
    assert len(retried) == 6
    assert {e.reason for e in retried} == {"SlowDown", "InternalError"}
    assert all(e.delay_s >= 0 for e in retried)
    assert len(events.of(PartRetried, down.transfer_id)) == 2
    assert events.bytes_sum(up.transfer_id) == size
    assert events.bytes_sum(down.transfer_id) == size
    assert unfinished_uploads(seaweed, name) == []


@pytest.mark.asyncio
@pytest.mark.parametrize("fault", ["access_denied", "retries_exhausted"])
async def test_permanent_error_on_part_3_aborts_the_upload(seaweed, bucket, source, fault):
    name = bucket(seaweed)
    src, _ = source
    events = EventLog()
    async with FaultProxy(seaweed.endpoint_url) as proxy:
        if fault == "access_denied":
            proxy.access_denied(method="PUT", query="partNumber=3", times=None)
            expected: type[Exception] = AccessDeniedError
        else:
            proxy.internal_error(method="PUT", query="partNumber=3", times=None)
            expected = RetryableServiceError
        retry = RetryPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.02)
        async with make_engine(proxy.endpoint(seaweed), events, retry=retry, **SMALL) as engine:
            handle = engine.upload_file(src, name, "obj")
            with pytest.raises(expected):
                await handle.result()
        part3 = proxy.requests_matching(method="PUT", query="partNumber=3")
        deletes = aborts(proxy)
    assert len(part3) == (1 if fault == "access_denied" else 3)  # 403 is never retried
    assert len(deletes) == 1
    assert deletes[0].status == 204
    assert unfinished_uploads(seaweed, name) == []
    assert "Contents" not in boto3_client(seaweed).list_objects_v2(Bucket=name)
    failed = events.terminal(handle.transfer_id)
    assert isinstance(failed, TransferFailed)
    assert isinstance(failed.error, expected)
    events.check_grammar(handle.transfer_id)


@pytest.mark.asyncio
async def test_cancel_upload_mid_flight_aborts(seaweed, bucket, source):
    name = bucket(seaweed)
    src, _ = source
    events = EventLog()
    async with FaultProxy(seaweed.endpoint_url) as proxy:
        proxy.delay(5.0, method="PUT", query="partNumber", times=None)
        async with make_engine(proxy.endpoint(seaweed), events, **SMALL) as engine:
            handle = engine.upload_file(src, name, "obj")
            await wait_for(lambda: len(part_puts(proxy)) >= 2)  # both streams in flight
            handle.cancel()
            with pytest.raises(asyncio.CancelledError):
                await handle.result()
            assert handle.state == "cancelled"
            assert await engine.list_multipart_uploads(name) == []
        deletes = aborts(proxy)
    assert len(deletes) == 1
    assert unfinished_uploads(seaweed, name) == []
    assert isinstance(events.terminal(handle.transfer_id), TransferCancelled)
    events.check_grammar(handle.transfer_id)


@pytest.mark.asyncio
async def test_engine_close_aborts_running_uploads(seaweed, bucket, source):
    """Closing the engine (window closed, Ctrl-C) is a cancellation too."""
    name = bucket(seaweed)
    src, _ = source
    events = EventLog()
    async with FaultProxy(seaweed.endpoint_url) as proxy:
        proxy.delay(5.0, method="PUT", query="partNumber", times=None)
        engine = make_engine(proxy.endpoint(seaweed), events, **SMALL)
        handle = engine.upload_file(src, name, "obj")
        await wait_for(lambda: len(part_puts(proxy)) >= 1)
        await engine.close()
        assert handle.done()
        deletes = aborts(proxy)
    assert len(deletes) == 1
    assert unfinished_uploads(seaweed, name) == []
    assert isinstance(events.terminal(handle.transfer_id), TransferCancelled)


@pytest.mark.asyncio
@pytest.mark.parametrize("size", [SIZE, 3 * MiB])  # ranged, and a single streamed GET
async def test_cancel_download_mid_flight_leaves_no_file(seaweed, bucket, tmp_path, size):
    name = bucket(seaweed)
    src = tmp_path / "src.bin"
    write_random(src, size)
    async with make_engine(seaweed, **SMALL) as engine:
        await engine.upload_file(src, name, "obj").result()
    dest_dir = tmp_path / "out"
    events = EventLog()
    async with FaultProxy(seaweed.endpoint_url) as proxy:
        # The first GET streams 1 MiB then stalls (the delay holds the others back).
        proxy.delay(5.0, method="GET", path=r"/obj$", times=None)
        async with make_engine(proxy.endpoint(seaweed), events, **SMALL) as engine:
            handle = engine.download_file(name, "obj", dest_dir / "obj", size=size, etag="x")
            await wait_for(lambda: len(proxy.requests_matching(method="GET")) >= 1)
            await wait_for(lambda: list(dest_dir.glob("*.s3z-part")) != [])
            handle.cancel()
            with pytest.raises(asyncio.CancelledError):
                await handle.result()
    assert list(dest_dir.iterdir()) == []  # no temp file, nothing under the final name
    assert isinstance(events.terminal(handle.transfer_id), TransferCancelled)
    events.check_grammar(handle.transfer_id)


@pytest.mark.asyncio
async def test_pause_stops_new_parts_and_resume_completes(seaweed, bucket, tmp_path):
    name = bucket(seaweed)
    size = 30 * MiB + 3  # 7 parts, 2 streams
    src = tmp_path / "src.bin"
    digest = write_random(src, size)
    events = EventLog()
    async with FaultProxy(seaweed.endpoint_url) as proxy:
        proxy.delay(1.0, method="PUT", query="partNumber", times=None)
        async with make_engine(proxy.endpoint(seaweed), events, **SMALL) as engine:
            handle = engine.upload_file(src, name, "obj")
            await wait_for(lambda: len(part_puts(proxy)) >= 1)
            handle.pause()
            assert handle.state == "paused"
            # The parts already sent finish; then nothing new starts while paused.
            in_flight = len(part_puts(proxy))
            await wait_for(lambda: all(p.status is not None for p in part_puts(proxy)))
            sent_while_paused = len(part_puts(proxy))
            await asyncio.sleep(1.5)  # an observation window: can only hide a bug, never fake one
            assert len(part_puts(proxy)) == sent_while_paused
            assert sent_while_paused <= in_flight + 1  # at most the other stream's part
            assert not handle.done()
            handle.resume()
            result = await handle.result()
    assert sha256_object(seaweed, name, "obj") == digest
    assert result.parts == 7
    kinds = [type(e) for e in events.by_id[handle.transfer_id]]
    assert kinds.count(TransferPaused) == 1
    assert kinds.count(TransferResumed) == 1
    assert kinds.index(TransferPaused) < kinds.index(TransferResumed)
    assert isinstance(events.terminal(handle.transfer_id), TransferCompleted)
    events.check_grammar(handle.transfer_id)
    assert unfinished_uploads(seaweed, name) == []


@pytest.mark.asyncio
async def test_a_failed_abort_is_surfaced_with_the_upload_id(seaweed, bucket, source):
    """A part fails for good and the abort fails too: the file's error is MultipartAbortError
    naming the upload (so the user can abort it later), with the part's failure as the cause;
    nothing is merely logged."""
    path, _ = source
    name = bucket(seaweed)
    async with FaultProxy(seaweed.endpoint_url) as proxy:
        proxy.access_denied(method="PUT", query="partNumber=2")
        proxy.fail(500, "InternalError", method="DELETE", query="uploadId", times=None)
        async with make_engine(proxy.endpoint(seaweed), **SMALL) as engine:
            result = await engine.upload_paths([path], name, "k/").result()
        tried = len(aborts(proxy))
    (failure,) = result.failed
    error = failure.error
    assert isinstance(error, MultipartAbortError)
    assert isinstance(error.cause, AccessDeniedError)
    assert isinstance(error.abort_error, RetryableServiceError)
    assert error.bucket == name
    assert error.key == "k/src.bin"
    left = unfinished_uploads(seaweed, name)
    assert [u["UploadId"] for u in left] == [error.upload_id]
    assert error.upload_id in str(error)
    assert tried >= 1  # the abort really was attempted (and retried) before giving up
    boto3_client(seaweed).abort_multipart_upload(
        Bucket=name, Key="k/src.bin", UploadId=error.upload_id
    )
