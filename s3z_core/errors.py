"""The typed error tree of s3z. Callers branch on types, never on message text.

::

    S3zError
    ├── ConfigError ─────────────── bad settings; also a ValueError
    │   └── InvalidValueError ───── zero/negative workers, part size, …
    ├── CredentialsError ────────── no credentials found, bad profile
    ├── TransportError ──────────── the request never got a complete answer (retryable)
    │   ├── ConnectError
    │   │   └── TLSVerificationError  bad certificate (not retryable)
    │   └── ReadTimeoutError
    ├── ServiceError ────────────── the server answered with an S3 error (code, status, …)
    │   ├── RetryableServiceError ─ 5xx, SlowDown, RequestTimeout, 429 (retryable)
    │   ├── ClockSkewError ──────── RequestTimeTooSkewed (retried once the offset is fixed)
    │   ├── WrongRegionError ────── the server wants another signing region
    │   ├── NoSuchBucketError
    │   ├── NoSuchKeyError
    │   └── AccessDeniedError
    ├── ProtocolError ───────────── a response we cannot parse
    └── TransferError ───────────── a file-level failure inside a transfer
        ├── UnsafeKeyError ──────── a key that would land outside the destination
        ├── LocalFileError ──────── unreadable source / unwritable destination
        ├── SourceStreamError ───── the byte stream feeding an upload failed or ended early
        ├── VerificationError ───── size or checksum mismatch after download
        ├── MultipartAbortError ─── could not abort an upload (storage may leak)
        └── TransferCancelledError  one file cancelled inside a batch that goes on

Every message names the operation and the object; none ever contains a secret.
"""

from __future__ import annotations


class S3zError(Exception):
    """Root of every error s3z raises on purpose."""

    retryable: bool = False


class ConfigError(S3zError, ValueError):
    """Settings that cannot work (bad URL, bad profile, bad option)."""


class InvalidValueError(ConfigError):
    """A numeric knob that must be positive was zero or negative (never a silent no-op)."""


class CredentialsError(S3zError):
    """Credentials are missing or unusable."""


class TransportError(S3zError):
    """The request did not complete (connection reset, refused, timed out)."""

    retryable = True

    def __init__(self, message: str, *, operation: str = "", target: str = "") -> None:
        self.operation = operation
        self.target = target
        prefix = " ".join(p for p in (operation, target) if p)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class ConnectError(TransportError):
    """Could not connect to the endpoint."""


class TLSVerificationError(ConnectError):
    """The server's certificate did not verify: retrying cannot help (and we never skip it)."""

    retryable = False


class ReadTimeoutError(TransportError):
    """The server stopped sending within the read timeout."""


class ServiceError(S3zError):
    """The server answered with an S3 error document (or an error status)."""

    def __init__(
        self,
        *,
        code: str,
        status: int,
        message: str = "",
        request_id: str = "",
        operation: str = "",
        bucket: str = "",
        key: str = "",
        region_hint: str = "",
        server_date: str = "",
    ) -> None:
        self.code = code
        self.status = status
        self.message = message
        self.request_id = request_id
        self.operation = operation
        self.bucket = bucket
        self.key = key
        self.region_hint = region_hint
        self.server_date = server_date
        super().__init__(self._render())

    def _render(self) -> str:
        target = (
            f"s3://{self.bucket}/{self.key}"
            if self.key
            else (f"s3://{self.bucket}" if self.bucket else "")
        )
        head = " ".join(p for p in (self.operation, target) if p)
        text = f"{self.code} (HTTP {self.status})"
        if self.message:
            text += f": {self.message}"
        if self.request_id:
            text += f" [request id {self.request_id}]"
        return f"{head}: {text}" if head else text


class RetryableServiceError(ServiceError):
    """5xx, 429, SlowDown, RequestTimeout: the same request may succeed later."""

    retryable = True


class ClockSkewError(ServiceError):
    """RequestTimeTooSkewed: retried after correcting the clock offset from the server Date."""

    retryable = True


class WrongRegionError(ServiceError):
    """The server rejects our signing region (Garage, AWS redirects); names the one it wants."""


class NoSuchBucketError(ServiceError):
    """The bucket does not exist."""


class NoSuchKeyError(ServiceError):
    """The object does not exist."""


class AccessDeniedError(ServiceError):
    """Credentials are valid but not allowed (or the signature does not match)."""


class ProtocolError(S3zError):
    """A response we could not understand (malformed XML, missing fields)."""


class TransferError(S3zError):
    """A failure of one file inside a transfer; the batch goes on."""


class UnsafeKeyError(TransferError):
    """A key that would be written outside the destination folder; skipped."""

    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        self.reason = reason
        super().__init__(f"unsafe key {key!r} skipped: {reason}")


class LocalFileError(TransferError):
    """A local file could not be read or written."""


class SourceStreamError(TransferError):
    """The byte stream an upload reads from (an HTTP request body, another store's GET)
    raised, or delivered a length other than the one declared; the upload was aborted."""


class VerificationError(TransferError):
    """Downloaded bytes do not match the object's size or checksum."""


class MultipartAbortError(TransferError):
    """AbortMultipartUpload failed: the parts may keep costing storage until aborted."""


class TransferCancelledError(TransferError):
    """The user cancelled this file (the batch went on); nothing was left behind."""
