"""An S3 proxy that, unlike moto, refuses expired temporary credentials.

It knows the keys a ``Minter`` handed out and until when each is valid. Every request must be
signed (SigV4, verified here independently of s3z's signer) with one of them, carry its
session token, and arrive before its expiry; otherwise it is answered 403 (``ExpiredToken``,
``SignatureDoesNotMatch``, ``InvalidAccessKeyId``) and counted. Good requests are forwarded to
moto unchanged (moto does not check signatures). ``rate`` caps the bytes per second through
the proxy (both directions together), so a transfer lasts as long as a test needs.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import time
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from credential_servers import Minter, ThreadedServer
from multidict import CIMultiDict
from yarl import URL

_AUTH = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<scope>[^,]+), "
    r"SignedHeaders=(?P<signed>[^,]+), Signature=(?P<sig>[0-9a-f]{64})"
)
_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "expect", "host"}
_CHUNK = 64 * 1024


@dataclass
class Verdicts:
    accepted: int = 0
    expired: int = 0
    bad_signature: int = 0
    unknown_key: int = 0

    @property
    def refused(self) -> int:
        return self.expired + self.bad_signature + self.unknown_key


def expected_signature(request: web.Request, secret: str, scope: str, signed: str) -> str:
    """SigV4 of the request as received, from the AWS documentation's steps."""
    path, _, query = request.raw_path.partition("?")
    pairs = sorted(tuple(p.partition("=")[::2]) for p in query.split("&") if p)
    canonical_query = "&".join(f"{k}={v}" for k, v in pairs)
    names = signed.split(";")
    headers = "".join(
        f"{n}:{','.join(' '.join(v.split()) for v in request.headers.getall(n, []))}\n"
        for n in names
    )
    payload = request.headers.get("x-amz-content-sha256", "")
    canonical = f"{request.method}\n{path}\n{canonical_query}\n{headers}\n{signed}\n{payload}"
    amz_date = request.headers.get("x-amz-date", "")
    to_sign = (
        f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    )
    date, region, service, _ = scope.split("/")
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


class ExpiringCredentialsProxy(ThreadedServer):
    def __init__(self, upstream: str, minter: Minter, rate: float | None = None) -> None:
        super().__init__()
        self.upstream = upstream.rstrip("/")
        self.minter = minter
        self.rate = rate
        self.verdicts = Verdicts()
        self.keys_used: set[str] = set()
        self._session: aiohttp.ClientSession | None = None
        self._moved = 0
        self._started = 0.0

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{tail:.*}", self._handle)

    async def _start(self) -> None:
        self._session = aiohttp.ClientSession(auto_decompress=False)
        self._started = time.monotonic()
        await super()._start()

    async def _stop(self) -> None:
        await super()._stop()
        if self._session is not None:
            await self._session.close()

    async def _throttle(self, n: int) -> None:
        if not self.rate:
            return
        self._moved += n
        wait = self._moved / self.rate - (time.monotonic() - self._started)
        if wait > 0:
            await asyncio.sleep(wait)

    def _refuse(self, code: str) -> web.Response:
        body = f"<Error><Code>{code}</Code><Message>refused by the test proxy</Message></Error>"
        return web.Response(status=403, body=body.encode(), content_type="application/xml")

    def _judge(self, request: web.Request) -> str | None:
        """None for a good request, else the S3 error code it deserves."""
        arrived = time.time()
        match = _AUTH.fullmatch(request.headers.get("Authorization", ""))
        minted = self.minter.lookup(match["key"]) if match else None
        if match is None or minted is None:
            self.verdicts.unknown_key += 1
            return "InvalidAccessKeyId"
        self.keys_used.add(minted.access_key)
        if arrived >= minted.expires_at:
            self.verdicts.expired += 1
            return "ExpiredToken"
        sig = expected_signature(request, minted.secret_key, match["scope"], match["signed"])
        token_signed = "x-amz-security-token" in match["signed"].split(";")
        if (
            not hmac.compare_digest(sig, match["sig"])
            or request.headers.get("x-amz-security-token") != minted.token
            or not token_signed
        ):
            self.verdicts.bad_signature += 1
            return "SignatureDoesNotMatch"
        self.verdicts.accepted += 1
        return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        refusal = self._judge(request)
        if refusal is not None:
            await request.read()
            return self._refuse(refusal)
        assert self._session is not None
        headers = CIMultiDict((k, v) for k, v in request.headers.items() if k.lower() not in _HOP)

        async def body() -> object:
            while chunk := await request.content.read(_CHUNK):
                await self._throttle(len(chunk))
                yield chunk

        async with self._session.request(
            request.method,
            URL(self.upstream + request.raw_path, encoded=True),
            headers=headers,
            data=body() if request.body_exists else None,
            allow_redirects=False,
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
        ) as upstream:
            response = web.StreamResponse(status=upstream.status)
            for key, value in upstream.headers.items():
                if key.lower() not in _HOP:
                    response.headers.add(key, value)
            await response.prepare(request)
            async for chunk in upstream.content.iter_chunked(_CHUNK):
                await self._throttle(len(chunk))
                await response.write(chunk)
            await response.write_eof()
            return response
