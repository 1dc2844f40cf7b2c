"""One small HTTP exchange for the credential providers (STS, SSO, IMDS, containers).

The providers above the transport never see aiohttp: they get ``HttpClient.request`` with a
per-request timeout, answers read whole (capped, they are small documents) and failures
mapped to the transport error types. It honours the same CA bundle and proxies as the S3
client. One client is opened per fetch and closed after it: refreshes are minutes apart,
and a session that outlives its loop would leak.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from s3z_core.config import ClientConfig
from s3z_core.errors import ProtocolError
from s3z_core.filesystem import fs_call
from s3z_core.records import record
from s3z_core.transport.connection import proxy_for, proxy_settings, tls_setting
from s3z_core.transport.error_mapping import TRANSPORT_EXCEPTIONS, transport_error
from s3z_core.transport.via_aiohttp import fetch_once, open_session

if TYPE_CHECKING:
    import aiohttp

MAX_ANSWER_BYTES = 1 << 20


@record
class HttpAnswer:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def shown_url(url: str) -> str:
    """``scheme://host/path`` of a URL: queries and userinfo can hold secrets."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"


class HttpClient:
    """``async with HttpClient(config) as http: answer = await http.request(...)``."""

    def __init__(self, config: ClientConfig | None = None) -> None:
        self._config = config or ClientConfig()
        self._proxies = proxy_settings(self._config)
        self._session: aiohttp.ClientSession | None = None
        self._tls: ssl.SSLContext | bool | None = None

    async def __aenter__(self) -> HttpClient:
        # No TLS context up front: IMDS and container credentials are plain http, and
        # building one reads the CA store (~20 ms of CPU); https requests get theirs below.
        self._session = open_session(self._config, https=False, limit=4)
        return self

    async def _tls_for(self, url: str) -> ssl.SSLContext | bool:
        """The verifying context for an https URL, built once off the loop (True: plain http)."""
        if not url.startswith("https:"):
            return True
        if self._tls is None:
            self._tls = await fs_call(tls_setting, self._config)
        return self._tls

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(
        self,
        method: str,
        url: str,
        *,
        operation: str,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        timeout_s: float = 5.0,
    ) -> HttpAnswer:
        """Send one request and read the whole answer (any status: the caller judges it)."""
        if self._session is None:
            raise RuntimeError("HttpClient used outside 'async with'")
        target = shown_url(url)
        tls = await self._tls_for(url)
        try:
            status, answer_headers, payload = await fetch_once(
                self._session,
                method,
                url,
                headers or {},
                body,
                proxy_for(url, self._proxies),
                tls,
                timeout_s,
                MAX_ANSWER_BYTES,
            )
        except TRANSPORT_EXCEPTIONS as exc:
            raise transport_error(exc, operation=operation, target=target) from None
        if len(payload) > MAX_ANSWER_BYTES:
            raise ProtocolError(f"{operation} {target}: answer larger than 1 MiB")
        return HttpAnswer(status, answer_headers, payload)
