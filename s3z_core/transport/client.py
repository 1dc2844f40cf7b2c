"""S3Client: owns the connections (``routes``), signs at send time, runs the one attempt loop.

Every request — buffered (``request``) or streamed (``stream``) — goes through
``_attempts``: sign with the credentials and region current *now*, send, map the outcome
at the one boundary (``error_mapping``), and ask the pure ``retry.decide`` what next. A
streamed body cut short resumes from the last byte received as one more attempt of the same
budget, so a range can never cost more than ``max_attempts`` requests. The bucket's region
is learned from the server's answer and cached per bucket (two buckets in two regions are
served from one client without flip-flopping); the clock offset is adopted only when a
decision says so.

Connections are made lazily inside the running loop (the constructor does no I/O): GETs and
requests with an in-memory body on the direct pool, streamed uploads through aiohttp
(``routes.py``). HTTP/1.1,
TCP_NODELAY, pools sized to the concurrency, TLS verification on unless explicitly disabled.
Every request with a body carries an explicit Content-Length and is never chunked (some
stores answer 411/501 otherwise).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from s3z_core.config import UPLOAD_CHUNK_BYTES, ClientConfig
from s3z_core.credentials import CredentialProvider, Credentials
from s3z_core.errors import (
    LocalFileError,
    ProtocolError,
    S3zError,
    ServiceError,
    ThrottledError,
    TransportError,
)
from s3z_core.protocol.responses import is_error_document
from s3z_core.protocol.signing import EMPTY_SHA256, UNSIGNED_PAYLOAD
from s3z_core.transport.addressing import Addressing
from s3z_core.transport.answers import DirectResponse
from s3z_core.transport.bandwidth import TokenBucket
from s3z_core.transport.body import (
    Body,
    FileRange,
    ProgressCallback,
    SentCounter,
    stream_file_range,
    stream_memory,
)
from s3z_core.transport.error_mapping import TRANSPORT_EXCEPTIONS, service_error, transport_error
from s3z_core.transport.messages import RetryCallback, RetryNotice, S3Response, StreamHead
from s3z_core.transport.retry import GIVE_UP, CorrectClock, Decision, ResignForRegion, Retry, decide
from s3z_core.transport.routes import Routes

if TYPE_CHECKING:
    from s3z_core.transport.via_aiohttp import Streamed

log = logging.getLogger("s3z.transport")
T = TypeVar("T")


class S3Client:
    """Low-level S3 requests with signing and retry. The Engine builds on this."""

    def __init__(
        self,
        config: ClientConfig,
        credentials: Credentials | CredentialProvider | None,
        *,
        rng: random.Random | None = None,
        on_retry: RetryCallback | None = None,
        bandwidth: TokenBucket | None = None,
    ) -> None:
        self.config = config
        self._pace = bandwidth.take if bandwidth is not None else None  # the cap on bodies
        self.addressing = Addressing(config, credentials)
        self.endpoint = self.addressing.endpoint
        self.presign = self.addressing.presign  # a URL to hand out: signed, never sent
        self.routes = Routes(config, https=self.endpoint.scheme == "https")
        self._rng = rng or random.Random()
        self.on_retry = on_retry

    def __repr__(self) -> str:
        where = f"{self.endpoint.scheme}://{self.endpoint.host}"
        return f"S3Client(endpoint={where}, region={self.config.region!r})"

    @property
    def region(self) -> str:
        return self.config.region

    @property
    def credential_source(self) -> str:
        provider = self.addressing.provider
        return provider.source if provider is not None else "none"

    def region_for(self, bucket: str | None) -> str:
        return self.addressing.region_for(bucket)

    # -- session ---------------------------------------------------------------------------
    async def close(self) -> None:
        await self.routes.close()
        closer = getattr(self.addressing.provider, "aclose", None)  # a refresh may be in flight
        if closer is not None:
            await closer()

    async def __aenter__(self) -> S3Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

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
            self.addressing.learn_region(bucket, decision.region)
            return 0.0
        if isinstance(decision, CorrectClock):
            self.addressing.clock_offset_s = decision.offset_s
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
        unsigned_payload: bool = False,
    ) -> S3Response:
        """Send one S3 request, retrying retryable failures with a fresh signature each time.

        ``unsigned_payload`` skips hashing an in-memory body on the loop: a file's snapshot is
        sent like the file range it stands for (streamed ranges are never hashed either)."""
        base_headers = dict(headers or {})
        if isinstance(body, FileRange) or (unsigned_payload and body):
            payload_hash = UNSIGNED_PAYLOAD
            length = body.length if isinstance(body, FileRange) else len(body)
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
        direct = not streamed
        describe = _describe(bucket, key)

        async def attempt(_number: int, region: str) -> S3Response:
            where, signed = await self.addressing.sign(
                method, bucket, key, operation, region, query, base_headers, payload_hash
            )
            counter = SentCounter()
            data: Any
            if isinstance(body, FileRange):
                data = stream_file_range(body, counter, progress, self._pace)
            elif streamed and body is not None:
                data = stream_memory(body, counter, progress, self._pace)  # slices, no copy
            else:
                if self._pace is not None and length:  # a small body goes whole, paced too
                    await self._pace(length)
                # Small bodies (at most UPLOAD_CHUNK_BYTES; larger ones are streamed above)
                # go as they are: aiohttp sends bytes in one write, where a BytesIO copied
                # them first (its getbuffer unshares). Raw bytes warn only over 1 MiB.
                data = body or None
            try:
                status, resp_headers, payload = await self.routes.exchange(
                    method, where, signed, data, direct=direct
                )
            except TRANSPORT_EXCEPTIONS as exc:
                _rewind(counter, progress)
                if counter.local_error is not None:
                    raise counter.local_error from None
                raise transport_error(exc, operation=operation, target=describe) from None
            except LocalFileError:
                _rewind(counter, progress)
                raise
            if status < 300 and not (error_in_200 and is_error_document(payload)):
                if progress is not None and not streamed and length:
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
                signed_at_epoch_s=time.time() + self.addressing.clock_offset_s,
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
        query: Sequence[tuple[str, str]] = (),
    ) -> AsyncGenerator[bytes, None]:
        """The bytes ``[start, end)`` of an object (``end=None``: to its end), as they arrive.

        ``ranged`` sends a Range header even for the first attempt (a part of a parallel
        download); otherwise only a resumed read does. ``on_head`` sees every attempt's
        headers before its body and may raise (the object changed, a wrong length) to stop.
        A body that breaks or ends early is resumed from the next byte as another attempt.
        ``query``: e.g. ``versionId`` (every attempt reads that one version).
        """
        describe = _describe(bucket, key)
        pos = start
        number = 0
        while True:
            number += 1
            region = self.region_for(bucket)
            try:
                if end is not None and pos >= end and (ranged or pos > start):
                    return  # nothing (left) to read
                resp = await self._open(bucket, key, region, start, pos, end, ranged, query)
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
                        if self._pace is not None:  # not reading on slows the sender (TCP)
                            await self._pace(len(chunk))
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
        bucket: str,
        key: str,
        region: str,
        start: int,
        pos: int,
        end: int | None,
        ranged: bool,
        query: Sequence[tuple[str, str]],
    ) -> DirectResponse | Streamed:
        """Send one GET (from ``pos``) and return its response once the status is good."""
        headers: dict[str, str] = {}
        if ranged or pos > start:
            headers["Range"] = f"bytes={pos}-{'' if end is None else end - 1}"
        where, signed = await self.addressing.sign(
            "GET", bucket, key, "GetObject", region, query, headers, EMPTY_SHA256
        )
        try:
            resp = await self.routes.open_get(where, signed)
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
            signed_at_epoch_s=time.time() + self.addressing.clock_offset_s,
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
