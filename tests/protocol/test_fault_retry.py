"""Retry behaviour through our fault proxy in front of a real server (SeaweedFS / rclone).

Retries use a 10 ms base delay. Where a test needs each attempt's ``x-amz-date`` to differ,
the client's clock is a ticking fake (+1 s per reading) so no test waits for a real second.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from fault_proxy import FaultProxy, RecordedRequest
from s3z_protocol_helpers import KEYS, payload, sha256
from servers import S3Endpoint, boto3_client

from s3z_core.config import RetryPolicy
from s3z_core.credentials import Credentials
from s3z_core.errors import AccessDeniedError, RetryableServiceError, TransportError
from s3z_core.operations import S3Operations
from s3z_core.transport.body import FileRange
from s3z_core.transport.client import S3Client
from s3z_core.transport.messages import RetryNotice

MiB = 1024 * 1024
BucketFactory = Callable[[S3Endpoint], str]


class Rig:
    """A real server, our proxy in front of it, and an ``S3Operations`` through the proxy."""

    def __init__(self, server: S3Endpoint, proxy: FaultProxy, ops: S3Operations) -> None:
        self.server = server
        self.proxy = proxy
        self.ops = ops
        self.notices: list[RetryNotice] = []
        ops.client.on_retry = self.notices.append

    @property
    def client(self) -> S3Client:
        return self.ops.client

    def tick_clock(self) -> None:
        """Each signature reads a clock one second later than the last."""
        start = datetime.now(tz=UTC).timestamp()
        readings = iter(range(10_000))
        self.client.addressing.now = lambda: datetime.fromtimestamp(  # type: ignore[method-assign]
            start + next(readings) + self.client.addressing.clock_offset_s, tz=UTC
        )


@pytest_asyncio.fixture
async def rig(s3_server: S3Endpoint, make_ops: Any) -> AsyncIterator[Rig]:
    async with FaultProxy(s3_server.endpoint_url) as proxy:
        ops = make_ops(
            proxy.endpoint(s3_server), retry=RetryPolicy(max_attempts=4, base_delay_s=0.01)
        )
        yield Rig(s3_server, proxy, ops)


def _signature(r: RecordedRequest) -> str:
    return (r.header("authorization") or "").rsplit("Signature=", 1)[-1]


async def _drain(client: S3Client, bucket: str, key: str, into: bytearray, **kw: Any) -> None:
    async for chunk in client.stream(bucket, key, **kw):
        into += chunk


def _boto_sha(server: S3Endpoint, bucket: str, key: str) -> str:
    return sha256(boto3_client(server).get_object(Bucket=bucket, Key=key)["Body"].read())


@pytest.mark.asyncio
async def test_slow_down_twice_then_success_resigns_every_attempt(
    rig: Rig, bucket: BucketFactory
) -> None:
    name = bucket(rig.server)
    key = KEYS["mixed"]
    data = payload("slow", 300_000)
    rig.tick_clock()
    rule = rig.proxy.slow_down(method="PUT", times=2)
    etag = await rig.ops.put_object(name, key, data)

    attempts = rig.proxy.requests_matching(method="PUT")
    assert rule.fired == 2
    assert [(a.fault, a.status) for a in attempts] == [("error", 503), ("error", 503), (None, 200)]
    dates = [a.amz_date for a in attempts]
    assert all(dates)
    assert len(set(dates)) == 3, dates  # fresh x-amz-date per attempt
    assert len({_signature(a) for a in attempts}) == 3  # and a fresh signature
    assert [a.content_length for a in attempts] == [len(data)] * 3
    assert [a.body_bytes for a in attempts] == [len(data)] * 3
    assert [(n.attempt, n.reason, n.operation) for n in rig.notices] == [
        (1, "SlowDown", "PutObject"),
        (2, "SlowDown", "PutObject"),
    ]
    assert all(0 < n.delay_s <= 0.02 for n in rig.notices)
    assert etag == hashlib.md5(data).hexdigest()
    assert _boto_sha(rig.server, name, key) == sha256(data)


@pytest.mark.asyncio
async def test_file_body_is_reread_on_retry_and_progress_rewinds(
    rig: Rig, bucket: BucketFactory, tmp_path: Path
) -> None:
    name = bucket(rig.server)
    data = payload("file-retry", 3 * MiB + 11)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    rig.proxy.slow_down(method="PUT", times=1)
    rig.proxy.reset_request(method="PUT", after_bytes=MiB + 5, nth=2)  # the 2nd PUT is cut
    progress: list[int] = []
    await rig.ops.put_object(
        name, "f.bin", FileRange(str(path), 0, len(data)), progress=progress.append
    )
    attempts = rig.proxy.requests_matching(method="PUT")
    assert [a.fault for a in attempts] == ["error", "reset_request", None]
    assert sum(progress) == len(data)  # rewinds cancel the failed attempts exactly
    assert any(p < 0 for p in progress)
    assert _boto_sha(rig.server, name, "f.bin") == sha256(data)


@pytest.mark.asyncio
async def test_access_denied_is_not_retried(rig: Rig, bucket: BucketFactory) -> None:
    name = bucket(rig.server)
    rig.proxy.access_denied(method="GET")
    with pytest.raises(AccessDeniedError) as info:
        await rig.ops.get_object_bytes(name, KEYS["space"])
    assert info.value.code == "AccessDenied"
    assert info.value.status == 403
    assert not info.value.retryable
    assert len(rig.proxy.requests_matching(method="GET")) == 1
    assert rig.notices == []


@pytest.mark.asyncio
async def test_500s_are_retried_until_attempts_run_out(rig: Rig, bucket: BucketFactory) -> None:
    name = bucket(rig.server)
    await rig.ops.put_object(name, "k", b"v")
    rig.proxy.clear()
    rig.proxy.internal_error(method="HEAD", times=None)
    with pytest.raises(RetryableServiceError) as info:
        await rig.ops.head_object(name, "k")
    assert info.value.status == 500
    assert len(rig.proxy.requests_matching(method="HEAD")) == 4  # max_attempts
    assert [n.attempt for n in rig.notices] == [1, 2, 3]

    rig.proxy.clear()
    rig.proxy.internal_error(method="GET", times=1)
    assert await rig.ops.get_object_bytes(name, "k") == b"v"
    assert [a.status for a in rig.proxy.requests_matching(method="GET")] == [500, 200]


@pytest.mark.asyncio
async def test_reset_mid_body_is_retried(rig: Rig, bucket: BucketFactory) -> None:
    name = bucket(rig.server)
    data = payload("reset", 2 * MiB + 3)
    boto3_client(rig.server).put_object(Bucket=name, Key="r.bin", Body=data)
    rig.proxy.reset_response(method="GET", after_bytes=700_000)
    got = await rig.ops.get_object_bytes(name, "r.bin")
    assert sha256(got) == sha256(data)
    assert [a.fault for a in rig.proxy.requests_matching(method="GET")] == ["reset_response", None]
    assert len(rig.notices) == 1
    assert rig.notices[0].reason == "TransportError"


@pytest.mark.asyncio
async def test_stream_retries_a_reset_before_headers_and_resumes_one_mid_stream(
    rig: Rig, bucket: BucketFactory
) -> None:
    name = bucket(rig.server)
    data = payload("stream", 2 * MiB)
    boto3_client(rig.server).put_object(Bucket=name, Key="s.bin", Body=data)
    rig.proxy.reset_response(method="GET", after_bytes=0)
    got = bytearray()
    await _drain(rig.client, name, "s.bin", got)
    assert sha256(bytes(got)) == sha256(data)
    assert len(rig.proxy.requests_matching(method="GET")) == 2

    # Mid-stream, the transport resumes from the next byte: one more attempt, a Range GET.
    rig.proxy.clear()
    rig.proxy.reset_response(method="GET", after_bytes=MiB)
    got = bytearray()
    await _drain(rig.client, name, "s.bin", got)
    assert sha256(bytes(got)) == sha256(data)
    first, second = rig.proxy.requests_matching(method="GET")
    assert first.header("range") is None
    resumed_at = int((second.header("range") or "").removeprefix("bytes=").split("-")[0])
    assert 0 < resumed_at < len(data)
    assert (second.header("range") or "").endswith(f"-{len(data) - 1}")


@pytest.mark.asyncio
async def test_a_range_cut_ten_times_costs_at_most_max_attempts_requests(
    rig: Rig, bucket: BucketFactory
) -> None:
    """Before, open_get and the download's resume loop nested: up to max_attempts**2."""
    name = bucket(rig.server)
    data = payload("cut", 3 * MiB)
    boto3_client(rig.server).put_object(Bucket=name, Key="c.bin", Body=data)
    rig.proxy.reset_response(method="GET", after_bytes=200_000, times=10)
    got = bytearray()
    with pytest.raises(TransportError):
        await _drain(rig.client, name, "c.bin", got, start=MiB, end=3 * MiB, ranged=True)
    gets = rig.proxy.requests_matching(method="GET")
    assert len(gets) == rig.client.config.retry.max_attempts == 4
    # What did arrive is exact, and each attempt asked only for what was still missing.
    assert bytes(got) == data[MiB : MiB + len(got)]
    starts = [int((r.header("range") or "").removeprefix("bytes=").split("-")[0]) for r in gets]
    assert starts == sorted(starts)
    assert starts[0] == MiB
    assert len(set(starts)) == 4
    assert all((r.header("range") or "").endswith(f"-{3 * MiB - 1}") for r in gets)


@pytest.mark.asyncio
async def test_complete_multipart_200_with_error_is_retried(
    rig: Rig, bucket: BucketFactory
) -> None:
    name = bucket(rig.server)
    key = KEYS["nfd"]
    part1, part2 = payload("c1", 5 * MiB), payload("c2", 1234)
    upload_id = await rig.ops.create_multipart_upload(name, key)
    e1 = await rig.ops.upload_part(name, key, upload_id, 1, part1)
    e2 = await rig.ops.upload_part(name, key, upload_id, 2, part2)
    rule = rig.proxy.error_in_200(method="POST", query="uploadId")
    etag = await rig.ops.complete_multipart_upload(name, key, upload_id, [(1, e1), (2, e2)])
    attempts = rig.proxy.requests_matching(method="POST", query="uploadId")
    assert rule.fired == 1
    assert [(a.fault, a.status) for a in attempts] == [("error_200", 200), (None, 200)]
    assert [(n.reason, n.operation) for n in rig.notices] == [
        ("InternalError", "CompleteMultipartUpload")
    ]
    assert etag.endswith("-2")
    assert _boto_sha(rig.server, name, key) == sha256(part1 + part2)


@pytest.mark.asyncio
async def test_copy_200_with_non_retryable_error_fails_typed(
    rig: Rig, bucket: BucketFactory
) -> None:
    name = bucket(rig.server)
    await rig.ops.put_object(name, "src", b"abc")
    rig.proxy.error_in_200(code="AccessDenied", method="PUT", path="/dst$")
    with pytest.raises(AccessDeniedError):
        await rig.ops.copy_object(name, "src", name, "dst")
    assert len(rig.proxy.requests_matching(method="PUT", path="/dst$")) == 1


@pytest.mark.asyncio
async def test_request_time_too_skewed_corrects_the_offset(rig: Rig, bucket: BucketFactory) -> None:
    name = bucket(rig.server)
    # The proxy's "server" is 10 minutes ahead (inside the real server's 15 min window).
    rig.proxy.clock_skew(offset_s=600.0, method="PUT")
    await rig.ops.put_object(name, "skew", b"data")
    first, second = rig.proxy.requests_matching(method="PUT")
    assert first.status == 403
    assert second.status == 200
    assert rig.notices[0].reason == "RequestTimeTooSkewed"
    assert rig.notices[0].delay_s == 0.0
    assert 590 <= rig.client.addressing.clock_offset_s <= 610
    t1 = datetime.strptime(first.amz_date or "", "%Y%m%dT%H%M%SZ")
    t2 = datetime.strptime(second.amz_date or "", "%Y%m%dT%H%M%SZ")
    assert 590 <= (t2 - t1).total_seconds() <= 610


@pytest.mark.asyncio
async def test_real_server_skew_answer_is_corrected(
    seaweed: S3Endpoint, make_ops: Any, bucket: BucketFactory
) -> None:
    """No proxy: our clock is an hour behind, SeaweedFS refuses, we adopt its Date."""
    name = bucket(seaweed)
    ops = make_ops(seaweed)
    ops.client.addressing.clock_offset_s = -3600.0
    notices: list[RetryNotice] = []
    ops.client.on_retry = notices.append
    await ops.put_object(name, "late", b"on time now")
    assert [n.reason for n in notices] == ["RequestTimeTooSkewed"]
    assert abs(ops.client.addressing.clock_offset_s) < 60
    assert _boto_sha(seaweed, name, "late") == sha256(b"on time now")


@pytest.mark.asyncio
async def test_rclone_skew_answer_is_a_plain_access_denied(
    rclone_s3: S3Endpoint, make_ops: Any, bucket: BucketFactory
) -> None:
    """rclone serve s3 answers a skewed clock with 400 AccessDenied, not
    RequestTimeTooSkewed: nothing typed says "clock", so it fails fast (and we never
    guess from message text)."""
    name = bucket(rclone_s3)
    ops = make_ops(rclone_s3)
    ops.client.addressing.clock_offset_s = -3600.0
    notices: list[RetryNotice] = []
    ops.client.on_retry = notices.append
    with pytest.raises(AccessDeniedError) as info:
        await ops.put_object(name, "late", b"x")
    assert info.value.code == "AccessDenied"
    assert notices == []


@pytest.mark.asyncio
async def test_every_request_with_a_body_has_content_length_and_is_never_chunked(
    rig: Rig, bucket: BucketFactory, tmp_path: Path
) -> None:
    name = bucket(rig.server)
    path = tmp_path / "p.bin"
    data = payload("cl", 5 * MiB + 1)
    path.write_bytes(data)
    await rig.ops.put_object(name, "bytes", data[:1000])
    await rig.ops.put_object(name, "empty", b"")
    await rig.ops.put_object(name, "file", FileRange(str(path), 7, 2 * MiB))
    upload_id = await rig.ops.create_multipart_upload(name, "mp")
    e1 = await rig.ops.upload_part(name, "mp", upload_id, 1, FileRange(str(path), 0, 5 * MiB))
    e2 = await rig.ops.upload_part(name, "mp", upload_id, 2, data[5 * MiB :])
    await rig.ops.complete_multipart_upload(name, "mp", upload_id, [(1, e1), (2, e2)])
    await rig.ops.copy_object(name, "bytes", name, "copy")
    await rig.ops.delete_objects(name, ["bytes", "copy"])
    with_body = [r for r in rig.proxy.requests if r.method in ("PUT", "POST")]
    assert len(with_body) == 9
    for r in with_body:
        assert r.content_length is not None, (r.method, r.path, r.query)
        assert r.content_length == r.body_bytes
        assert not r.chunked
        assert r.transfer_encoding is None
    assert _boto_sha(rig.server, name, "mp") == sha256(data)
    assert _boto_sha(rig.server, name, "file") == sha256(data[7 : 7 + 2 * MiB])
    # DeleteObjects carries the body digest S3 requires.
    delete = rig.proxy.requests_matching(method="POST", query="delete")
    assert len(delete) == 1
    assert delete[0].header("content-md5")


@pytest.fixture
def moto_proxy(moto_s3: S3Endpoint) -> Iterator[FaultProxy]:
    with FaultProxy(moto_s3.endpoint_url) as proxy:
        yield proxy


@pytest.mark.asyncio
async def test_session_token_is_signed_and_sent(
    moto_s3: S3Endpoint, moto_proxy: FaultProxy, make_ops: Any, bucket: BucketFactory
) -> None:
    name = bucket(moto_s3)
    token = "FwoGZXIvYXdzEXAMPLE/token+with=chars"
    ops = make_ops(
        moto_proxy.endpoint(moto_s3),
        credentials=Credentials(moto_s3.access_key, moto_s3.secret_key, token),
    )
    await ops.put_object(name, "t", b"x")
    assert await ops.get_object_bytes(name, "t") == b"x"
    for r in moto_proxy.requests:
        assert r.header("x-amz-security-token") == token
        assert "x-amz-security-token" in (r.header("authorization") or "").split("SignedHeaders=")[
            1
        ].split(",")[0].split(";")


@pytest.mark.asyncio
async def test_session_token_from_environment_reaches_the_wire(
    moto_s3: S3Endpoint, moto_proxy: FaultProxy, make_ops: Any, tmp_path: Path
) -> None:
    from s3z_core.credentials import resolve_settings

    settings = resolve_settings(
        env={
            "HOME": str(tmp_path),
            "AWS_ACCESS_KEY_ID": moto_s3.access_key,
            "AWS_SECRET_ACCESS_KEY": moto_s3.secret_key,
            "AWS_SESSION_TOKEN": "env-session-token",
        }
    )
    ops = make_ops(moto_proxy.endpoint(moto_s3), credentials=settings.credentials)
    await ops.list_buckets()
    (only,) = moto_proxy.requests
    assert only.header("x-amz-security-token") == "env-session-token"
    assert parsedate_to_datetime(only.header("date") or "Thu, 01 Jan 1970 00:00:00 GMT")


@pytest.mark.asyncio
async def test_head_on_a_skewed_clock_is_corrected(
    seaweed: S3Endpoint, make_ops: Any, bucket: BucketFactory
) -> None:
    name = bucket(seaweed)
    boto3_client(seaweed).put_object(Bucket=name, Key="h", Body=b"x")
    ops = make_ops(seaweed)
    ops.client.addressing.clock_offset_s = -3600.0
    head = await ops.head_object(name, "h")
    assert head.size == 1
    # The bodiless 403 was recognised as skew from the server's Date, and the offset fixed.
    assert abs(ops.client.addressing.clock_offset_s) < 60


@pytest.mark.asyncio
async def test_two_buckets_in_two_regions_from_one_client_without_flip_flopping(
    moto_s3: S3Endpoint, moto_proxy: FaultProxy, make_ops: Any, bucket: BucketFactory
) -> None:
    """One bucket "lives" in eu-west-3 (the proxy answers AWS's region error to anything
    signed otherwise); the client learns that per bucket, once, and keeps both right."""
    home, away = bucket(moto_s3), bucket(moto_s3)
    moto_proxy.wrong_region("eu-west-3", path=f"^/{away}(/|$)")
    ops = make_ops(moto_proxy.endpoint(moto_s3))
    for round_ in range(3):
        await ops.put_object(home, f"h{round_}", b"home")
        await ops.put_object(away, f"a{round_}", b"away")
    assert await ops.get_object_bytes(away, "a2") == b"away"
    home_requests = moto_proxy.requests_matching(path=f"^/{home}/")
    away_requests = moto_proxy.requests_matching(path=f"^/{away}/")
    assert {r.signed_region for r in home_requests} == {"us-east-1"}
    assert [r.status for r in away_requests][:2] == [400, 200]  # learned once
    assert {r.signed_region for r in away_requests[1:]} == {"eu-west-3"}
    assert all(r.status == 200 for r in away_requests[1:])
    assert ops.client.region_for(away) == "eu-west-3"
    assert ops.client.region_for(home) == "us-east-1"
