"""The aiohttp session every request shares: sized to the concurrency, lean per request.

What a request does not need is switched off once here rather than paid per request: no
cookie jar (S3 sets none), no automatic ``Accept-Encoding``/``Content-Type`` (the signer
decides the headers), no decompression (bytes are stored as sent). TLS verification is on
unless the config explicitly turns it off; there is no other way to weaken it.
"""

from __future__ import annotations

import aiohttp

from s3z_core import __version__
from s3z_core.config import ClientConfig

USER_AGENT = f"s3z/{__version__}"


def open_session(config: ClientConfig) -> aiohttp.ClientSession:
    """A session for one client (created inside the running loop, closed by the client)."""
    connector = aiohttp.TCPConnector(
        limit=config.max_connections,
        limit_per_host=config.max_connections,
        ssl=bool(config.verify_ssl),
        ttl_dns_cache=300,
        keepalive_timeout=30,
    )
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
