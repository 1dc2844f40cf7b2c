"""Status/code → typed error, and retryability by type (never by message text)."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey

from s3z_core.errors import (
    AccessDeniedError,
    ClockSkewError,
    ConnectError,
    NoSuchBucketError,
    NoSuchKeyError,
    ReadTimeoutError,
    RetryableServiceError,
    S3zError,
    ServiceError,
    ThrottledError,
    TransportError,
    WrongRegionError,
)
from s3z_core.transport.error_mapping import service_error, transport_error


def _error_doc(code: str, message: str = "msg", **extra: str) -> bytes:
    fields = "".join(f"<{k}>{v}</{k}>" for k, v in extra.items())
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
        f"<Message>{message}</Message>{fields}<RequestId>RID-1</RequestId></Error>"
    ).encode()


@pytest.mark.parametrize(
    ("status", "code", "cls", "retryable"),
    [
        (503, "SlowDown", ThrottledError, True),
        (503, "ServiceUnavailable", ThrottledError, True),
        (500, "InternalError", RetryableServiceError, True),
        (400, "RequestTimeout", RetryableServiceError, True),
        (429, "TooManyRequests", ThrottledError, True),
        (400, "Throttling", ThrottledError, True),
        (502, "BadGateway", RetryableServiceError, True),
        (403, "AccessDenied", AccessDeniedError, False),
        (403, "SignatureDoesNotMatch", AccessDeniedError, False),
        (403, "InvalidAccessKeyId", AccessDeniedError, False),
        (400, "ExpiredToken", AccessDeniedError, False),
        (403, "RequestTimeTooSkewed", ClockSkewError, True),
        (404, "NoSuchBucket", NoSuchBucketError, False),
        (404, "NoSuchKey", NoSuchKeyError, False),
        (400, "AuthorizationHeaderMalformed", WrongRegionError, False),
        (301, "PermanentRedirect", WrongRegionError, False),
        (409, "BucketNotEmpty", ServiceError, False),
        (409, "BucketAlreadyOwnedByYou", ServiceError, False),
        (400, "InvalidPart", ServiceError, False),
        (400, "EntityTooSmall", ServiceError, False),
        (412, "PreconditionFailed", ServiceError, False),
    ],
)
def test_error_document_maps_by_status_and_code(
    status: int, code: str, cls: type[ServiceError], retryable: bool
) -> None:
    err = service_error(
        status=status,
        body=_error_doc(code, "the message"),
        headers={"Date": "Tue, 02 Jan 2024 03:04:05 GMT"},
        operation="PutObject",
        bucket="bkt",
        key="a b/c",
    )
    assert type(err) is cls
    assert err.retryable is retryable
    assert err.code == code
    assert err.status == status
    assert err.request_id == "RID-1"
    assert err.server_date == "Tue, 02 Jan 2024 03:04:05 GMT"
    text = str(err)
    assert "PutObject" in text
    assert "s3://bkt/a b/c" in text
    assert code in text
    assert "the message" in text


def test_retryability_is_by_type_not_by_message_text() -> None:
    # A non-retryable code whose message talks about "SlowDown" and "retry" stays fatal.
    err = service_error(
        status=400,
        body=_error_doc("InvalidArgument", "SlowDown: please retry InternalError"),
        headers={},
        operation="PutObject",
    )
    assert type(err) is ServiceError
    assert not err.retryable
    # ... and a retryable code with an unhelpful message is still retried.
    err = service_error(status=503, body=_error_doc("SlowDown", ""), headers={}, operation="x")
    assert isinstance(err, RetryableServiceError)


@pytest.mark.parametrize(
    ("status", "key", "cls", "code", "retryable"),
    [
        # HEAD responses have no body: the status alone decides.
        (404, "k", NoSuchKeyError, "NoSuchKey", False),
        (404, "", NoSuchBucketError, "NoSuchBucket", False),
        (403, "k", AccessDeniedError, "Forbidden", False),
        (400, "k", ServiceError, "BadRequest", False),
        (500, "k", RetryableServiceError, "HTTP500", True),
        (503, "k", ThrottledError, "HTTP503", True),
        (429, "k", ThrottledError, "HTTP429", True),
        (409, "k", ServiceError, "HTTP409", False),
        # 501 NotImplemented is a permanent answer: retrying cannot make it implemented.
        (501, "k", ServiceError, "HTTP501", False),
    ],
)
def test_bodyless_errors_map_by_status(
    status: int, key: str, cls: type[ServiceError], code: str, retryable: bool
) -> None:
    err = service_error(
        status=status, body=b"", headers={}, operation="HeadObject", bucket="b", key=key
    )
    assert type(err) is cls
    assert err.code == code
    assert err.retryable is retryable


def test_non_xml_body_falls_back_to_status() -> None:
    err = service_error(
        status=502,
        body=b"<html><body>Bad Gateway</body></html>",
        headers={},
        operation="GetObject",
    )
    assert isinstance(err, RetryableServiceError)
    assert err.code == "HTTP502"


def test_wrong_region_names_the_expected_region() -> None:
    body = _error_doc(
        "AuthorizationHeaderMalformed",
        "unexpected scope: 20240102/us-east-1/s3/aws4_request",
        Region="garage",
    )
    err = service_error(status=400, body=body, headers={}, operation="ListBuckets")
    assert isinstance(err, WrongRegionError)
    assert err.region_hint == "garage"
    assert "'garage'" in str(err)
    assert "--region garage" in str(err)


def test_redirect_without_body_uses_bucket_region_header() -> None:
    err = service_error(
        status=301,
        body=b"",
        headers={"x-amz-bucket-region": "eu-west-3"},
        operation="HeadBucket",
        bucket="b",
    )
    assert isinstance(err, WrongRegionError)
    assert err.region_hint == "eu-west-3"
    assert "eu-west-3" in str(err)


def test_request_id_falls_back_to_header() -> None:
    body = b"<Error><Code>SlowDown</Code><Message>m</Message></Error>"
    err = service_error(
        status=503, body=body, headers={"x-amz-request-id": "HDR-9"}, operation="PutObject"
    )
    assert err.request_id == "HDR-9"
    assert "HDR-9" in str(err)


def test_namespaced_error_document_is_understood() -> None:
    body = (
        b'<Error xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        b"<Code>NoSuchKey</Code><Message>gone</Message></Error>"
    )
    err = service_error(status=404, body=body, headers={}, operation="GetObject", key="k")
    assert isinstance(err, NoSuchKeyError)
    assert err.message == "gone"


def _conn_key() -> ConnectionKey:
    return ConnectionKey("127.0.0.1", 1, False, True, None, None, None)


@pytest.mark.parametrize(
    ("exc", "cls"),
    [
        (TimeoutError(), ReadTimeoutError),
        (aiohttp.ServerTimeoutError("read"), ReadTimeoutError),
        (
            aiohttp.ClientConnectorError(_conn_key(), ConnectionRefusedError(111, "refused")),
            ConnectError,
        ),
        (aiohttp.ServerDisconnectedError(), TransportError),
        (aiohttp.ClientPayloadError("cut"), TransportError),
        (aiohttp.ClientOSError(104, "Connection reset by peer"), TransportError),
        (ConnectionResetError(104, "reset"), TransportError),
    ],
)
def test_transport_exceptions_become_retryable_transport_errors(
    exc: BaseException, cls: type[TransportError]
) -> None:
    err = transport_error(exc, operation="GetObject", target="s3://b/k")
    assert type(err) is cls
    assert isinstance(err, S3zError)
    assert err.retryable
    assert str(err).startswith("GetObject s3://b/k: ")
    assert err.operation == "GetObject"
    assert err.target == "s3://b/k"


def test_connect_error_names_the_os_reason() -> None:
    exc = aiohttp.ClientConnectorError(_conn_key(), ConnectionRefusedError(111, "refused"))
    err = transport_error(exc, operation="ListBuckets", target="")
    assert "refused" in str(err)
