"""What the transport tells its callers: retry notices, buffered responses, stream heads."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from s3z_core.protocol.responses import etag_of
from s3z_core.records import record


@record
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


@record
class S3Response:
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def etag(self) -> str:
        return etag_of(self.headers)


@record
class StreamHead:
    """The headers of one streamed GET attempt, told to the caller before its body.

    ``offset`` is where this attempt's bytes start; ``content_length`` is what the server
    says it will send from there (None when it does not say).
    """

    status: int
    headers: Mapping[str, str]
    offset: int
    content_length: int | None

    @property
    def etag(self) -> str:
        return etag_of(self.headers)
