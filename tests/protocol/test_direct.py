"""Small requests without aiohttp (``transport/direct.py``): what comes back is what aiohttp
would have returned, on real servers and against a scripted server that misbehaves on cue.

The scripted server reads each request head and answers with the bytes a test gives it
(chunked bodies, closed keep-alives, cut bodies, garbage, silence), so every path of the
parser and the pool is driven by real sockets, not mocks.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import pytest_asyncio
from s3z_protocol_helpers import client_config
from servers import S3Endpoint, boto3_client
from test_transport import TlsFront, _self_signed

from s3z_core.config import ClientConfig, ProxySettings, RetryPolicy
from s3z_core.credentials import Credentials
from s3z_core.errors import ProtocolError, ReadTimeoutError, TLSVerificationError, TransportError
from s3z_core.operations import S3Operations
from s3z_core.transport import answers
from s3z_core.transport.client import S3Client
from s3z_core.transport.direct import DirectPool, Link, request_head

pytestmark = pytest.mark.asyncio
CREDS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
Answer = Callable[[int, bytes, asyncio.StreamWriter], Awaitable[bool]]


class Scripted:
    """A TCP server on 127.0.0.1: ``answer(n, head, writer)`` answers the n-th request (from 1)
    and returns whether to keep the connection for another."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.heads: list[bytes] = []
        self.connections = 0
        self.server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None] | None] = set()

    async def __aenter__(self) -> Scripted:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        for task in self._tasks:
            if task is not None:
                task.cancel()
        await self.server.wait_closed()
        await asyncio.sleep(0)  # the cancelled handlers end

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._tasks.add(asyncio.current_task())
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.heads.append(head)
                if not await self.answer(len(self.heads), head, writer):
                    break
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


def _creds(server: S3Endpoint) -> Credentials:
    return Credentials(server.access_key, server.secret_key)


def ok(body: bytes, *extra: str) -> bytes:
    headers = "".join(f"{h}\r\n" for h in extra)
    return f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{headers}\r\n".encode() + body


def scripted_client(url: str, **overrides: object) -> S3Client:
    settings: dict[str, object] = {
        "endpoint_url": url,
        "addressing_style": "path",
        "retry": RetryPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.02),
    }
    settings.update(overrides)
    return S3Client(ClientConfig(**settings), CREDS)  # type: ignore[arg-type]


async def fetch(client: S3Client, key: str = "k", size: int | None = None) -> bytes:
    chunks = [c async for c in client.stream("bkt", key, end=size)]
    return b"".join(chunks)


async def fetch_all(answer: Answer, *sizes: int) -> tuple[list[bytes], Scripted]:
    """GET ``k`` once per size from a scripted server, on one client (kept-alive links)."""
    async with Scripted(answer) as server:
        client = scripted_client(server.url)
        try:
            return [await fetch(client, size=n) for n in sizes], server
        finally:
            await client.close()


async def test_small_gets_and_pages_match_aiohttp_on_the_real_servers(
    any_server: S3Endpoint, bucket: Callable[[S3Endpoint], str]
) -> None:
    bucket_name = bucket(any_server)
    bodies = {"empty": b"", "one": b"x", "big": hashlib.sha256(b"s").digest() * 9000}
    s3 = boto3_client(any_server)
    for key, body in bodies.items():
        s3.put_object(Bucket=bucket_name, Key=key, Body=body)
    got: dict[bool, dict[str, bytes]] = {}
    for direct in (True, False):
        config = client_config(any_server, direct_requests=direct)
        client = S3Client(config, _creds(any_server))
        try:
            got[direct] = {}
            for key, body in bodies.items():
                chunks = [c async for c in client.stream(bucket_name, key, end=len(body))]
                got[direct][key] = b"".join(chunks)
            page = await S3Operations(client).list_objects_v2(bucket_name)
            assert sorted(o.key for o in page.objects) == sorted(bodies)
            head = await S3Operations(client).head_object(bucket_name, "big")
            assert head.size == len(bodies["big"])
            assert (client.routes.pool is not None) == direct
            if direct:
                assert client.routes.pool is not None
                assert client.routes.pool.sent == len(bodies) + 2  # GETs, the page, the HEAD
        finally:
            await client.close()
    expected = {k: hashlib.sha256(v).hexdigest() for k, v in bodies.items()}
    for direct in (True, False):
        assert {k: hashlib.sha256(v).hexdigest() for k, v in got[direct].items()} == expected


async def test_a_head_answer_has_no_body_and_its_connection_serves_the_next() -> None:
    async def answer(n: int, head: bytes, w: asyncio.StreamWriter) -> bool:
        if head.startswith(b"HEAD "):
            w.write(b'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nETag: "e"\r\n\r\n')
        else:
            w.write(ok(b"hello"))
        return True

    async with Scripted(answer) as server:
        client = scripted_client(server.url)
        try:
            head = await S3Operations(client).head_object("bkt", "k")
            assert head.size == 5
            assert await fetch(client, size=5) == b"hello"
            assert (await S3Operations(client).head_object("bkt", "k")).etag == "e"
        finally:
            await client.close()
    assert server.connections == 1
    assert [h.split(b" ")[0] for h in server.heads] == [b"HEAD", b"GET", b"HEAD"]


async def test_a_chunked_answer_is_joined() -> None:
    async def answer(n: int, head: bytes, w: asyncio.StreamWriter) -> bool:
        w.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        w.write(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        return True

    bodies, server = await fetch_all(answer, 11, 11)
    assert bodies == [b"hello world"] * 2
    assert server.connections == 1  # the chunked answer ended cleanly: kept alive


async def test_a_body_in_pieces_bypasses_the_parser_and_the_link_serves_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After the head, a Content-Length body is fed as the socket reads it, past the parser;
    the link still ends the answer at its length, and a fresh parser reads the next one on
    the same kept-alive connection."""
    body = bytes(range(256)) * 64  # 16 KiB in 7 pieces, the first with the head

    async def answer(n: int, head: bytes, w: asyncio.StreamWriter) -> bool:
        whole = ok(body, f"X-N: {n}")
        cut = len(whole) - len(body) + 100
        w.write(whole[:cut])
        for at in range(cut, len(whole), 3000):
            await w.drain()
            await asyncio.sleep(0.01)
            w.write(whole[at : at + 3000])
        return True

    parsed: list[int] = []
    real_on_body = Link.on_body

    def on_body(self: Link, piece: bytes) -> None:
        parsed.append(len(piece))
        real_on_body(self, piece)

    monkeypatch.setattr(Link, "on_body", on_body)
    bodies, server = await fetch_all(answer, len(body), len(body), len(body))
    assert bodies == [body] * 3
    assert server.connections == 1
    assert sum(parsed) < 3 * 1000  # only what came with each head went through the parser


async def test_bytes_past_the_content_length_are_dropped_with_the_connection() -> None:
    async def answer(n: int, head: bytes, w: asyncio.StreamWriter) -> bool:
        w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"a" * 100)
        await w.drain()
        await asyncio.sleep(0.01)
        w.write(b"a" * 4900 + b"HTTP/1.1 200 OK\r\nX-Smuggled: 1\r\n\r\n")
        return True

    bodies, server = await fetch_all(answer, 5000, 5000)
    assert bodies == [b"a" * 5000] * 2
    assert server.connections == 2  # the first link, which got more than asked, was closed


async def test_a_kept_alive_connection_the_server_dropped_is_replaced_without_a_retry() -> None:
    """The server keeps the first connection, then drops it on the second request without a
    byte of answer (an idle timeout racing our write): sent again at once, on a new one."""

    async def answer(n: int, head: bytes, w: asyncio.StreamWriter) -> bool:
        if n == 2:
            return False  # read the request, answer nothing, close
        w.write(ok(b"abc"))
        return True

    retries: list[object] = []
    async with Scripted(answer) as server:
        client = scripted_client(server.url)
        client.on_retry = retries.append
        try:
            assert await fetch(client, size=3) == b"abc"
            assert await fetch(client, size=3) == b"abc"
        finally:
            await client.close()
    assert len(server.heads) == 3
    assert server.connections == 2
    assert retries == []  # not one of the retry budget's attempts, no backoff


async def test_a_body_cut_short_resumes_from_the_next_byte() -> None:
    body = bytes(range(256)) * 4

    async def answer(n: int, head: bytes, w: asyncio.StreamWriter) -> bool:
        if n == 1:
            w.write(f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode())
            w.write(body[:300])
            return False
        assert b"Range: bytes=300-1023" in head
        rest = body[300:]
        w.write(
            f"HTTP/1.1 206 Partial Content\r\nContent-Length: {len(rest)}\r\n"
            f"Content-Range: bytes 300-1023/1024\r\n\r\n".encode()
            + rest
        )
        return True

    async with Scripted(answer) as server:
        client = scripted_client(server.url)
        try:
            assert await fetch(client, size=len(body)) == body
        finally:
            await client.close()
    assert len(server.heads) == 2


@pytest.mark.parametrize(
    ("reply", "says"),
    [
        (b"HTTX/9 what\r\n\r\n", "malformed response"),
        (b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"p" * 70_000 + b"\r\n\r\n", "head is over"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "cut short"),
        (b"HTTP/1.1 101 Switching\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n", "upgrade"),
    ],
    ids=["garbage", "huge-head", "cut", "upgrade"],
)
async def test_a_broken_answer_is_a_typed_transport_error_after_the_retries(
    reply: bytes, says: str
) -> None:
    async def answer(n: int, head: bytes, w: asyncio.StreamWriter) -> bool:
        w.write(reply)
        return False

    async with Scripted(answer) as server:
        client = scripted_client(server.url)
        try:
            with pytest.raises(TransportError, match=says):
                await S3Operations(client).list_objects_v2("bkt")
        finally:
            await client.close()
    assert len(server.heads) == 3  # max_attempts, each a fresh connection


async def test_silence_is_a_read_timeout() -> None:
    async def answer(n: int, head: bytes, w: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(30)
        return False

    async with Scripted(answer) as server:
        client = scripted_client(server.url, read_timeout_s=0.2, retry=RetryPolicy(max_attempts=1))
        try:
            with pytest.raises(ReadTimeoutError):
                await fetch(client, size=3)
            assert client.routes.pool is not None
            assert client.routes.pool.slots._value == 64
        finally:
            await client.close()


async def test_connection_close_and_a_body_read_to_the_close_are_honoured() -> None:
    async def answer(n: int, head: bytes, w: asyncio.StreamWriter) -> bool:
        if n == 1:
            w.write(ok(b"first", "Connection: close"))
        else:
            w.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end")
        return False

    bodies, server = await fetch_all(answer, 5, 13)
    assert bodies == [b"first", b"until the end"]
    assert server.connections == 2


async def test_cancelled_requests_give_their_slots_and_connections_back() -> None:
    stall = asyncio.Event()

    async def answer(n: int, head: bytes, w: asyncio.StreamWriter) -> bool:
        if b"/bkt/stall" in head:
            w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart")
            await w.drain()
            await stall.wait()
            return False
        w.write(ok(b"fine"))
        return True

    async with Scripted(answer) as server:
        client = scripted_client(server.url, max_connections=4)
        try:
            tasks = [asyncio.create_task(fetch(client, "stall", 100)) for _ in range(10)]
            await asyncio.sleep(0.2)  # four are mid-body, six wait for a slot
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            pool = client.routes.pool
            assert pool is not None
            assert pool.slots._value == 4
            assert not pool.links  # a half-read answer never goes back to the pool
            assert await fetch(client, "ok", 4) == b"fine"
        finally:
            stall.set()
            await client.close()


async def test_a_header_with_a_line_break_is_refused_before_sending() -> None:
    with pytest.raises(ProtocolError, match="line break"):
        request_head("GET", "/b/k", {"Host": "h", "X-Amz-Meta-A": "v\r\nX-Evil: 1"})
    with pytest.raises(ProtocolError, match="line break"):
        request_head("GET", "/b/k", {"Host": "h\n"})
    assert request_head("GET", "/b/k", {"Host": "h"}).endswith("\r\n\r\n")


async def test_a_large_answer_pauses_the_socket_until_it_is_read() -> None:
    body = hashlib.sha256(b"big").digest() * (4 * 1024 * 1024 // 32)

    async def answer(n: int, head: bytes, w: asyncio.StreamWriter) -> bool:
        w.write(ok(body))
        return True

    async with Scripted(answer) as server:
        pool = DirectPool(4, None, 5.0, lambda origin: True)
        route = pool.origin(server.url + "/bkt/k")
        assert route is not None
        response = await pool.request(route[0], "GET", "/bkt/k", {"Host": "x"}, 5.0)
        await asyncio.sleep(0.3)  # the server has sent it all; we read nothing yet
        link = next(iter(pool.links))
        assert link._paused
        assert response.buffered <= 2 * 1024 * 1024
        got = await response.read()
        response.release()
        assert hashlib.sha256(got).digest() == hashlib.sha256(body).digest()
        assert pool.links  # read to its end: kept for the next request
        await pool.close()


async def test_proxies_and_unverified_tls_stay_on_aiohttp() -> None:
    proxied = scripted_client(
        "http://127.0.0.1:9", proxies=ProxySettings(http="http://127.0.0.1:8")
    )
    lax = scripted_client("https://127.0.0.1:9", verify_ssl=False)
    plain = scripted_client("http://127.0.0.1:9")
    try:
        assert proxied.routes.direct("http://127.0.0.1:9/b/k") is None
        assert lax.routes.direct("https://127.0.0.1:9/b/k") is None
        assert plain.routes.direct("http://127.0.0.1:9/b/k?x=1") is not None
    finally:
        for client in (proxied, lax, plain):
            await client.close()


@pytest_asyncio.fixture
async def tls_front(seaweed: S3Endpoint, tmp_path: Path) -> AsyncIterator[tuple[str, Path]]:
    cert, key = _self_signed(tmp_path)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    front = TlsFront(seaweed, ctx)
    port = await front.start()
    try:
        yield f"https://127.0.0.1:{port}", cert
    finally:
        await front.stop()


async def test_tls_is_verified_on_the_direct_path(
    seaweed: S3Endpoint, tls_front: tuple[str, Path]
) -> None:
    url, cert = tls_front
    once = RetryPolicy(max_attempts=1)
    strict = S3Client(client_config(seaweed, endpoint_url=url, retry=once), _creds(seaweed))
    trusting = S3Client(
        client_config(seaweed, endpoint_url=url, ca_bundle=str(cert)), _creds(seaweed)
    )
    try:
        with pytest.raises(TLSVerificationError):
            await S3Operations(strict).list_buckets()
        assert isinstance(await S3Operations(trusting).list_buckets(), list)
        assert trusting.routes.pool is not None
        assert trusting.routes.pool.links  # over TLS, direct and kept alive
    finally:
        await strict.close()
        await trusting.close()


async def test_an_endless_answer_to_a_buffered_request_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A listing page is read whole: a server streaming a body without end (chunked, so no
    length gives it away) fails at the answer limit instead of filling memory."""
    monkeypatch.setattr(answers, "ANSWER_LIMIT_BYTES", 1024 * 1024)
    chunk = b"%x\r\n%s\r\n" % (65536, b"<" * 65536)

    async def answer(n: int, head: bytes, w: asyncio.StreamWriter) -> bool:
        w.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(64):  # 4 MiB, four times the limit
            w.write(chunk)
            await w.drain()
        return False

    async with Scripted(answer) as server:
        client = scripted_client(server.url, retry=RetryPolicy(max_attempts=1))
        try:
            with pytest.raises(TransportError, match="body is over"):
                await S3Operations(client).list_objects_v2("bkt")
        finally:
            await client.close()


async def test_closing_the_client_closes_its_sockets_before_it_returns() -> None:
    """An app that quits stops its loop right after closing: a socket left for a later loop
    step would stay open (and warn as unclosed when collected)."""

    async def answer(n: int, head: bytes, w: asyncio.StreamWriter) -> bool:
        w.write(ok(b"kept"))
        return True

    async with Scripted(answer) as server:
        client = scripted_client(server.url)
        assert await fetch(client, size=4) == b"kept"
        assert client.routes.pool is not None
        (link,) = client.routes.pool.links  # kept alive after the answer
        assert link.transport is not None
        sock = link.transport.get_extra_info("socket")
        assert sock.fileno() >= 0
        await client.close()
        assert sock.fileno() == -1


async def test_requests_that_first_need_aiohttp_together_share_one_session(
    seaweed: S3Endpoint, tls_front: tuple[str, Path]
) -> None:
    """Over https the session's TLS context is built off the loop first: requests arriving
    during that wait must not each make a session (all but one would never be closed)."""
    url, cert = tls_front
    client = S3Client(
        client_config(seaweed, endpoint_url=url, ca_bundle=str(cert)), _creds(seaweed)
    )
    try:
        sessions = await asyncio.gather(*(client.routes.aiohttp() for _ in range(4)))
        assert len({id(session) for _, session in sessions}) == 1
    finally:
        await client.close()
