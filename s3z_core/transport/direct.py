"""Requests without aiohttp: one asyncio Protocol per kept-alive connection.

Why: a thousand small GETs are bound by the loop thread, and aiohttp's request machinery
(request and response objects, URL, timers, tracing hooks, its stream reader) cost ~500 µs
of it per 64 KiB GET here, against ~230 µs for the same signed GET written and parsed by a
bare Protocol (``bench/`` and the closing notes of issue 12). So requests whose whole body
is already in memory go here — GETs of any size (their answer is read as it arrives, the
socket paused while ``PAUSE_BYTES`` wait unread), listing pages, HEAD, small PUTs and
POSTs with a bytes body. Streamed uploads, proxies and switched-off TLS verification stay
on aiohttp.

What a request keeps from aiohttp: the same TLS context (``connection.tls_setting``), the
same connect and read timeouts, Content-Length framing, and failures the error mapping turns
into the same typed errors (a ``ConnectionError`` subclass, or ``TimeoutError``). The
response is parsed by httptools (llhttp, Node's parser): chunked bodies, keep-alive and
malformed answers are handled by it, not by string splitting here. A pooled connection the
server closed while idle is replaced once, at once: no byte of the answer had come.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httptools
from multidict import CIMultiDict

from s3z_core.errors import ProtocolError
from s3z_core.transport.answers import (
    PAUSE_BYTES,
    BrokenResponseError,
    CannotConnectError,
    CertificateRejectedError,
    ClosedError,
    DirectResponse,
)
from s3z_core.transport.connection import USER_AGENT

HEAD_LIMIT_BYTES = 64 * 1024  # a response head larger than this is not S3's
KEEPALIVE_S = 30.0  # an idle connection older than this may be gone at the server
Origin = tuple[str, int, bool]  # host, port, TLS
_VIA_AIOHTTP: Origin = ("", 0, False)  # an origin reached through a proxy, or TLS not ours


class Link(asyncio.Protocol):
    """One connection and the one answer it is waiting for (HTTP/1.1, no pipelining)."""

    def __init__(self, pool: DirectPool, origin: Origin) -> None:
        self._pool = pool
        self.origin = origin
        self.transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._head: asyncio.Future[DirectResponse] | None = None
        self._response: DirectResponse | None = None
        self._names: list[str] = []
        self._values: list[str] = []
        self._head_bytes = 0
        self._paused = False
        self._keep = False
        self._head_only = False  # a HEAD's answer: no body, whatever Content-Length says
        self._renew = False
        self._body_seen = 0  # body bytes the parser handed over (on_body)
        self._raw_left = 0  # body bytes still due once the parser is bypassed
        self._keep_at_end = False  # the head's keep-alive verdict, for a bypassed body
        self.reused = False
        self.idle_since = 0.0
        self.last_data = 0.0
        self._watchdog: asyncio.TimerHandle | None = None

    # -- asyncio.Protocol ------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._pool.links.add(self)

    def data_received(self, data: bytes) -> None:
        self.last_data = self._pool.loop.time()
        if self._raw_left:
            self._body_received(data)
            return
        if self._head is None and self._response is None:  # idle: nothing was asked
            self.close()
            return
        try:
            self._parser.feed_data(data)
            if self._renew:  # after a HEAD's answer: the parser waits for a body that is not
                self._parser = httptools.HttpResponseParser(self)
                self._renew = False
        except httptools.HttpParserUpgrade:
            self._fail(BrokenResponseError("malformed response: an upgrade S3 never asks for"))
            return
        except httptools.HttpParserError as exc:
            self._fail(BrokenResponseError(f"malformed response ({exc})"))
            return
        response = self._response
        if response is None:  # still in the head (or its headers were too many)
            self._head_bytes += len(data)
            if self._head_bytes > HEAD_LIMIT_BYTES:
                self._fail(BrokenResponseError("malformed response: its head is over 64 KiB"))
        elif (
            not response.done
            and response.content_length is not None
            and "Transfer-Encoding" not in response.headers
        ):
            # A Content-Length body whose head is parsed: the rest bypasses the parser.
            # Each piece then reaches the reader as the very bytes object the socket read
            # gave, not parsed again and copied by on_body (a 1 GiB download's main thread
            # spent ~0.5 s of its profile in them).
            self._raw_left = response.content_length - self._body_seen

    def _body_received(self, data: bytes) -> None:
        """A piece of a bypassed body: fed as it is; the answer ends at its length."""
        response = self._response
        if response is None:  # failed meanwhile: the link is closed
            return
        if len(data) > self._raw_left:  # more than the body: no pipelining, so garbage
            data = data[: self._raw_left]
            self._keep_at_end = False
        self._raw_left -= len(data)
        self._fed(response, data)
        if not self._raw_left:
            self._keep = self._keep_at_end
            self._parser = httptools.HttpResponseParser(self)  # the old one is mid-body
            response.ended()

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._pool.links.discard(self)
        response = self._response
        if response is not None and not response.done:
            framed = "Content-Length" in response.headers or "Transfer-Encoding" in response.headers
            if framed or exc is not None:
                response.ended(BrokenResponseError("response body cut short"))
            else:
                response.ended()  # read until close: its end is the body's end
        head = self._head
        if head is not None and not head.done():
            head.set_exception(ClosedError("server closed the connection"))

    # -- httptools callbacks -----------------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_bytes += len(name) + len(value)  # a head that came in one piece, too
        self._names.append(name.decode("latin-1"))
        self._values.append(value.decode("latin-1"))

    def on_headers_complete(self) -> None:
        if self._head_bytes > HEAD_LIMIT_BYTES:  # no response: data_received fails the link
            return
        if self._parser.get_status_code() < 200:  # an interim answer (100 Continue): skip
            self._names, self._values = [], []
            return
        headers: CIMultiDict[str] = CIMultiDict(zip(self._names, self._values, strict=True))
        self._names, self._values = [], []
        response = DirectResponse(self, self._parser.get_status_code(), headers)
        self._response = response
        self._keep_at_end = self._parser.should_keep_alive()
        if self._head_only:
            self._keep, self._renew = self._keep_at_end, True
            response.ended()
        if self._head is not None and not self._head.done():
            self._head.set_result(response)

    def on_body(self, body: bytes) -> None:
        response = self._response
        if response is not None:
            self._body_seen += len(body)
            self._fed(response, body)

    def _fed(self, response: DirectResponse, body: bytes) -> None:
        response.fed(body)
        if response.buffered >= PAUSE_BYTES and not self._paused and self.transport:
            self._paused = True
            self.transport.pause_reading()

    def on_message_complete(self) -> None:
        if self._response is not None:
            self._keep = self._parser.should_keep_alive()
            self._response.ended()

    # -- our side ------------------------------------------------------------------------------
    def resume(self) -> None:
        if self._paused and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()

    def _fail(self, error: BaseException) -> None:
        if self._head is not None and not self._head.done():
            self._head.set_exception(error)
        if self._response is not None:
            self._response.ended(error)
        self.close()

    def close(self) -> None:
        self._pool.links.discard(self)
        if self.transport is not None:
            self.transport.abort()
            self.transport = None

    async def send(self, data: bytes, read_timeout_s: float, head_only: bool) -> DirectResponse:
        """Write one request and wait for its answer's head (the body follows on its own)."""
        transport = self.transport
        if transport is None:
            raise ClosedError("server closed the connection")
        self._head_only = head_only
        loop = self._pool.loop
        self._head = loop.create_future()
        self._response = None
        self._head_bytes = 0
        self._body_seen = 0
        self._raw_left = 0
        self._keep = False
        self.last_data = loop.time()
        transport.write(data)
        self._watchdog = loop.call_at(self.last_data + read_timeout_s, self._watch, read_timeout_s)
        try:
            return await self._head
        except BaseException:
            self._stop_watching()
            raise
        finally:
            self._head = None

    def _stop_watching(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None

    def _watch(self, read_timeout_s: float) -> None:
        """No byte for ``read_timeout_s``: the request times out (the answer is abandoned)."""
        self._watchdog = None
        if self._head is None and (self._response is None or self._response.done):
            return  # answered (or idle): nothing to time out
        if self._paused:  # the reader is behind, not the server
            self.last_data = self._pool.loop.time()
        due = self.last_data + read_timeout_s
        if self._pool.loop.time() < due:
            self._watchdog = self._pool.loop.call_at(due, self._watch, read_timeout_s)
            return
        self._fail(TimeoutError("no answer within the read timeout"))

    def finished(self, complete: bool) -> None:
        """The caller is done with the answer: keep the connection if it can serve another."""
        self._stop_watching()
        self._response = None
        if complete and self._keep and self.transport is not None and not self._paused:
            self._pool.give_back(self)
        else:
            self.close()
        self._pool.slots.release()


class DirectPool:
    """Kept-alive connections per origin, at most ``limit`` in use at once (as aiohttp's)."""

    def __init__(
        self,
        limit: int,
        tls: ssl.SSLContext | None,
        connect_timeout_s: float,
        direct: Callable[[str], bool],
    ) -> None:
        """``tls``: the verifying context (None: https goes through aiohttp); ``direct``:
        whether an origin (``scheme://host:port``) is reached without a proxy."""
        self.loop = asyncio.get_running_loop()
        self.slots = asyncio.Semaphore(limit)
        self._tls = tls
        self._connect_timeout_s = connect_timeout_s
        self._direct = direct
        self._idle: dict[Origin, list[Link]] = {}
        self._origins: dict[str, Origin] = {}
        self.links: set[Link] = set()  # every open connection, closed with the pool
        self.sent = 0  # requests written (what a test or a profile counts)

    def origin(self, url: str) -> tuple[Origin, str] | None:
        """(origin, request target) of a URL we built; None when it goes through aiohttp."""
        scheme, _, rest = url.partition("://")
        netloc, slash, tail = rest.partition("/")
        origin = self._origins.get(url[: len(scheme) + 3 + len(netloc)])
        if origin is None:
            https = scheme == "https"
            where = f"{scheme}://{netloc}"
            parts = urlsplit(where)
            origin = (parts.hostname or "", parts.port or (443 if https else 80), https)
            if (https and self._tls is None) or not self._direct(where):
                origin = _VIA_AIOHTTP
            self._origins[where] = origin
        if origin is _VIA_AIOHTTP:
            return None
        return origin, (slash + tail) or "/"

    async def exchange(
        self,
        origin: Origin,
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes | bytearray | memoryview | None,
        read_timeout_s: float,
    ) -> tuple[int, Mapping[str, str], bytes]:
        """One request and its whole answer: (status, headers, body)."""
        answer = await self.request(origin, method, target, headers, read_timeout_s, body)
        try:
            payload = await answer.read()
        finally:
            answer.release()
        return answer.status, answer.headers, payload

    async def request(
        self,
        origin: Origin,
        method: str,
        target: str,
        headers: Mapping[str, str],
        read_timeout_s: float,
        body: bytes | bytearray | memoryview | None = None,
    ) -> DirectResponse:
        """Send one request; the caller reads and releases the answer. A reused connection
        found closed before any byte of the answer is replaced once, at once."""
        head = request_head(method, target, headers).encode()  # UTF-8, as aiohttp sends them
        data = b"".join((head, body)) if body else head
        await self.slots.acquire()  # cancelled here: nothing taken, nothing to give back
        try:
            for fresh in (False, True):
                link = None if fresh else self._take(origin)
                if link is None:
                    link = await self._connect(origin)
                try:
                    self.sent += 1
                    return await link.send(data, read_timeout_s, method == "HEAD")
                except ClosedError:
                    link.close()
                    if fresh or not link.reused:
                        raise
                except BaseException:
                    link.close()
                    raise
            raise ClosedError("server closed the connection")
        except BaseException:
            self.slots.release()
            raise

    def _take(self, origin: Origin) -> Link | None:
        idle = self._idle.get(origin)
        now = self.loop.time()
        while idle:
            link = idle.pop()
            transport = link.transport
            if transport and not transport.is_closing() and now - link.idle_since < KEEPALIVE_S:
                link.reused = True
                return link
            link.close()
        return None

    async def _connect(self, origin: Origin) -> Link:
        host, port, https = origin
        tls: Any = self._tls if https else None
        link = Link(self, origin)
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                await self.loop.create_connection(
                    lambda: link, host, port, ssl=tls, server_hostname=host if https else None
                )
        except ssl.SSLCertVerificationError as exc:
            raise CertificateRejectedError(exc.verify_message or str(exc)) from None
        except TimeoutError:
            raise
        except OSError as exc:
            raise CannotConnectError(exc.strerror or str(exc)) from None
        return link

    def give_back(self, link: Link) -> None:
        link.idle_since = self.loop.time()
        self._idle.setdefault(link.origin, []).append(link)

    async def close(self) -> None:
        """Close every connection, idle or in use (an answer still read fails as cut short).

        An aborted transport closes its socket in a callback of the next loop step: that step
        is awaited here, or a loop stopped right after (an app quitting) left sockets open."""
        for link in list(self.links):
            link.close()
        self.links.clear()
        self._idle.clear()
        await asyncio.sleep(0)


def request_head(method: str, target: str, headers: Mapping[str, str]) -> str:
    """The request line and headers as sent; a value with a line break is refused, as aiohttp
    refuses it (it would end the header early and smuggle whatever follows)."""
    lines = [f"{method} {target} HTTP/1.1\r\n"]
    lines.extend(f"{name}: {value}\r\n" for name, value in headers.items())
    lines.append(f"User-Agent: {USER_AGENT}\r\n\r\n")
    head = "".join(lines)
    if head.count("\n") != len(lines) + 1 or head.count("\r") != len(lines) + 1:
        raise ProtocolError(f"{method} {target}: a request header holds a line break")
    return head
