"""The engine's typed error tree, mapped to HTTP statuses in one place.

The body is always ``{"error": kind, "code": s3 code, "message": message}``: ``kind`` is
the engine's error class (clients branch on it, never on the text), ``code`` the S3 error
code when the store sent one, ``message`` the engine's own message (operation and object
named, never a secret).
"""

from __future__ import annotations

from http import HTTPStatus

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from examples.fastapi_service.models import ErrorBody
from s3z_core.errors import (
    AccessDeniedError,
    ConfigError,
    NoSuchBucketError,
    NoSuchKeyError,
    RetryableServiceError,
    S3zError,
    ServiceError,
    SourceStreamError,
    TransportError,
    UnsafeKeyError,
)


def http_status(error: S3zError) -> int:
    """Missing things are 404, refusals 403, bad input 400, a store that is busy 503 and
    one we could not reach 502. A store's other 4xx answers (BucketNotEmpty 409,
    InvalidBucketName 400, …) keep their status: they are the caller's to fix, not ours.
    Everything else is our failure: 500."""
    if isinstance(error, NoSuchKeyError | NoSuchBucketError):
        return 404
    if isinstance(error, AccessDeniedError):
        return 403
    if isinstance(error, ConfigError | SourceStreamError | UnsafeKeyError):
        return 400  # bad settings or values, or a request body that broke off
    if isinstance(error, RetryableServiceError):
        return 503
    if isinstance(error, TransportError):
        return 502
    if isinstance(error, ServiceError) and 400 <= error.status < 500:
        return error.status
    return 500


def error_body(error: S3zError) -> ErrorBody:
    return ErrorBody(
        error=type(error).__name__,
        code=error.code if isinstance(error, ServiceError) else "",
        message=str(error),
    )


async def engine_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, S3zError)  # registered for S3zError only
    return JSONResponse(error_body(exc).model_dump(), status_code=http_status(exc))


async def http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """The service's own refusals (unknown route or copy id, bad header) in the same shape."""
    assert isinstance(exc, HTTPException)
    kind = HTTPStatus(exc.status_code).phrase.replace(" ", "")
    body = ErrorBody(error=kind, code="", message=str(exc.detail))
    return JSONResponse(body.model_dump(), status_code=exc.status_code, headers=exc.headers)


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in (
        (400, "Bad input (ConfigError, InvalidValueError, a broken request body)"),
        (403, "AccessDeniedError"),
        (404, "NoSuchKeyError or NoSuchBucketError"),
        (500, "Any other engine error"),
        (502, "TransportError: the store could not be reached"),
        (503, "RetryableServiceError: the store is busy; try again"),
    )
}
