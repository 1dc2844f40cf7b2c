"""Engine.upload_stream on SeaweedFS and rclone: byte-identical round trips around the part
boundary (known and unknown length), memory bounded by the parts in flight, and a source
that fails, lies about its length or is cancelled leaves no multipart upload behind."""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import AsyncIterator

import pytest
from enginekit import EventLog, make_engine, sha256_object, unfinished_uploads
from fault_proxy import FaultProxy

from s3z_core.config import GiB, MiB, TransferConfig
from s3z_core.errors import InvalidValueError, NoSuchKeyError, SourceStreamError
from s3z_core.events import BytesTransferred, TransferCancelled, TransferCompleted, TransferFailed
from s3z_core.transfer.planning import MAX_OBJECT_BYTES
from s3z_core.transfer.stream_upload import (
    STREAM_PART_BYTES,
    stream_part_size,
    stream_parts_in_flight,
)

PART = 5 * MiB
SIZES = [0, 1, PART - 1, PART, PART + 1, 2 * PART, 3 * PART + 5]


def payload(size: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


async def chunked(data: bytes, seed: int = 1) -> AsyncIterator[bytes]:
    """Irregular chunks, some larger than a part, so cuts fall inside chunks."""
    rng = random.Random(seed)
    pos = 0
    while pos < len(data):
        step = rng.choice([1, 4096, 65536, 300_000, PART + 3])
        yield data[pos : pos + step]
        pos += step
        await asyncio.sleep(0)


async def wait_for_upload(engine, name: str) -> None:
    """Until the upload exists and its first part is stored, so no request is mid-body
    when the source then fails or stalls (a cancel mid-body is tested through the proxy:
    rclone reads an abandoned body slowly, and its socket would outlive the test)."""
    for _ in range(1000):
        uploads = await engine.list_multipart_uploads(name)
        if uploads and await engine.ops.list_parts(name, uploads[0].key, uploads[0].upload_id):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("no multipart upload with a stored part appeared")


def test_part_size_is_chosen_for_memory():
    assert stream_part_size(None, TransferConfig()) == STREAM_PART_BYTES
    assert stream_part_size(10 * GiB, TransferConfig()) == STREAM_PART_BYTES
    assert stream_part_size(None, TransferConfig(part_size=PART)) == PART
    assert stream_part_size(None, TransferConfig(part_size=1)) == PART  # S3's minimum part
    # A known size only raises it as far as 10,000 parts need.
    assert stream_part_size(200 * GiB, TransferConfig()) == 21 * MiB
    assert stream_part_size(MAX_OBJECT_BYTES, TransferConfig()) == 5 * GiB
    assert stream_parts_in_flight(None, TransferConfig()) == 2
    assert stream_parts_in_flight(None, TransferConfig(concurrency=5)) == 5


@pytest.mark.asyncio
@pytest.mark.parametrize("known", [True, False], ids=["known-size", "unknown-size"])
@pytest.mark.parametrize("size", SIZES)
async def test_round_trip(s3_server, bucket, size, known):
    name = bucket(s3_server)
    data = payload(size)
    events = EventLog()
    async with make_engine(s3_server, events, part_size=PART) as engine:
        handle = engine.upload_stream(
            chunked(data),
            name,
            "s/obj.bin",
            size=size if known else None,
            content_type="application/x-test",
        )
        result = await handle.result()
        head = await engine.head_object(name, "s/obj.bin")
    assert sha256_object(s3_server, name, "s/obj.bin") == hashlib.sha256(data).hexdigest()
    assert result.size == size == head.size
    assert head.content_type == "application/x-test"
    assert result.parts == max(1, -(-size // PART))  # one PUT when it fits in one part
    assert result.destination == f"s3://{name}/s/obj.bin"
    events.check_grammar(handle.transfer_id)
    assert events.bytes_sum(handle.transfer_id) == size
    done = events.terminal(handle.transfer_id)
    assert isinstance(done, TransferCompleted)
    assert done.size == size
    assert unfinished_uploads(s3_server, name) == []


@pytest.mark.asyncio
async def test_memory_is_bounded_by_parts_in_flight(seaweed, bucket):
    """The source is never more than (in flight + 1) parts and one chunk ahead of what was
    sent to the server: the stream is never buffered whole."""
    name = bucket(seaweed)
    chunk = 256 * 1024
    total = 12 * PART
    events = EventLog()
    state = {"yielded": 0, "lead": 0, "tid": 0}

    async def source() -> AsyncIterator[bytes]:
        block = payload(chunk)
        while state["yielded"] < total:
            sent = events.bytes_sum(state["tid"]) if state["tid"] else 0
            state["lead"] = max(state["lead"], state["yielded"] - sent)
            yield block
            state["yielded"] += chunk
            await asyncio.sleep(0)

    async with make_engine(seaweed, events, part_size=PART) as engine:
        handle = engine.upload_stream(source(), name, "big")
        state["tid"] = handle.transfer_id
        result = await handle.result()
    in_flight = stream_parts_in_flight(None, TransferConfig(part_size=PART))
    assert result.size == total
    assert result.parts == 12
    assert state["lead"] <= (in_flight + 1) * PART + chunk, state


@pytest.mark.asyncio
async def test_failing_source_aborts_the_upload(s3_server, bucket):
    name = bucket(s3_server)
    events = EventLog()
    async with make_engine(s3_server, events, part_size=PART) as engine:

        async def source() -> AsyncIterator[bytes]:
            yield payload(2 * PART + 100)
            await wait_for_upload(engine, name)  # the upload exists: its abort is tested
            raise RuntimeError("client went away")

        handle = engine.upload_stream(source(), name, "torn")
        with pytest.raises(SourceStreamError, match=r"after 10485860 bytes: RuntimeError: client"):
            await handle.result()
        assert await engine.list_multipart_uploads(name) == []
    assert unfinished_uploads(s3_server, name) == []
    assert isinstance(events.terminal(handle.transfer_id), TransferFailed)
    events.check_grammar(handle.transfer_id)


@pytest.mark.asyncio
async def test_typed_source_error_keeps_its_type(seaweed, bucket):
    name = bucket(seaweed)
    async with make_engine(seaweed, part_size=PART) as engine:

        async def source() -> AsyncIterator[bytes]:
            yield payload(PART + 1)
            await wait_for_upload(engine, name)
            raise NoSuchKeyError(code="NoSuchKey", status=404, operation="GetObject")

        with pytest.raises(NoSuchKeyError):
            await engine.upload_stream(source(), name, "k").result()
    assert unfinished_uploads(seaweed, name) == []


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("declared", "delivered", "message"),
    [
        (2 * PART + 1, 2 * PART, "ended after 10485760 of the declared"),
        (PART - 10, PART, "more than the declared"),
        (3 * PART, 3 * PART + 1, "more than the declared"),
    ],
)
async def test_declared_length_is_enforced(seaweed, bucket, declared, delivered, message):
    name = bucket(seaweed)
    async with make_engine(seaweed, part_size=PART) as engine:
        handle = engine.upload_stream(chunked(payload(delivered)), name, "k", size=declared)
        with pytest.raises(SourceStreamError, match=message):
            await handle.result()
        exists = await engine.bucket_exists(name)
        listed = [o async for o in engine.iter_objects(name)]
    assert exists
    assert listed == []  # nothing committed under the key
    assert unfinished_uploads(seaweed, name) == []


@pytest.mark.asyncio
async def test_cancel_while_the_source_stalls_aborts_the_upload(s3_server, bucket):
    name = bucket(s3_server)
    events = EventLog()
    stuck = asyncio.Event()
    async with make_engine(s3_server, events, part_size=PART) as engine:

        async def source() -> AsyncIterator[bytes]:
            yield payload(2 * PART)
            await wait_for_upload(engine, name)
            stuck.set()
            await asyncio.Event().wait()  # a client that stops sending
            yield b"never"

        handle = engine.upload_stream(source(), name, "c")
        await asyncio.wait_for(stuck.wait(), 30)
        handle.cancel()
        with pytest.raises(asyncio.CancelledError):
            await handle.result()
        assert handle.state == "cancelled"
        assert await engine.list_multipart_uploads(name) == []
    assert unfinished_uploads(s3_server, name) == []
    assert isinstance(events.terminal(handle.transfer_id), TransferCancelled)


@pytest.mark.asyncio
async def test_cancel_with_parts_in_flight_aborts_the_upload(seaweed, bucket):
    name = bucket(seaweed)
    events = EventLog()
    async with FaultProxy(seaweed.endpoint_url) as proxy:
        proxy.delay(5.0, method="PUT", query="partNumber", times=None)
        async with make_engine(proxy.endpoint(seaweed), events, part_size=PART) as engine:
            handle = engine.upload_stream(chunked(payload(6 * PART)), name, "inflight")
            while len(proxy.requests_matching(method="PUT", query="partNumber")) < 2:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            handle.cancel()
            with pytest.raises(asyncio.CancelledError):
                await handle.result()
            assert await engine.list_multipart_uploads(name) == []
        assert len(proxy.requests_matching(method="DELETE", query="uploadId")) == 1
    assert unfinished_uploads(seaweed, name) == []
    assert isinstance(events.terminal(handle.transfer_id), TransferCancelled)


@pytest.mark.asyncio
async def test_negative_size_is_refused(seaweed, bucket):
    name = bucket(seaweed)
    async with make_engine(seaweed) as engine:
        with pytest.raises(InvalidValueError, match="negative"):
            await engine.upload_stream(chunked(b"x"), name, "k", size=-1).result()


@pytest.mark.asyncio
async def test_cross_endpoint_copy_from_a_get_stream(seaweed, rclone_s3, bucket):
    """The lead's use: another store's GET stream straight into an upload, never on disk."""
    src_name, dst_name = bucket(rclone_s3), bucket(seaweed)
    data = payload(3 * PART + 12345, seed=3)
    events = EventLog()
    async with (
        make_engine(rclone_s3) as src,
        make_engine(seaweed, events, part_size=PART) as dst,
    ):
        await src.put_bytes(src_name, "from", data)
        head = await src.head_object(src_name, "from")
        async with src.open_stream(src_name, "from") as chunks:
            handle = dst.upload_stream(chunks, dst_name, "to", size=head.size)
            result = await handle.result()
    assert result.parts == 4
    assert sha256_object(seaweed, dst_name, "to") == hashlib.sha256(data).hexdigest()
    assert sum(e.delta for e in events.of(BytesTransferred, handle.transfer_id)) == len(data)


@pytest.mark.asyncio
async def test_part_reset_mid_body_is_resent_from_its_buffer(seaweed, bucket):
    """A part is the only copy of its bytes: a reset mid-body resends it from memory, and
    the progress it had reported is rewound, so the totals still add up."""
    name = bucket(seaweed)
    data = payload(3 * PART + 77, seed=11)
    events = EventLog()
    async with FaultProxy(seaweed.endpoint_url) as proxy:
        proxy.reset_request(after_bytes=PART // 2, method="PUT", query="partNumber=2", times=1)
        async with make_engine(proxy.endpoint(seaweed), events, part_size=PART) as engine:
            handle = engine.upload_stream(chunked(data), name, "retried")
            result = await handle.result()
    assert result.parts == 4
    assert sha256_object(seaweed, name, "retried") == hashlib.sha256(data).hexdigest()
    assert events.bytes_sum(handle.transfer_id) == len(data)
    assert any(e.delta < 0 for e in events.of(BytesTransferred, handle.transfer_id))
    events.check_grammar(handle.transfer_id)
