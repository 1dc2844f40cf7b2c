"""S3Client: owns the aiohttp session, signs at send time and re-signs every attempt.

One ``ClientSession`` per client, created lazily inside the running loop (the
constructor does no I/O: eager connection warm-up made the original s3z's start-up
bimodal). HTTP/1.1, TCP_NODELAY (aiohttp's default), pool sized to the concurrency,
TLS verification on unless explicitly disabled. Every request with a body carries an
explicit Content-Length and is never chunked (some stores answer 411/501 otherwise).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
from yarl import URL

from s3z_core import __version__
from s3z_core.config import UPLOAD_CHUNK_BYTES, ClientConfig
from s3z_core.credentials import Credentials
from s3z_core.errors import (
    ClockSkewError,
    CredentialsError,
    LocalFileError,
    S3zError,
    ServiceError,
    TransportError,
    WrongRegionError,
)
from s3z_core.protocol.endpoints import build_url, parse_endpoint, request_target, resolve_style
from s3z_core.protocol.responses import is_error_document
from s3z_core.protocol.signing import EMPTY_SHA256, UNSIGNED_PAYLOAD, SigV4Signer
from s3z_core.transport.body import (
    Body,
    FileRange,
    ProgressCallback,
    SentCounter,
    stream_file_range,
    stream_memory,
)
from s3z_core.transport.error_mapping import TRANSPORT_EXCEPTIONS, service_error, transport_error
from s3z_core.transport.retry import backoff_delay_s, clock_offset_s

log = logging.getLogger("s3z.transport")


@dataclass(frozen=True, slots=True)
class RetryNotice:
    """Told to the caller before each backoff sleep (feeds PartRetried / RequestRetried)."""

    operation: str
    attempt: int
    reason: str
    delay_s: float


RetryCallback = Callable[[RetryNotice], None]


@dataclass(frozen=True, slots=True)
class S3Response:
    status: int
    headers: Mapping[str, str]
    body: bytes


class S3Client:
    """Low-level S3 requests with signing and retry. The Engine builds on this."""

    def __init__(
        self,
        config: ClientConfig,
        credentials: Credentials | None,
        *,
        rng: random.Random | None = None,
        on_retry: RetryCallback | None = None,
    ) -> None:
        self.config = config
        self.endpoint = parse_endpoint(config.endpoint_url, config.region)
        self._credentials = credentials
        self._signer = SigV4Signer(credentials, config.region) if credentials else None
        self._rng = rng or random.Random()
        self._session: aiohttp.ClientSession | None = None
        self._clock_offset_s = 0.0
        self.on_retry = on_retry

    def __repr__(self) -> str:
        where = f"{self.endpoint.scheme}://{self.endpoint.host}"
        return f"S3Client(endpoint={where}, region={self.config.region!r})"

    @property
    def region(self) -> str:
        return self.config.region

    # -- session ---------------------------------------------------------------------------
    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self.config.max_connections,
                limit_per_host=self.config.max_connections,
                ssl=bool(self.config.verify_ssl),
                ttl_dns_cache=300,
                keepalive_timeout=30,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    sock_connect=self.config.connect_timeout_s,
                    sock_read=self.config.read_timeout_s,
                ),
                auto_decompress=False,
                skip_auto_headers=("Accept-Encoding", "Content-Type"),
                headers={"User-Agent": f"s3z/{__version__}"},
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def __aenter__(self) -> S3Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- signing -----------------------------------------------------------------------------
    def _now(self) -> datetime:
        return datetime.fromtimestamp(time.time() + self._clock_offset_s, tz=UTC)

    def _target(self, bucket: str | None, key: str | None) -> tuple[str, str]:
        style = resolve_style(self.endpoint, bucket, self.config.addressing_style)
        return request_target(self.endpoint, bucket, key, style)

    def _sign(
        self,
        *,
        method: str,
        host: str,
        path: str,
        query: Sequence[tuple[str, str]],
        headers: Mapping[str, str],
        payload_hash: str,
    ) -> dict[str, str]:
        if self._signer is None:
            raise CredentialsError(
                "no credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, use --profile, "
                "or pass --access-key/--secret-key"
            )
        return self._signer.sign(
            method=method,
            host=host,
            path=path,
            query=query,
            headers=headers,
            payload_hash=payload_hash,
            now=self._now(),
        )

    def presign(
        self,
        method: str,
        bucket: str,
        key: str,
        expires_s: int,
        query: Sequence[tuple[str, str]] = (),
    ) -> str:
        if self._signer is None:
            raise CredentialsError("presigning needs credentials")
        host, path = self._target(bucket, key)
        full = self._signer.presign(
            method=method,
            host=host,
            path=path,
            query=list(query),
            expires_s=expires_s,
            now=self._now(),
        )
        return build_url(self.endpoint, host, path, full)

    # -- requests ----------------------------------------------------------------------------
    @staticmethod
    def _describe(bucket: str | None, key: str | None) -> str:
        if bucket and key is not None:
            return f"s3://{bucket}/{key}"
        return f"s3://{bucket}" if bucket else ""

    def _retry_wait(
        self, err: S3zError, attempt: int, operation: str, on_retry: RetryCallback | None
    ) -> float | None:
        """Seconds to wait before the next attempt, or None to give up."""
        if (
            isinstance(err, WrongRegionError)
            and err.region_hint
            and self._signer is not None
            and err.region_hint != self._signer.region
            and attempt < self.config.retry.max_attempts
        ):
            # AWS names the bucket's region: re-sign for it once (like botocore's redirect).
            log.info("%s: switching signing region to %s", operation, err.region_hint)
            self._signer = self._signer.with_region(err.region_hint)
            return 0.0
        if not err.retryable or attempt >= self.config.retry.max_attempts:
            return None
        delay = backoff_delay_s(attempt, self.config.retry, self._rng)
        if isinstance(err, ClockSkewError):
            offset = clock_offset_s(err.server_date, time.time())
            if offset is None:
                return None
            self._clock_offset_s = offset
            delay = 0.0
        reason = err.code if isinstance(err, ServiceError) else type(err).__name__
        notice = RetryNotice(operation=operation, attempt=attempt, reason=reason, delay_s=delay)
        log.debug("retrying %s (attempt %d, %s) in %.2fs", operation, attempt, reason, delay)
        for callback in (on_retry, self.on_retry):
            if callback is not None:
                callback(notice)
                break
        return delay

    async def request(
        self,
        operation: str,
        method: str,
        *,
        bucket: str | None = None,
        key: str | None = None,
        query: Sequence[tuple[str, str]] = (),
        headers: Mapping[str, str] | None = None,
        body: Body = None,
        progress: ProgressCallback | None = None,
        on_retry: RetryCallback | None = None,
        error_in_200: bool = False,
    ) -> S3Response:
        """Send one S3 request, retrying retryable failures with a fresh signature each time."""
        host, path = self._target(bucket, key)
        url = URL(build_url(self.endpoint, host, path, query), encoded=True)
        target = self._describe(bucket, key)
        base_headers = dict(headers or {})
        if isinstance(body, FileRange):
            payload_hash = UNSIGNED_PAYLOAD
            length = body.length
        elif body:
            payload_hash = hashlib.sha256(body).hexdigest()
            length = len(body)
        else:
            payload_hash = EMPTY_SHA256
            length = 0
        if method in ("PUT", "POST") or length:
            base_headers["Content-Length"] = str(length)
        # Streamed bodies report progress per chunk (and rewind it on a retry).
        streamed = isinstance(body, FileRange) or length > UPLOAD_CHUNK_BYTES

        session = self._ensure_session()
        attempt = 0
        while True:
            attempt += 1
            signed = self._sign(
                method=method,
                host=host,
                path=path,
                query=query,
                headers=base_headers,
                payload_hash=payload_hash,
            )
            counter = SentCounter()
            data: Any
            if isinstance(body, FileRange):
                data = stream_file_range(body, counter, progress)
            elif streamed and body is not None:
                data = stream_memory(body, counter, progress)
            else:
                # Small bodies: a fresh BytesIO per attempt (raw bytes over 1 MiB raise
                # aiohttp's ResourceWarning; larger ones are streamed above, uncopied).
                data = io.BytesIO(body) if body else None
            err: S3zError
            try:
                async with session.request(
                    method, url, headers=signed, data=data, allow_redirects=False
                ) as resp:
                    payload = await resp.read()
                    resp_headers = resp.headers
                    status = resp.status
            except TRANSPORT_EXCEPTIONS as exc:
                if counter.local_error is not None:
                    if counter.sent and progress is not None:
                        progress(-counter.sent)
                    raise counter.local_error from None
                err = transport_error(exc, operation=operation, target=target)
            except LocalFileError:
                if counter.sent and progress is not None:
                    progress(-counter.sent)
                raise
            else:
                if status < 300 and not (error_in_200 and is_error_document(payload)):
                    if progress is not None and not streamed and length:
                        progress(length)
                    return S3Response(status, resp_headers, payload)
                err = service_error(
                    status=status if status >= 300 else 500,
                    body=payload,
                    headers=resp_headers,
                    operation=operation,
                    bucket=bucket or "",
                    key=key or "",
                    signed_at_epoch_s=time.time() + self._clock_offset_s,
                )
            if counter.sent and progress is not None:
                progress(-counter.sent)
            delay = self._retry_wait(err, attempt, operation, on_retry)
            if delay is None:
                raise err
            await asyncio.sleep(delay)

    @asynccontextmanager
    async def open_get(
        self,
        bucket: str,
        key: str,
        *,
        byte_range: tuple[int, int] | None = None,
        on_retry: RetryCallback | None = None,
        operation: str = "GetObject",
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """A GET whose body the caller streams (``resp.content.readchunk()``).

        Retries cover getting the response headers; a body cut short mid-stream is the
        caller's to resume (it knows how far it got and re-asks for the rest).
        """
        host, path = self._target(bucket, key)
        url = URL(build_url(self.endpoint, host, path, ()), encoded=True)
        headers: dict[str, str] = {}
        if byte_range is not None:
            headers["Range"] = f"bytes={byte_range[0]}-{byte_range[1]}"
        session = self._ensure_session()
        target = self._describe(bucket, key)
        attempt = 0
        while True:
            attempt += 1
            signed = self._sign(
                method="GET",
                host=host,
                path=path,
                query=(),
                headers=headers,
                payload_hash=EMPTY_SHA256,
            )
            err: S3zError
            try:
                resp = await session.get(url, headers=signed, allow_redirects=False)
            except TRANSPORT_EXCEPTIONS as exc:
                err = transport_error(exc, operation=operation, target=target)
            else:
                if resp.status < 300:
                    try:
                        yield resp
                    finally:
                        resp.release()
                    return
                try:
                    payload = await resp.read()
                except TRANSPORT_EXCEPTIONS as exc:
                    payload = b""
                    log.debug("error body unreadable: %s", type(exc).__name__)
                finally:
                    resp.release()
                err = service_error(
                    status=resp.status,
                    body=payload,
                    headers=resp.headers,
                    operation=operation,
                    bucket=bucket,
                    key=key,
                    signed_at_epoch_s=time.time() + self._clock_offset_s,
                )
            delay = self._retry_wait(err, attempt, operation, on_retry)
            if delay is None:
                raise err
            await asyncio.sleep(delay)

    def retry_wait(
        self, err: S3zError, attempt: int, operation: str, on_retry: RetryCallback | None = None
    ) -> float | None:
        """Public for callers that resume streams themselves (downloads)."""
        return self._retry_wait(err, attempt, operation, on_retry)


def is_transport_failure(exc: BaseException) -> bool:
    return isinstance(exc, (*TRANSPORT_EXCEPTIONS, TransportError))
