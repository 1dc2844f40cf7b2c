"""Small local servers that speak AWS's documented credential wire formats, for the tests.

botocore talks to the same servers as s3z (it is the oracle), which keeps them honest:

* ``MetadataServer`` — EC2 IMDSv2: ``PUT /latest/api/token`` then
  ``/latest/meta-data/iam/security-credentials/[role]`` and the availability zone.
* ``ContainerServer`` — the ECS/EKS container endpoint (``Authorization`` checked).
* ``SsoPortal`` — ``GET /federation/credentials`` with ``x-amz-sso_bearer_token``.
* ``StsReplay`` — a proxy in front of moto's STS that answers a repeated request (same
  parameters) with the first answer, so two clients that send the same AssumeRole get the
  same keys; it records every form it saw.

Each runs on its own thread and loop (botocore blocks), on 127.0.0.1, stopped on exit.
``Minter`` issues keys valid for ``lifetime_s`` and remembers them, so an S3 proxy can tell
valid from expired keys (see ``expiring_proxy.py``).
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Minted:
    access_key: str
    secret_key: str
    token: str
    expires_at: float  # epoch seconds (whole: the wire format has no fraction)


@dataclass
class Minter:
    """Issues fresh temporary keys; ``fixed`` keys instead when ``lifetime_s`` is None."""

    prefix: str = "ASIAMINT"
    lifetime_s: float | None = None
    fixed_expiry: float = field(default_factory=lambda: float(int(time.time()) + 6 * 3600))
    issued: list[Minted] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def mint(self) -> Minted:
        with self._lock:
            if self.lifetime_s is None and self.issued:
                return self.issued[0]
            n = next(self._counter)
            expires = (
                self.fixed_expiry
                if self.lifetime_s is None
                else float(int(time.time() + self.lifetime_s))
            )
            minted = Minted(
                f"{self.prefix}{n:08d}",
                "sec-" + secrets.token_hex(16),
                "tok-" + secrets.token_hex(24),
                expires,
            )
            self.issued.append(minted)
            return minted

    def lookup(self, access_key: str) -> Minted | None:
        with self._lock:
            return next((m for m in self.issued if m.access_key == access_key), None)


class ThreadedServer:
    """An aiohttp app on a background loop; ``url`` once entered."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # method, path_qs, headers
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def _start(self) -> None:
        app = web.Application()
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def record(self, request: web.Request) -> None:
        self.requests.append((request.method, request.path_qs, dict(request.headers)))

    def __enter__(self) -> Any:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), loop).result(timeout=30)
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        loop, thread = self._loop, self._thread
        assert loop is not None
        assert thread is not None
        asyncio.run_coroutine_threadsafe(self._stop(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()


class MetadataServer(ThreadedServer):
    """IMDS. ``v2_only``: GETs without a valid session token get 401, like IMDSv2-required."""

    ROLE = "s3z-test-role"

    def __init__(
        self, minter: Minter | None = None, *, v2_only: bool = True, zone: str = "eu-central-1b"
    ) -> None:
        super().__init__()
        self.minter = minter or Minter(prefix="ASIAIMDS")
        self.v2_only = v2_only
        self.zone = zone
        self.tokens: set[str] = set()

    def routes(self, app: web.Application) -> None:
        app.router.add_put("/latest/api/token", self._token)
        app.router.add_get("/latest/meta-data/iam/security-credentials/", self._role)
        app.router.add_get("/latest/meta-data/iam/security-credentials/{role}", self._creds)
        app.router.add_get("/latest/meta-data/placement/availability-zone/", self._zone)
        app.router.add_get("/latest/meta-data/placement/availability-zone", self._zone)

    async def _token(self, request: web.Request) -> web.Response:
        self.record(request)
        if "x-aws-ec2-metadata-token-ttl-seconds" not in request.headers:
            return web.Response(status=400)
        token = secrets.token_hex(16)
        self.tokens.add(token)
        return web.Response(text=token)

    def _authorised(self, request: web.Request) -> bool:
        token = request.headers.get("x-aws-ec2-metadata-token")
        return token in self.tokens if token else not self.v2_only

    async def _role(self, request: web.Request) -> web.Response:
        self.record(request)
        if not self._authorised(request):
            return web.Response(status=401)
        return web.Response(text=self.ROLE)

    async def _creds(self, request: web.Request) -> web.Response:
        self.record(request)
        if not self._authorised(request):
            return web.Response(status=401)
        if request.match_info["role"] != self.ROLE:
            return web.Response(status=404)
        m = self.minter.mint()
        return web.json_response(
            {
                "Code": "Success",
                "LastUpdated": iso(time.time()),
                "Type": "AWS-HMAC",
                "AccessKeyId": m.access_key,
                "SecretAccessKey": m.secret_key,
                "Token": m.token,
                "Expiration": iso(m.expires_at),
            }
        )

    async def _zone(self, request: web.Request) -> web.Response:
        self.record(request)
        if not self._authorised(request):
            return web.Response(status=401)
        return web.Response(text=self.zone)


class ContainerServer(ThreadedServer):
    """The container credentials endpoint at ``/creds``; wants ``Authorization: auth_token``."""

    def __init__(self, minter: Minter | None = None, auth_token: str | None = None) -> None:
        super().__init__()
        self.minter = minter or Minter(prefix="ASIACONT")
        self.auth_token = auth_token

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/creds", self._creds)

    async def _creds(self, request: web.Request) -> web.Response:
        self.record(request)
        if self.auth_token is not None and request.headers.get("Authorization") != self.auth_token:
            return web.json_response({"message": "bad token"}, status=403)
        m = self.minter.mint()
        return web.json_response(
            {
                "AccessKeyId": m.access_key,
                "SecretAccessKey": m.secret_key,
                "Token": m.token,
                "Expiration": iso(m.expires_at),
                "RoleArn": "arn:aws:iam::123456789012:role/task",
            }
        )


class SsoPortal(ThreadedServer):
    """``GET /federation/credentials`` for one valid bearer token."""

    def __init__(self, token: str, minter: Minter | None = None) -> None:
        super().__init__()
        self.token = token
        self.minter = minter or Minter(prefix="ASIASSO0")

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/federation/credentials", self._creds)

    async def _creds(self, request: web.Request) -> web.Response:
        self.record(request)
        if request.headers.get("x-amz-sso_bearer_token") != self.token:
            return web.json_response(
                {"message": "Session token not found or invalid"},
                status=401,
                headers={"x-amzn-ErrorType": "UnauthorizedException"},
            )
        if not request.query.get("role_name") or not request.query.get("account_id"):
            return web.json_response({"message": "missing"}, status=400)
        m = self.minter.mint()
        return web.json_response(
            {
                "roleCredentials": {
                    "accessKeyId": m.access_key,
                    "secretAccessKey": m.secret_key,
                    "sessionToken": m.token,
                    "expiration": int(m.expires_at * 1000),
                }
            }
        )


class StsReplay(ThreadedServer):
    """In front of moto's STS: the same parameters get the same answer (see the docstring)."""

    def __init__(self, upstream: str) -> None:
        super().__init__()
        self.upstream = upstream.rstrip("/")
        self.forms: list[dict[str, str]] = []
        self._answers: dict[tuple[tuple[str, str], ...], tuple[int, bytes]] = {}

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/", self._post)

    async def _post(self, request: web.Request) -> web.Response:
        self.record(request)
        body = await request.read()
        form = dict(parse_qsl(body.decode()))
        self.forms.append(form)
        key = tuple(sorted(form.items()))
        if key not in self._answers:
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    self.upstream + "/",
                    data=body,
                    headers={
                        k: v
                        for k, v in request.headers.items()
                        if k.lower() not in ("host", "content-length")
                    },
                ) as upstream,
            ):
                self._answers[key] = (upstream.status, await upstream.read())
        status, payload = self._answers[key]
        return web.Response(status=status, body=payload, content_type="text/xml")
