"""S3Client: owns the aiohttp session, signs at send time, and runs the one attempt loop.

Every request — buffered (``request``) or streamed (``stream``) — goes through
``_attempts``: sign with the credentials and region current *now*, send, map the outcome
at the one boundary (``error_mapping``), and ask the pure ``retry.decide`` what next. A
streamed body cut short resumes from the last byte received as one more attempt of the same
budget, so a range can never cost more than ``max_attempts`` requests. The bucket's region
is learned from the server's answer and cached per bucket (two buckets in two regions are
served from one client without flip-flopping); the clock offset is adopted only when a
decision says so.

One ``ClientSession`` per client, created lazily inside the running loop (the constructor
does no I/O). HTTP/1.1, TCP_NODELAY, pool sized to the concurrency, TLS verification on
unless explicitly disabled. Every request with a body carries an explicit Content-Length
and is never chunked (some stores answer 411/501 otherwise).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import aiohttp
from yarl import URL

from s3z_core.config import ClientConfig
from s3z_core.credentials import CredentialProvider, Credentials, as_provider
from s3z_core.errors import (
    CredentialsError,
    LocalFileError,
    ProtocolError,
    S3zError,
    ServiceError,
    ThrottledError,
    TransportError,
)
from s3z_core.protocol.endpoints import (
    Endpoint,
    accelerate_endpoint,
    build_url,
    parse_endpoint,
    request_target,
    resolve_style,
)
from s3z_core.protocol.responses import is_error_document
from s3z_core.protocol.signing import EMPTY_SHA256, UNSIGNED_PAYLOAD, SigV4Signer
from s3z_core.transport.body import (
    Body,
    FileRange,
    ProgressCallback,
    SentCounter,
    stream_file_range,
)
from s3z_core.transport.connection import open_session, proxy_for, proxy_settings
from s3z_core.transport.error_mapping import TRANSPORT_EXCEPTIONS, service_error, transport_error
from s3z_core.transport.retry import GIVE_UP, CorrectClock, Decision, ResignForRegion, Retry, decide

log = logging.getLogger("s3z.transport")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryNotice:
    """Told to the caller before each backoff sleep (feeds PartRetried / RequestRetried).

    ``throttled`` is true when the server asked us to slow down (SlowDown, 503, 429 …),
    decided by the error's type, so a UI can mark throttling without reading codes.
    """

    operation: str
    attempt: int
    reason: str
    delay_s: float
    throttled: bool = False


RetryCallback = Callable[[RetryNotice], None]


@dataclass(frozen=True, slots=True)
class S3Response:
    status: int
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class StreamHead:
    """The headers of one streamed GET attempt, told to the caller before its body.

    ``offset`` is where this attempt's bytes start; ``content_length`` is what the server
    says it will send from there (None when it does not say).
    """

    status: int
    headers: Mapping[str, str]
    offset: int
    content_length: int | None


class S3Client:
    """Low-level S3 requests with signing and retry. The Engine builds on this."""

    def __init__(
        self,
        config: ClientConfig,
        credentials: Credentials | CredentialProvider | None,
        *,
        rng: random.Random | None = None,
        on_retry: RetryCallback | None = None,
    ) -> None:
        self.config = config
        self.endpoint = self._parse(config.endpoint_url, config.region)
        self._proxies = proxy_settings(config)
        self._provider = as_provider(credentials)
        self._signed_with: Credentials | None = None
        self._signers: dict[str, SigV4Signer] = {}
        self._bucket_regions: dict[str, str] = {}
        self._endpoints: dict[str, Endpoint] = {config.region: self.endpoint}
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

    @property
    def credential_source(self) -> str:
        return self._provider.source if self._provider is not None else "none"

    def region_for(self, bucket: str | None) -> str:
        """The region requests for ``bucket`` are signed for: learned, else configured."""
        if bucket:
            return self._bucket_regions.get(bucket, self.config.region)
        return self.config.region

    # -- session ---------------------------------------------------------------------------
    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = open_session(self.config)
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
        closer = getattr(self._provider, "aclose", None)  # a refresh may be in flight
        if closer is not None:
            await closer()

    async def __aenter__(self) -> S3Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- signing -----------------------------------------------------------------------------
    def _now(self) -> datetime:
        return datetime.fromtimestamp(time.time() + self._clock_offset_s, tz=UTC)

    def _parse(self, endpoint_url: str | None, region: str) -> Endpoint:
        return parse_endpoint(
            endpoint_url,
            region,
            dualstack=self.config.use_dualstack_endpoint,
            global_us_east_1=not self.config.us_east_1_regional_endpoint,
        )

    def _endpoint_for(self, region: str) -> Endpoint:
        """AWS serves each region at its own host; any other endpoint is region-agnostic."""
        endpoint = self._endpoints.get(region)
        if endpoint is None:
            endpoint = self._parse(None, region) if self.endpoint.is_aws else self.endpoint
            self._endpoints[region] = endpoint
        return endpoint

    def _target(
        self, bucket: str | None, key: str | None, region: str, operation: str = ""
    ) -> tuple[Endpoint, str, str]:
        endpoint = self._endpoint_for(region)
        style = self.config.addressing_style
        if self.config.use_accelerate_endpoint and endpoint.is_aws:
            fast = accelerate_endpoint(
                bucket, operation, dualstack=self.config.use_dualstack_endpoint
            )
            endpoint, style = (fast, "virtual") if fast is not None else (endpoint, style)
        style = resolve_style(endpoint, bucket, style)
        host, path = request_target(endpoint, bucket, key, style)
        return endpoint, host, path

    def _signer_for(self, credentials: Credentials, region: str) -> SigV4Signer:
        if credentials is not self._signed_with:  # refreshed: the cached signing keys are stale
            self._signers.clear()
            self._signed_with = credentials
        signer = self._signers.get(region)
        if signer is None:
            signer = self._signers[region] = SigV4Signer(credentials, region)
        return signer

    async def _signer(self, region: str) -> SigV4Signer:
        if self._provider is None:
            raise CredentialsError(
                "no credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, use --profile, "
                "or pass --access-key/--secret-key"
            )
        return self._signer_for(await self._provider.credentials(), region)

    def presign(
        self,
        method: str,
        bucket: str,
        key: str,
        expires_s: int,
        query: Sequence[tuple[str, str]] = (),
    ) -> str:
        credentials = self._provider.current() if self._provider is not None else None
        if credentials is None:
            source = self.credential_source
            raise CredentialsError(
                "presigning needs credentials"
                + (f" ({source} has not fetched any yet)" if self._provider else "")
            )
        region = self.region_for(bucket)
        endpoint, host, path = self._target(bucket, key, region, "GetObject")
        full = self._signer_for(credentials, region).presign(
            method=method,
            host=host,
            path=path,
            query=list(query),
            expires_s=expires_s,
            now=self._now(),
        )
        return build_url(endpoint, host, path, full)

    # -- the one attempt loop --------------------------------------------------------------------
    async def _attempts(
        self,
        operation: str,
        bucket: str | None,
        attempt: Callable[[int, str], Awaitable[T]],
        on_retry: RetryCallback | None,
    ) -> T:
        """Run ``attempt(number, region)`` until it returns or ``decide`` gives up."""
        number = 0
        while True:
            number += 1
            region = self.region_for(bucket)
            try:
                return await attempt(number, region)
            except S3zError as err:
                delay = self._after_failure(err, number, region, bucket, operation, on_retry)
            if delay:
                await asyncio.sleep(delay)

    def _after_failure(
        self,
        err: S3zError,
        number: int,
        region: str,
        bucket: str | None,
        operation: str,
        on_retry: RetryCallback | None,
    ) -> float:
        """Decide after attempt ``number`` failed: raise ``err``, or the seconds to wait."""
        decision = decide(
            err,
            number,
            self.config.retry,
            self._rng,
            signed_region=region,
            now_epoch_s=time.time(),
        )
        if decision is GIVE_UP:
            raise err
        delay = self._apply(decision, bucket, operation)
        self._notify(err, number, operation, delay, on_retry)
        return delay

    def _apply(self, decision: Decision, bucket: str | None, operation: str) -> float:
        """Carry out a decision's state change; the seconds to wait before the next attempt."""
        if isinstance(decision, ResignForRegion):
            log.info("%s s3://%s: signing for region %s", operation, bucket, decision.region)
            if bucket:
                self._bucket_regions[bucket] = decision.region
            return 0.0
        if isinstance(decision, CorrectClock):
            self._clock_offset_s = decision.offset_s
            return 0.0
        assert isinstance(decision, Retry)
        return decision.delay_s

    def _notify(
        self,
        err: S3zError,
        attempt: int,
        operation: str,
        delay_s: float,
        on_retry: RetryCallback | None,
    ) -> None:
        reason = err.code if isinstance(err, ServiceError) else type(err).__name__
        throttled = isinstance(err, ThrottledError)
        notice = RetryNotice(operation, attempt, reason, delay_s, throttled)
        log.debug("retrying %s (attempt %d, %s) in %.2fs", operation, attempt, reason, delay_s)
        callback = on_retry or self.on_retry
        if callback is not None:
            callback(notice)

    # -- buffered requests -----------------------------------------------------------------------
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
        session = self._ensure_session()
        describe = _describe(bucket, key)

        async def attempt(_number: int, region: str) -> S3Response:
            endpoint, host, path = self._target(bucket, key, region, operation)
            url = URL(build_url(endpoint, host, path, query), encoded=True)
            signer = await self._signer(region)
            signed = signer.sign(
                method=method,
                host=host,
                path=path,
                query=query,
                headers=base_headers,
                payload_hash=payload_hash,
                now=self._now(),
            )
            counter = SentCounter()
            data: Any
            if isinstance(body, FileRange):
                data = stream_file_range(body, counter, progress)
            else:
                # A fresh BytesIO per attempt: aiohttp sends it in slices without blocking
                # the loop (raw bytes over 1 MiB raise its ResourceWarning).
                data = io.BytesIO(body) if body else None
            try:
                async with session.request(
                    method,
                    url,
                    headers=signed,
                    data=data,
                    allow_redirects=False,
                    proxy=proxy_for(str(url), self._proxies),
                ) as resp:
                    payload = await resp.read()
                    resp_headers = resp.headers
                    status = resp.status
            except TRANSPORT_EXCEPTIONS as exc:
                _rewind(counter, progress)
                if counter.local_error is not None:
                    raise counter.local_error from None
                raise transport_error(exc, operation=operation, target=describe) from None
            except LocalFileError:
                _rewind(counter, progress)
                raise
            if status < 300 and not (error_in_200 and is_error_document(payload)):
                if progress is not None and not isinstance(body, FileRange) and length:
                    progress(length)
                return S3Response(status, resp_headers, payload)
            _rewind(counter, progress)
            raise service_error(
                status=status if status >= 300 else 500,
                body=payload,
                headers=resp_headers,
                operation=operation,
                bucket=bucket or "",
                key=key or "",
                signed_at_epoch_s=time.time() + self._clock_offset_s,
            )

        return await self._attempts(operation, bucket, attempt, on_retry)

    # -- streamed GETs ---------------------------------------------------------------------------
    async def stream(
        self,
        bucket: str,
        key: str,
        *,
        start: int = 0,
        end: int | None = None,
        ranged: bool = False,
        on_head: Callable[[StreamHead], None] | None = None,
        on_retry: RetryCallback | None = None,
        operation: str = "GetObject",
    ) -> AsyncGenerator[bytes, None]:
        """The bytes ``[start, end)`` of an object (``end=None``: to its end), as they arrive.

        ``ranged`` sends a Range header even for the first attempt (a part of a parallel
        download); otherwise only a resumed read does. ``on_head`` sees every attempt's
        headers before its body and may raise (the object changed, a wrong length) to stop.
        A body that breaks or ends early is resumed from the next byte as another attempt.
        """
        session = self._ensure_session()
        describe = _describe(bucket, key)
        pos = start
        number = 0
        while True:
            number += 1
            region = self.region_for(bucket)
            try:
                if end is not None and pos >= end and (ranged or pos > start):
                    return  # nothing (left) to read
                resp = await self._open(session, bucket, key, region, start, pos, end, ranged)
                try:
                    head = StreamHead(resp.status, resp.headers, pos, resp.content_length)
                    if end is None and head.content_length is not None:
                        end = pos + head.content_length  # an open read learns its length
                    if on_head is not None:
                        on_head(head)
                    content = resp.content
                    while True:
                        try:
                            chunk, _ = await content.readchunk()
                        except TRANSPORT_EXCEPTIONS as exc:
                            raise transport_error(
                                exc, operation=operation, target=describe
                            ) from None
                        if not chunk:
                            break
                        pos += len(chunk)
                        yield chunk
                finally:
                    resp.release()
                if end is None or pos == end:
                    return
                if pos > end:
                    raise ProtocolError(
                        f"{operation} {describe}: server sent more bytes than asked"
                    )
                raise TransportError(
                    f"body ended at byte {pos} of {end}", operation=operation, target=describe
                )
            except S3zError as err:
                delay = self._after_failure(err, number, region, bucket, operation, on_retry)
            if delay:
                await asyncio.sleep(delay)

    async def _open(
        self,
        session: aiohttp.ClientSession,
        bucket: str,
        key: str,
        region: str,
        start: int,
        pos: int,
        end: int | None,
        ranged: bool,
    ) -> aiohttp.ClientResponse:
        """Send one GET (from ``pos``) and return its response once the status is good."""
        endpoint, host, path = self._target(bucket, key, region, "GetObject")
        url = URL(build_url(endpoint, host, path, ()), encoded=True)
        headers: dict[str, str] = {}
        if ranged or pos > start:
            headers["Range"] = f"bytes={pos}-{'' if end is None else end - 1}"
        signer = await self._signer(region)
        signed = signer.sign(
            method="GET",
            host=host,
            path=path,
            query=(),
            headers=headers,
            payload_hash=EMPTY_SHA256,
            now=self._now(),
        )
        try:
            resp = await session.get(
                url,
                headers=signed,
                allow_redirects=False,
                proxy=proxy_for(str(url), self._proxies),
            )
        except TRANSPORT_EXCEPTIONS as exc:
            raise transport_error(
                exc, operation="GetObject", target=_describe(bucket, key)
            ) from None
        if resp.status < 300:
            return resp
        try:
            payload = await resp.read()
        except TRANSPORT_EXCEPTIONS as exc:
            payload = b""
            log.debug("error body unreadable: %s", type(exc).__name__)
        finally:
            resp.release()
        raise service_error(
            status=resp.status,
            body=payload,
            headers=resp.headers,
            operation="GetObject",
            bucket=bucket,
            key=key,
            signed_at_epoch_s=time.time() + self._clock_offset_s,
        )


def _describe(bucket: str | None, key: str | None) -> str:
    if bucket and key is not None:
        return f"s3://{bucket}/{key}"
    return f"s3://{bucket}" if bucket else ""


def _rewind(counter: SentCounter, progress: ProgressCallback | None) -> None:
    """An attempt that failed after sending body bytes takes its progress back."""
    if counter.sent and progress is not None:
        progress(-counter.sent)
        counter.sent = 0
