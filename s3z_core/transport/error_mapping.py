"""The one boundary where HTTP statuses, S3 error codes and transport exceptions become our types.

Retryability follows from the class chosen here (by status and code), never from message text.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

from s3z_core.errors import (
    AccessDeniedError,
    ClockSkewError,
    ConnectError,
    NoSuchBucketError,
    NoSuchKeyError,
    ReadTimeoutError,
    RetryableServiceError,
    ServiceError,
    ThrottledError,
    TLSVerificationError,
    TransportError,
    WrongRegionError,
)
from s3z_core.protocol.responses import parse_error
from s3z_core.transport.answers import (
    BrokenResponseError,
    CannotConnectError,
    CertificateRejectedError,
)
from s3z_core.transport.retry import clock_offset_s

# The server is shedding load: back off (and a UI may mark it as throttling).
THROTTLING_CODES = frozenset(
    {
        "SlowDown",
        "ServiceUnavailable",
        "Throttling",
        "ThrottlingException",
        "RequestThrottled",
        "TooManyRequests",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
    }
)
RETRYABLE_CODES = THROTTLING_CODES | {"RequestTimeout", "InternalError", "OperationAborted"}
ACCESS_CODES = frozenset(
    {"AccessDenied", "SignatureDoesNotMatch", "InvalidAccessKeyId", "InvalidToken", "ExpiredToken"}
)
REGION_CODES = frozenset(
    {"AuthorizationHeaderMalformed", "PermanentRedirect", "IllegalLocationConstraintException"}
)

# S3 refuses signatures more than 15 minutes off; a bodiless 403 (HEAD) with a server Date
# that far from ours is clock skew, not a permission problem (botocore checks the same way).
MAX_SKEW_S = 900.0
PERMANENT_5XX = frozenset({501, 505})

_HEAD_CODES = {301: "PermanentRedirect", 400: "BadRequest", 403: "Forbidden", 404: "NotFound"}


def service_error(
    *,
    status: int,
    body: bytes,
    headers: Mapping[str, str],
    operation: str,
    bucket: str = "",
    key: str = "",
    signed_at_epoch_s: float | None = None,
) -> ServiceError:
    """Build the typed error for a non-2xx response (or a 200 that carries ``<Error>``)."""
    fields = parse_error(body)
    code = fields.get("Code") or _HEAD_CODES.get(status, f"HTTP{status}")
    if not fields and status == 404:
        code = "NoSuchKey" if key else "NoSuchBucket"
    region_hint = fields.get("Region", "") or headers.get("x-amz-bucket-region", "")
    cls: type[ServiceError]
    if not fields and status == 403:
        signed_at = time.time() if signed_at_epoch_s is None else signed_at_epoch_s
        offset = clock_offset_s(headers.get("Date", ""), signed_at)
        if offset is not None and abs(offset) > MAX_SKEW_S:
            code = "RequestTimeTooSkewed"
    if code == "RequestTimeTooSkewed":
        cls = ClockSkewError
    elif code in REGION_CODES or (status == 301 and region_hint):
        cls = WrongRegionError
    elif code == "NoSuchBucket":
        cls = NoSuchBucketError
    elif code == "NoSuchKey":
        cls = NoSuchKeyError
    elif code in ACCESS_CODES or (status == 403 and code == "Forbidden"):
        cls = AccessDeniedError
    elif code in THROTTLING_CODES or status in (429, 503):
        cls = ThrottledError
    elif code in RETRYABLE_CODES or (status >= 500 and status not in PERMANENT_5XX):
        cls = RetryableServiceError
    else:
        cls = ServiceError
    message = fields.get("Message", "")
    if cls is WrongRegionError and region_hint:
        message = (
            f"{message} — the server expects region {region_hint!r} (use --region {region_hint})"
        )
    return cls(
        code=code,
        status=status,
        message=message,
        request_id=fields.get("RequestId", "") or headers.get("x-amz-request-id", ""),
        operation=operation,
        bucket=bucket,
        key=key,
        region_hint=region_hint,
        server_date=headers.get("Date", ""),
    )


class LibraryError(ConnectionError):
    """An exception of aiohttp, carried as a ``ConnectionError`` so that the one ``except
    TRANSPORT_EXCEPTIONS`` catches it without this module importing aiohttp."""

    def __init__(self, original: BaseException) -> None:
        super().__init__(str(original))
        self.original = original


def tls_rejected(exc: BaseException, operation: str, target: str) -> TLSVerificationError:
    return TLSVerificationError(
        f"TLS certificate verification failed ({exc}); fix the certificate or trust its CA "
        "(SSL_CERT_FILE) — verification is never skipped silently",
        operation=operation,
        target=target,
    )


def transport_error(exc: BaseException, *, operation: str, target: str) -> TransportError:
    """Failures while sending or receiving → our retryable transport errors."""
    if isinstance(exc, LibraryError):
        exc = exc.original
    if type(exc).__module__.startswith("aiohttp"):  # raised only once aiohttp is loaded
        from s3z_core.transport.via_aiohttp import map_failure

        return map_failure(exc, operation, target)
    if isinstance(exc, asyncio.TimeoutError):
        return ReadTimeoutError("timed out", operation=operation, target=target)
    if isinstance(exc, CertificateRejectedError):
        return tls_rejected(exc, operation, target)
    if isinstance(exc, CannotConnectError):  # the direct path's (transport/direct.py)
        return ConnectError(f"cannot connect ({exc})", operation=operation, target=target)
    if isinstance(exc, BrokenResponseError):
        return TransportError(str(exc), operation=operation, target=target)
    return TransportError(f"{type(exc).__name__}: {exc}", operation=operation, target=target)


# aiohttp's own exceptions reach the client as LibraryError (via_aiohttp.py wraps them).
TRANSPORT_EXCEPTIONS: tuple[type[BaseException], ...] = (asyncio.TimeoutError, ConnectionError)
