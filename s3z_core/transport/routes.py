"""The two ways a request leaves the client: the direct pool, or aiohttp's session.

GETs of any size and requests whose body is in memory go direct (``direct.py``: a fraction
of aiohttp's loop time per request); streamed uploads, proxied origins and TLS with
verification switched off go through aiohttp (``via_aiohttp.py``). Both are made on first
use, inside the running loop (a client's constructor does no I/O), and closed together.
aiohttp itself is imported on first use too, in the file-system pool: an import on the
loop would stall it ~0.2 s.
"""

from __future__ import annotations

import importlib
import ssl
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from s3z_core.config import ClientConfig
from s3z_core.filesystem import fs_call
from s3z_core.transport.answers import DirectResponse
from s3z_core.transport.connection import proxy_for, proxy_settings, tls_setting
from s3z_core.transport.direct import DirectPool, Origin

if TYPE_CHECKING:
    import aiohttp

    from s3z_core.transport.via_aiohttp import Streamed

VIA_AIOHTTP = "s3z_core.transport.via_aiohttp"
Route = tuple[DirectPool, Origin, str]  # the pool, the origin, the request target


async def load_aiohttp() -> Any:
    """``via_aiohttp`` (and aiohttp), imported in the file-system pool the first time."""
    module = sys.modules.get(VIA_AIOHTTP)
    if not getattr(module, "READY", False):  # not imported, or being imported by another call
        module = await fs_call(importlib.import_module, VIA_AIOHTTP)  # waits for that import
    return module


class Routes:
    def __init__(self, config: ClientConfig, https: bool) -> None:
        self.config = config
        self.https = https
        self.proxies = proxy_settings(config)
        self.session: aiohttp.ClientSession | None = None
        self.pool: DirectPool | None = None
        self._proxy_by_origin: dict[str, str | None] = {}
        self._tls_ready = False

    async def aiohttp(self) -> tuple[Any, aiohttp.ClientSession]:
        """``via_aiohttp`` and the session (made on first use: its TLS context off the loop)."""
        via = await load_aiohttp()
        if self.https and not self._tls_ready:
            await fs_call(tls_setting, self.config)  # reads the CA store once (cached)
            self._tls_ready = True
        if self.session is None or self.session.closed:  # no await from here: one session
            self.session = via.open_session(self.config, https=self.https)
        return via, self.session

    async def exchange(
        self, method: str, where: str, headers: Mapping[str, str], data: Any, *, direct: bool
    ) -> tuple[int, Mapping[str, str], bytes]:
        """One request and its whole answer; ``direct``: it may skip aiohttp (its body is
        in memory), when its origin allows."""
        route = self.direct(where) if direct else None
        if route is not None:
            pool, origin, target = route
            timeout = self.config.read_timeout_s
            return await pool.exchange(origin, method, target, headers, data, timeout)
        via, session = await self.aiohttp()
        answer: tuple[int, Mapping[str, str], bytes]
        answer = await via.exchange(session, method, where, headers, data, self.proxy(where))
        return answer

    async def open_get(self, where: str, headers: Mapping[str, str]) -> DirectResponse | Streamed:
        """A GET whose body is read as it arrives: direct when its origin allows. Large GETs
        went through aiohttp until measured: 1 GiB in ranges took 1.26-1.32 s of CPU
        through it, 1.11-1.18 s direct (two runs each, no verification)."""
        route = self.direct(where)
        if route is not None:
            pool, origin, target = route
            return await pool.request(origin, "GET", target, headers, self.config.read_timeout_s)
        via, session = await self.aiohttp()
        streamed: Streamed = await via.open_get(session, where, headers, self.proxy(where))
        return streamed

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

    def proxy(self, where: str) -> str | None:
        """The proxy for this request's origin (HTTPS_PROXY/HTTP_PROXY/NO_PROXY), decided once."""
        parts = urlsplit(where)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._proxy_by_origin:
            self._proxy_by_origin[origin] = proxy_for(origin, self.proxies)
        return self._proxy_by_origin[origin]

    async def close(self) -> None:
        if self.session is not None and not self.session.closed:
            await self.session.close()
        self.session = None
        pool, self.pool = self.pool, None
        if pool is not None:
            await pool.close()
