"""The requests that still go through aiohttp, and the only import of it by the S3 client.

Streamed uploads (bodies over one chunk), proxied origins and TLS with verification
switched off go here; every other request goes direct
(``direct.py``). Importing aiohttp costs ~0.2 s of CPU, so this module is imported only
when such a request comes (``routes.load_aiohttp``, in the file-system pool, never on the
loop) or before a loop starts (``engine.prepare``): ``ls`` and small transfers never pay it.

aiohttp builds two default TLS contexts when it is imported, each reading the system CA
store (~20 ms apiece), even when every endpoint is plain http. s3z never uses them: each TLS
session it opens gets a context of its own (``connection.tls_setting``). So aiohttp is
imported here with that CA-store reading skipped, which leaves its two module contexts
trusting nothing: whatever might still use them fails verification (closed), it never skips.

aiohttp's exceptions leave this module as ``LibraryError`` (a ``ConnectionError``, so the
client's one ``except TRANSPORT_EXCEPTIONS`` catches them); ``map_failure`` gives each its
typed error.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import sys
from collections.abc import Mapping
from typing import Any


def _import_aiohttp_without_tls_setup() -> None:
    if "aiohttp" in sys.modules:  # someone imported it first: nothing to save, nothing to do
        return

    def no_store(self: ssl.SSLContext) -> None:
        """Load no roots (during aiohttp's import only)."""

    ssl.SSLContext.set_default_verify_paths = no_store  # type: ignore[method-assign]
    try:
        import aiohttp.connector  # noqa: F401
    finally:
        del ssl.SSLContext.set_default_verify_paths  # the inherited C method again


_import_aiohttp_without_tls_setup()

import aiohttp  # noqa: E402 - after the import above, which keeps its CA store unread
from aiohttp.client_proto import ResponseHandler  # noqa: E402
from yarl import URL  # noqa: E402

from s3z_core.config import ClientConfig  # noqa: E402
from s3z_core.errors import ConnectError, ReadTimeoutError, TransportError  # noqa: E402
from s3z_core.transport.connection import USER_AGENT, tls_setting  # noqa: E402
from s3z_core.transport.error_mapping import LibraryError, tls_rejected  # noqa: E402


class _CuttingHandler(ResponseHandler):
    """aiohttp's connection, aborted when it is closed with request bytes still unsent.

    aiohttp closes the connection of a cancelled or failed request, and of every request in
    flight when its session closes, with ``transport.close()``: asyncio then keeps the socket
    open until the server has read what is still buffered. A server that stopped reading kept
    it open for good; an upload cancelled at quit left it to a loop about to stop, and the
    socket was garbage-collected open later (70-300 KB still buffered, seen in one CI run of
    the quit-mid-upload test, reproduced in 2 of 4 runs). Unsent bytes belong to a request
    given up, so dropping them loses nothing.
    """

    def close(self) -> None:
        transport = self.transport
        if transport is not None and transport.get_write_buffer_size():
            self.abort()
        else:
            super().close()


def _cutting_handler(loop: asyncio.AbstractEventLoop) -> ResponseHandler:
    return _CuttingHandler(loop=loop)


def open_session(
    config: ClientConfig, *, https: bool = True, limit: int | None = None
) -> aiohttp.ClientSession:
    """A session for one client (created inside the running loop, closed by the client).

    ``https=False`` (a plain-http endpoint) builds no TLS context at all: reading the system
    CA store costs ~20 ms here. Were such a session ever asked for TLS, aiohttp would fall
    back to its own module context, which trusts nothing (see above).
    """
    connections = limit or config.max_connections
    connector = aiohttp.TCPConnector(
        limit=connections,
        limit_per_host=connections,
        ssl=tls_setting(config) if https else True,
        ttl_dns_cache=300,
        keepalive_timeout=30,
    )
    # No public way to choose the protocol class: the one private attribute s3z sets.
    connector._factory = functools.partial(_cutting_handler, connector._loop)
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(
            total=None,
            sock_connect=config.connect_timeout_s,
            sock_read=config.read_timeout_s,
        ),
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
        skip_auto_headers=("Accept-Encoding", "Content-Type"),
        headers={"User-Agent": USER_AGENT},
    )


def map_failure(exc: BaseException, operation: str, target: str) -> TransportError:
    """An aiohttp exception → our retryable transport error (``error_mapping`` asks here)."""
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return ReadTimeoutError("timed out", operation=operation, target=target)
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
        return tls_rejected(exc, operation, target)
    if isinstance(exc, aiohttp.ClientConnectorError):
        reason = exc.os_error.strerror or exc.os_error
        return ConnectError(f"cannot connect ({reason})", operation=operation, target=target)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return TransportError("server closed the connection", operation=operation, target=target)
    if isinstance(exc, aiohttp.ClientPayloadError):
        return TransportError("response body cut short", operation=operation, target=target)
    return TransportError(f"{type(exc).__name__}: {exc}", operation=operation, target=target)


class Streamed:
    """An aiohttp response with the surface ``direct.DirectResponse`` has, its failures
    carried as ``LibraryError``."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status = response.status
        self.headers = response.headers
        self.content_length = response.content_length
        self.content = self

    async def readchunk(self) -> tuple[bytes, bool]:
        try:
            return await self._response.content.readchunk()
        except aiohttp.ClientError as exc:
            raise LibraryError(exc) from None

    async def read(self) -> bytes:
        try:
            return await self._response.read()
        except aiohttp.ClientError as exc:
            raise LibraryError(exc) from None

    def release(self) -> None:
        self._response.release()


async def open_get(
    session: aiohttp.ClientSession, url: str, headers: Mapping[str, str], proxy: str | None
) -> Streamed:
    """Send a GET; its answer once the head is in (the body is read from ``Streamed``)."""
    try:
        response = await session.get(
            URL(url, encoded=True), headers=headers, allow_redirects=False, proxy=proxy
        )
    except aiohttp.ClientError as exc:
        raise LibraryError(exc) from None
    return Streamed(response)


async def exchange(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    headers: Mapping[str, str],
    data: Any,
    proxy: str | None,
) -> tuple[int, Mapping[str, str], bytes]:
    """One request and its whole answer: (status, headers, body)."""
    try:
        async with session.request(
            method,
            URL(url, encoded=True),
            headers=headers,
            data=data,
            allow_redirects=False,
            proxy=proxy,
        ) as response:
            return response.status, response.headers, await response.read()
    except aiohttp.ClientError as exc:
        raise LibraryError(exc) from None


async def fetch_once(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    proxy: str | None,
    tls: ssl.SSLContext | bool,
    timeout_s: float,
    limit: int,
) -> tuple[int, Mapping[str, str], bytes]:
    """One credential-provider exchange (``http.py``): its own TLS and timeout, the answer
    read up to ``limit`` + 1 bytes (the caller refuses a longer one)."""
    try:
        async with session.request(
            method,
            URL(url, encoded=True),
            headers=dict(headers),
            data=body or None,
            allow_redirects=False,
            proxy=proxy,
            ssl=tls,
            timeout=aiohttp.ClientTimeout(total=timeout_s, sock_connect=timeout_s),
        ) as response:
            return response.status, response.headers, await response.content.read(limit + 1)
    except aiohttp.ClientError as exc:
        raise LibraryError(exc) from None


READY = True  # the last line: routes.load_aiohttp never takes a half-imported module
