"""A small hostile S3 server: one bucket served from memory, with damage chosen per key.

It speaks just enough S3 for listings, HEAD and GET (path style, any credentials) and
lies where it is told to: a listed ``Size`` that is no number or not the real size, a
``LastModified`` or ``ETag`` that is garbage, a listed entry without a key, a HEAD whose
``Content-Length`` is no number, a listing page that is not XML at all. The engine must
turn every lie into a typed error of the affected file only.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from dataclasses import dataclass, field
from types import SimpleNamespace, TracebackType
from urllib.parse import quote, unquote
from xml.sax.saxutils import escape

from aiohttp import web

Damage = str  # one of DAMAGES
# What each damage does to the file it is applied to (the test's expectation).
FAILS = {
    "size_not_a_number": True,  # listing Size "12abc": ProtocolError for that key
    "size_wrong": True,  # listing Size one more than the body: VerificationError
    "size_negative": True,
    "no_key": True,  # a <Contents> without <Key>: a failure named "" (the key is unknown)
    "date_garbage": False,  # LastModified unreadable: the time is unknown, the file is fine
    "etag_garbage": False,  # an ETag that is no MD5: verified by size only
    # HEAD Content-Length "x" (key-only downloads HEAD first): the HTTP parser refuses the
    # answer, so after the retries it is that file's TransportError.
    "head_length_garbage": True,
}
DAMAGES = tuple(FAILS)


@dataclass
class Adversary:
    bucket: str = "adv"
    objects: dict[str, bytes] = field(default_factory=dict)
    damage: dict[str, Damage] = field(default_factory=dict)
    page_size: int = 1000
    broken_page: int | None = None  # this listing page (0-based) is not XML
    access_key: str = "adversary"
    secret_key: str = "adversary-secret"
    region: str = "us-east-1"
    _runner: web.AppRunner | None = None
    _port: int | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        assert self._port is not None
        return f"http://127.0.0.1:{self._port}"

    def endpoint(self) -> SimpleNamespace:
        return SimpleNamespace(
            endpoint_url=self.endpoint_url,
            access_key=self.access_key,
            secret_key=self.secret_key,
            region=self.region,
        )

    # -- S3 --------------------------------------------------------------------------------

    def _entry(self, key: str, body: bytes) -> str:
        how = self.damage.get(key, "")
        size = str(len(body))
        if how == "size_not_a_number":
            size = "12abc"
        elif how == "size_wrong":
            size = str(len(body) + 1)
        elif how == "size_negative":
            size = "-5"
        date = "not-a-date" if how == "date_garbage" else "2024-01-02T03:04:05.000Z"
        etag = "zz-not-md5" if how == "etag_garbage" else hashlib.md5(body).hexdigest()
        name = "" if how == "no_key" else f"<Key>{quote(key, safe='/')}</Key>"
        return (
            f"<Contents>{name}<LastModified>{date}</LastModified><ETag>&quot;{etag}&quot;</ETag>"
            f"<Size>{size}</Size><StorageClass>STANDARD</StorageClass></Contents>"
        )

    async def _list(self, request: web.Request) -> web.Response:
        prefix = request.query.get("prefix", "")
        token = request.query.get("continuation-token")
        # The token is the last key sent, so a page may ask for any size (max-keys) and the
        # listing still goes on exactly after it; the N-th page (0-based) is counted for
        # broken_page.
        page, _, after = (
            token.partition(":") if token else ("0", "", request.query.get("start-after", ""))
        )
        page_no = int(page)
        keys = sorted(k for k in self.objects if k.startswith(prefix) and k > after)
        size = min(self.page_size, int(request.query.get("max-keys", "1000")))
        chunk = keys[:size]
        if page_no == self.broken_page:
            return web.Response(body=b"<ListBucketResult><Contents><Key>oops", status=200)
        truncated = size < len(keys)
        more = (
            f"<NextContinuationToken>{page_no + 1}:{escape(chunk[-1])}</NextContinuationToken>"
            if truncated
            else ""
        )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult '
            'xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            f"<Name>{self.bucket}</Name><Prefix>{quote(prefix)}</Prefix>"
            f"<EncodingType>url</EncodingType><KeyCount>{len(chunk)}</KeyCount>"
            f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>{more}"
            + "".join(self._entry(k, self.objects[k]) for k in chunk)
            + "</ListBucketResult>"
        )
        return web.Response(body=body.encode(), content_type="application/xml")

    async def _object(self, request: web.Request) -> web.StreamResponse:
        key = unquote(request.match_info["key"])
        body = self.objects.get(key)
        if body is None:
            return web.Response(status=404)
        headers = {
            "ETag": f'"{hashlib.md5(body).hexdigest()}"',
            "Last-Modified": "Tue, 02 Jan 2024 03:04:05 GMT",
        }
        if request.method == "HEAD":
            if self.damage.get(key) == "head_length_garbage":
                return await self._raw_head(request, headers)
            response = web.Response(status=200, headers=headers)
            response.headers["Content-Length"] = str(len(body))
            return response
        rng = request.headers.get("Range")
        status, data = 200, body
        if rng:
            first_s, _, last_s = rng.removeprefix("bytes=").partition("-")
            first = int(first_s)
            last = int(last_s) if last_s else len(body) - 1
            status, data = 206, body[first : last + 1]
            headers["Content-Range"] = f"bytes {first}-{last}/{len(body)}"
        return web.Response(status=status, body=data, headers=headers)

    async def _raw_head(self, request: web.Request, headers: dict[str, str]) -> web.Response:
        """aiohttp refuses to send a garbage Content-Length: write the answer by hand."""
        lines = ["HTTP/1.1 200 OK", "Content-Length: x", *(f"{k}: {v}" for k, v in headers.items())]
        transport = request.transport
        assert transport is not None
        transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await asyncio.sleep(0.05)
        transport.close()
        raise asyncio.CancelledError  # the answer is on the wire: aiohttp must add nothing

    async def _bucket(self, request: web.Request) -> web.Response:
        if request.query.get("list-type") == "2":
            return await self._list(request)
        return web.Response(status=200)

    # -- lifecycle (a background thread, so subprocess tests can use it too) ---------------

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", f"/{self.bucket}", self._bucket)
        app.router.add_route("*", f"/{self.bucket}/", self._bucket)
        app.router.add_route("*", f"/{self.bucket}/{{key:.+}}", self._object)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def __enter__(self) -> Adversary:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=30)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._loop is not None
        assert self._thread is not None
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()
