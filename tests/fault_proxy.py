"""A recording, fault-injecting reverse proxy on 127.0.0.1 in front of a real S3 server.

Tests point the client at ``proxy.url`` and program faults by (method, path regex, query
parameter, n-th matching request)::

    async with FaultProxy(seaweed.endpoint_url) as proxy:
        proxy.slow_down(method="PUT", query="partNumber=3")          # first PUT of part 3 -> 503
        proxy.reset_response(method="GET", after_bytes=1 << 20)      # cut the first GET at 1 MiB
        ... run the client against proxy.endpoint(seaweed) ...
        attempts = proxy.requests_matching(method="PUT", query="partNumber=3")
        assert len(attempts) == 2 and attempts[0].amz_date != attempts[1].amz_date

For subprocess (CLI) tests use it as a plain context manager: ``with FaultProxy(url) as proxy:``
runs it on a background thread with its own event loop.

SigV4 signs the Host header, so the proxy forwards Host (and every other signed header) as the
client sent it and rewrites nothing signed; SeaweedFS, rclone and moto verify against the Host
they receive. Only hop-by-hop headers are dropped (the proxy answers ``Expect: 100-continue``
itself). Bodies stream in both directions without decompression, so sizes and encodings match.
"""

from __future__ import annotations

import asyncio
import re
import socket
import struct
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from types import SimpleNamespace, TracebackType
from typing import Any
from xml.sax.saxutils import escape

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "expect",
    }
)
_CHUNK = 64 * 1024


@dataclass
class RecordedRequest:
    """One request as the proxy received it, and what it did with it."""

    method: str
    path: str  # raw, as sent (percent-encoded)
    query: str  # raw query string
    headers: tuple[tuple[str, str], ...]
    received_at: float
    body_bytes: int = 0
    fault: str | None = None  # None: forwarded untouched
    status: int | None = None  # None: the connection was reset before a status line

    def header(self, name: str) -> str | None:
        lname = name.lower()
        return next((v for k, v in self.headers if k.lower() == lname), None)

    @property
    def signed_region(self) -> str:
        """The region in the Authorization header's credential scope ("" if unsigned)."""
        auth = self.header("authorization") or ""
        scope = auth.partition("Credential=")[2].partition(",")[0]
        parts = scope.split("/")
        return parts[2] if len(parts) >= 4 else ""

    @property
    def amz_date(self) -> str | None:
        return self.header("x-amz-date")

    @property
    def content_length(self) -> int | None:
        value = self.header("content-length")
        return None if value is None else int(value)

    @property
    def transfer_encoding(self) -> str | None:
        return self.header("transfer-encoding")

    @property
    def chunked(self) -> bool:
        return "chunked" in (self.transfer_encoding or "").lower()

    @property
    def params(self) -> dict[str, str]:
        return dict(_query_params(self.query))


def _query_params(query: str) -> list[tuple[str, str]]:
    pairs = []
    for part in query.split("&"):
        if part:
            key, _, value = part.partition("=")
            pairs.append((key, value))
    return pairs


@dataclass
class FaultRule:
    """A fault for the ``nth`` .. ``nth + times - 1``-th requests that match (all if None)."""

    action: str
    method: str | None = None
    path: str | None = None  # regex, searched in the raw path
    query: str | None = None  # "partNumber=3" (exact parameter) or "uploads" (key present)
    nth: int = 1
    times: int | None = 1
    status: int = 500
    code: str = "InternalError"
    message: str = "injected by FaultProxy"
    headers: dict[str, str] = field(default_factory=dict)
    after_bytes: int = 0
    delay_s: float = 0.0
    date_offset_s: float = 0.0
    region: str = ""  # wrong_region: the region requests must be signed for
    seen: int = 0  # matching requests so far
    fired: int = 0  # times the fault was applied

    def matches(self, method: str, path: str, query: str) -> bool:
        if self.method is not None and method.upper() != self.method.upper():
            return False
        if self.path is not None and re.search(self.path, path) is None:
            return False
        if self.query is not None:
            key, eq, value = self.query.partition("=")
            params = _query_params(query)
            if eq and (key, value) not in params:
                return False
            if not eq and key not in {k for k, _ in params}:
                return False
        return True

    def take(self) -> bool:
        """Count one matching request; True if this one gets the fault."""
        self.seen += 1
        last = None if self.times is None else self.nth + self.times - 1
        if self.seen >= self.nth and (last is None or self.seen <= last):
            self.fired += 1
            return True
        return False


def error_xml(
    code: str, message: str, request_id: str, extra: dict[str, str] | None = None
) -> bytes:
    fields = {"Code": code, "Message": message, **(extra or {}), "RequestId": request_id}
    inner = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in fields.items())
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<Error>{inner}</Error>'.encode()


class _ConnectionResetError(Exception):
    """Raised inside a handler after the socket was reset, so aiohttp writes nothing more."""


class FaultProxy:
    """Reverse proxy with programmable faults; see the module docstring."""

    def __init__(self, upstream_url: str) -> None:
        self.upstream_url = upstream_url.rstrip("/")
        self._rules: list[FaultRule] = []
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._port: int | None = None
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None
        # Totals over every request: bodies received from clients, bodies sent back.
        self.bytes_in = 0
        self.bytes_out = 0
        # ``watch(event, record)`` on the proxy's thread at "request" (arrived), "response"
        # (the server answered, before the client hears it) and "bytes" (a body chunk went
        # through): a test kills its client process at a precise moment from here.
        self.watch: Callable[[str, RecordedRequest], None] | None = None
        # ``rewrite(record, body) -> body`` for ListMultipartUploads answers (buffered): to
        # show a client what a server cannot be made to produce, an upload started hours ago.
        self.rewrite: Callable[[RecordedRequest, bytes], bytes] | None = None
        # SO_SNDBUF of the sockets to clients: small, the count of bytes sent back is
        # close to what the client has read (not megabytes parked in kernel buffers).
        self.send_buffer: int | None = None

    # -- addresses --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._port is None:
            raise RuntimeError("FaultProxy is not running")
        return f"http://127.0.0.1:{self._port}"

    endpoint_url = url

    def endpoint(self, server: Any) -> SimpleNamespace:
        """``server``'s credentials with the proxy's URL: pass it wherever a server goes."""
        return SimpleNamespace(
            endpoint_url=self.url,
            access_key=server.access_key,
            secret_key=server.secret_key,
            region=server.region,
        )

    # -- programming faults -----------------------------------------------------------------

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self._rules.append(rule)
        return rule

    def fail(self, status: int, code: str, **match: Any) -> FaultRule:
        """Answer with ``status`` and an S3 ``<Error>`` document (after reading the body)."""
        return self.add(FaultRule("error", status=status, code=code, **match))

    def slow_down(self, **match: Any) -> FaultRule:
        return self.fail(503, "SlowDown", message="Please reduce your request rate.", **match)

    def internal_error(self, **match: Any) -> FaultRule:
        return self.fail(500, "InternalError", **match)

    def access_denied(self, **match: Any) -> FaultRule:
        return self.fail(403, "AccessDenied", message="Access Denied", **match)

    def clock_skew(self, offset_s: float = 3600.0, **match: Any) -> FaultRule:
        """403 RequestTimeTooSkewed with a ``Date`` header ``offset_s`` ahead of our clock."""
        return self.add(
            FaultRule(
                "error",
                status=403,
                code="RequestTimeTooSkewed",
                message="The difference between the request time and the current time is too large",
                date_offset_s=offset_s,
                **match,
            )
        )

    def error_in_200(self, code: str = "InternalError", **match: Any) -> FaultRule:
        """200 OK with an ``<Error>`` body (how CompleteMultipartUpload fails); not forwarded."""
        return self.add(FaultRule("error_200", status=200, code=code, **match))

    def wrong_region(self, region: str, **match: Any) -> FaultRule:
        """Every matching request *not* signed for ``region`` gets AWS's answer to a wrong
        signing region (400 AuthorizationHeaderMalformed naming ``region``); others pass."""
        rule = FaultRule(
            "wrong_region",
            status=400,
            code="AuthorizationHeaderMalformed",
            message="the region is wrong",
            region=region,
            times=None,
            **match,
        )
        return self.add(rule)

    def reset_response(self, after_bytes: int = 0, **match: Any) -> FaultRule:
        """Forward, then reset the connection after ``after_bytes`` of the response body
        (0: before the status line; a shorter body passes whole, then the reset)."""
        return self.add(FaultRule("reset_response", after_bytes=after_bytes, **match))

    def reset_request(self, after_bytes: int = 0, **match: Any) -> FaultRule:
        """Read ``after_bytes`` of the request body, then reset; nothing reaches the server."""
        return self.add(FaultRule("reset_request", after_bytes=after_bytes, **match))

    def delay(self, delay_s: float, **match: Any) -> FaultRule:
        """Wait ``delay_s`` before forwarding."""
        return self.add(FaultRule("delay", delay_s=delay_s, **match))

    def clear(self) -> None:
        """Forget faults, recorded requests and byte totals."""
        with self._lock:
            self._rules.clear()
            self._requests.clear()
            self.bytes_in = self.bytes_out = 0

    # -- what happened ---------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_matching(
        self, method: str | None = None, path: str | None = None, query: str | None = None
    ) -> list[RecordedRequest]:
        probe = FaultRule("match", method=method, path=path, query=query)
        return [r for r in self.requests if probe.matches(r.method, r.path, r.query)]

    # -- lifecycle: async --------------------------------------------------------------------

    async def start(self) -> FaultProxy:
        self._session = aiohttp.ClientSession(
            auto_decompress=False,
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=300),
        )
        app = web.Application(client_max_size=0)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, auto_decompress=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        self._port = None

    async def __aenter__(self) -> FaultProxy:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- lifecycle: background thread (for subprocess tests) --------------------------------

    def __enter__(self) -> FaultProxy:
        loop = asyncio.new_event_loop()
        self._thread_loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="fault-proxy", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.start(), loop).result(timeout=30)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        loop, thread = self._thread_loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self.stop(), loop).result(timeout=30)
        asyncio.run_coroutine_threadsafe(_abort_leftovers(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()
        self._thread_loop = self._thread = None

    # -- the proxy ---------------------------------------------------------------------------

    def _pick(self, record: RecordedRequest) -> FaultRule | None:
        with self._lock:
            self._requests.append(record)
            chosen = None
            for rule in self._rules:
                if rule.matches(record.method, record.path, record.query) and rule.take():
                    chosen = chosen or rule
            return chosen

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path, _, query = request.raw_path.partition("?")
        record = RecordedRequest(
            method=request.method,
            path=path,
            query=query,
            headers=tuple(request.headers.items()),
            received_at=time.time(),
        )
        rule = self._pick(record)
        if rule is not None:
            record.fault = rule.action
        self._notify("request", record)
        try:
            if rule is None:
                return await self._forward(request, record)
            if rule.action == "delay":
                await asyncio.sleep(rule.delay_s)
                return await self._forward(request, record)
            if rule.action == "reset_response":
                return await self._forward(request, record, reset_after=rule.after_bytes)
            if rule.action == "wrong_region":
                if record.signed_region == rule.region:
                    record.fault = None
                    return await self._forward(request, record)
                record.body_bytes = await self._read_body(request)
                return self._error_response(rule, record)
            if rule.action == "reset_request":
                record.body_bytes = await self._read_body(request, limit=rule.after_bytes)
                await self._reset(request)
            record.body_bytes = await self._read_body(request)
            return self._error_response(rule, record)
        except _ConnectionResetError:
            record.status = None
            raise asyncio.CancelledError from None

    def _notify(self, event: str, record: RecordedRequest) -> None:
        if self.watch is not None:
            self.watch(event, record)

    async def _read_body(self, request: web.Request, limit: int | None = None) -> int:
        got = 0
        while limit is None or got < limit:
            want = _CHUNK if limit is None else min(_CHUNK, limit - got)
            chunk = await request.content.read(want)
            if not chunk:
                break
            got += len(chunk)
        return got

    def _error_response(self, rule: FaultRule, record: RecordedRequest) -> web.Response:
        extra: dict[str, str] = {}
        headers = dict(rule.headers)
        if rule.date_offset_s:
            server_time = time.time() + rule.date_offset_s
            headers["Date"] = formatdate(server_time, usegmt=True)
            extra = {
                "RequestTime": record.amz_date or "",
                "ServerTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(server_time)),
                "MaxAllowedSkewMilliseconds": "900000",
            }
        if rule.region:
            extra["Region"] = rule.region
        body = error_xml(rule.code, rule.message, f"faultproxy-{rule.fired}", extra)
        record.status = rule.status
        return web.Response(
            status=rule.status, body=body, headers=headers, content_type="application/xml"
        )

    async def _forward(
        self, request: web.Request, record: RecordedRequest, *, reset_after: int | None = None
    ) -> web.StreamResponse:
        assert self._session is not None
        headers = CIMultiDict(
            (k, v) for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP
        )
        data = self._body(request, record) if request.body_exists else None
        target = URL(self.upstream_url + request.raw_path, encoded=True)
        async with self._session.request(
            request.method,
            target,
            headers=headers,
            data=data,
            allow_redirects=False,
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
        ) as upstream:
            if reset_after == 0:
                await self._reset(request)
            record.status = upstream.status
            self._notify("response", record)
            if self.rewrite is not None and request.method == "GET" and "uploads" in record.params:
                body = self.rewrite(record, await upstream.read())
                headers = {
                    k: v
                    for k, v in upstream.headers.items()
                    if k.lower() not in _HOP_BY_HOP and k.lower() != "content-length"
                }
                return web.Response(status=upstream.status, body=body, headers=headers)
            response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
            for key, value in upstream.headers.items():
                if key.lower() not in _HOP_BY_HOP:
                    response.headers.add(key, value)
            sock = request.transport.get_extra_info("socket") if request.transport else None
            if self.send_buffer and sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.send_buffer)
            await response.prepare(request)
            sent = 0
            async for chunk in upstream.content.iter_chunked(_CHUNK):
                if reset_after is not None and sent + len(chunk) >= reset_after:
                    await response.write(chunk[: reset_after - sent])
                    await self._reset(request)
                await response.write(chunk)
                sent += len(chunk)
                self.bytes_out += len(chunk)
                self._notify("bytes", record)
            if reset_after is not None:
                await self._reset(request)
            await response.write_eof()
            return response

    async def _body(self, request: web.Request, record: RecordedRequest) -> AsyncIterator[bytes]:
        while chunk := await request.content.read(_CHUNK):
            record.body_bytes += len(chunk)
            self.bytes_in += len(chunk)
            self._notify("bytes", record)
            yield chunk

    async def _reset(self, request: web.Request) -> None:
        """Flush what was written, then close with RST (SO_LINGER 0), like a dropped link."""
        transport = request.transport
        if transport is not None:
            for _ in range(1000):
                if transport.get_write_buffer_size() == 0:
                    break
                await asyncio.sleep(0.001)
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        raise _ConnectionResetError


async def _abort_leftovers() -> None:
    """Close what the stopped proxy still holds on its loop, before the loop is closed.

    When a client is killed mid-body, the proxy closes its upstream connection with bytes
    still in the write buffer; such a transport stays "closing" until the server has read
    them. Left on a closed loop, it was garbage-collected during some later test, whose
    teardown then failed on the ResourceWarning (seen once in a fresh-clone CI run, at
    ``test_folder_upload_killed_halfway_sends_only_what_is_missing``). asyncio keeps a
    selector loop's transports in ``_transports``; every one left after ``stop()`` is such a
    leftover, and aborting it closes its socket now.
    """
    loop = asyncio.get_running_loop()
    transports: Any = getattr(loop, "_transports", {})
    for transport in list(transports.values()):
        if transport is not None:
            transport.abort()
    await asyncio.sleep(0)  # the aborts' connection_lost callbacks run before the loop stops
    await asyncio.sleep(0)
