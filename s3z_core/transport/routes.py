"""The two ways a request leaves the client: aiohttp's session, or the direct pool.

Small requests whose body is in memory go direct (``direct.py``: a fraction of aiohttp's
loop time per request); streamed bodies, HEAD, proxied origins and TLS with verification
switched off go through aiohttp. Both are made on first use, inside the running loop (a
client's constructor does no I/O), and closed together.
"""

from __future__ import annotations

import ssl

import aiohttp
from yarl import URL

from s3z_core.config import ClientConfig
from s3z_core.transport.connection import open_session, proxy_for, proxy_settings, tls_setting
from s3z_core.transport.direct import DirectPool, Origin

Route = tuple[DirectPool, Origin, str]  # the pool, the origin, the request target


class Routes:
    def __init__(self, config: ClientConfig, https: bool) -> None:
        self.config = config
        self.https = https
        self.proxies = proxy_settings(config)
        self.session: aiohttp.ClientSession | None = None
        self.pool: DirectPool | None = None
        self._proxy_by_origin: dict[tuple[str, str, int | None], str | None] = {}

    def aiohttp(self) -> aiohttp.ClientSession:
        if self.session is None or self.session.closed:
            self.session = open_session(self.config, https=self.https)
        return self.session

    def direct(self, where: str) -> Route | None:
        """The direct route to the URL ``where``, or None when it goes through aiohttp."""
        if self.pool is None:
            if not self.config.direct_requests:
                return None
            tls = tls_setting(self.config) if self.https and self.config.verify_ssl else None
            self.pool = DirectPool(
                self.config.max_connections,
                tls if isinstance(tls, ssl.SSLContext) else None,
                self.config.connect_timeout_s,
                lambda origin: proxy_for(origin, self.proxies) is None,
            )
        route = self.pool.origin(where)
        return None if route is None else (self.pool, *route)

    def proxy(self, url: URL) -> str | None:
        """The proxy for this request's origin (HTTPS_PROXY/HTTP_PROXY/NO_PROXY), decided once."""
        origin = (url.scheme, url.host or "", url.explicit_port)
        if origin not in self._proxy_by_origin:
            self._proxy_by_origin[origin] = proxy_for(str(url.origin()), self.proxies)
        return self._proxy_by_origin[origin]

    async def close(self) -> None:
        if self.session is not None and not self.session.closed:
            await self.session.close()
        self.session = None
        if self.pool is not None:
            self.pool.close()
            self.pool = None
