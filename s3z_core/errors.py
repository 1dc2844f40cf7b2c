"""The typed error tree of s3z. Callers branch on types, never on message text.

::

    S3zError
    ├── ConfigError ─────────────── bad settings; also a ValueError
    │   └── InvalidValueError ───── zero/negative workers, part size, …
    ├── CredentialsError ────────── no credentials found, bad profile
    │   └── CredentialProviderError  one provider failed (names it and the fix)
    │       └── MfaRequiredError ─── a role needs an MFA code and nobody can type it
    ├── TransportError ──────────── the request never got a complete answer (retryable)
    │   ├── ConnectError
    │   │   └── TLSVerificationError  bad certificate (not retryable)
    │   └── ReadTimeoutError
    ├── ServiceError ────────────── the server answered with an S3 error (code, status, …)
    │   ├── RetryableServiceError ─ 5xx, RequestTimeout, InternalError (retryable)
    │   │   └── ThrottledError ──── SlowDown, 503, 429, Throttling: the server asks us to slow down
    │   ├── ClockSkewError ──────── RequestTimeTooSkewed (retried once the offset is fixed)
    │   ├── WrongRegionError ────── the server wants another signing region
    │   ├── NoSuchBucketError
    │   ├── NoSuchKeyError
    │   └── AccessDeniedError
    ├── ObjectChangedError ──────── an edit's object was replaced since it was read
    ├── ProtocolError ───────────── a response we cannot parse
    │   └── DamagedListingError ─── a listing whose entries did not all parse
    └── TransferError ───────────── a file-level failure inside a transfer
        ├── UnsafeKeyError ──────── a key that would land outside the destination
        ├── LocalFileError ──────── unreadable source / unwritable destination
        ├── SourceStreamError ───── the byte stream feeding an upload failed or ended early
        ├── VerificationError ───── size or checksum mismatch after download
        ├── MultipartAbortError ─── could not abort an upload (storage may leak)
        ├── TransferCancelledError  one file cancelled inside a batch that goes on
        └── UnexpectedError ─────── a bug met while transferring one file (the batch goes on)

Every message names the operation and the object; none ever contains a secret.
"""

from __future__ import annotations

from dataclasses import dataclass


class S3zError(Exception):
    """Root of every error s3z raises on purpose."""

    retryable: bool = False


class ConfigError(S3zError, ValueError):
    """Settings that cannot work (bad URL, bad profile, bad option)."""


class InvalidValueError(ConfigError):
    """A numeric knob that must be positive was zero or negative (never a silent no-op)."""


class CredentialsError(S3zError):
    """Credentials are missing or unusable."""


class CredentialProviderError(CredentialsError):
    """One credential provider (SSO, a role, IMDS, ``credential_process`` …) gave nothing.

    The message is one line, ``<provider>: <problem>; <fix>``, so a user sees where the chain
    stopped and what to do, and it never holds a secret: providers put only names, paths,
    URLs and status codes into ``problem``.
    """

    def __init__(self, provider: str, problem: str, fix: str = "") -> None:
        self.provider = provider
        self.problem = problem
        self.fix = fix
        super().__init__(f"{provider}: {problem}" + (f"; {fix}" if fix else ""))


class MfaRequiredError(CredentialProviderError):
    """A role profile has ``mfa_serial`` but there is no terminal or dialog to ask for a code."""


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


@dataclass(eq=False, repr=False, kw_only=True)
class ServiceError(S3zError):
    """The server answered with an S3 error document (or an error status).

    A dataclass only to write each field once: equality, hashing and ``repr`` stay the
    exception's own (identity, the rendered message).
    """

    code: str
    status: int
    message: str = ""
    request_id: str = ""
    operation: str = ""
    bucket: str = ""
    key: str = ""
    region_hint: str = ""
    server_date: str = ""

    def __post_init__(self) -> None:
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


class ThrottledError(RetryableServiceError):
    """The server is shedding load (SlowDown, ServiceUnavailable, TooManyRequests, 503, 429)."""


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


class ObjectChangedError(S3zError):
    """The object an edit was based on was replaced meanwhile (its ETag moved): nothing was
    changed, so another writer's upload is never undone. Read it again, then edit."""


class ProtocolError(S3zError):
    """A response we could not understand (malformed XML, missing fields)."""


class DamagedListingError(ProtocolError):
    """A listing ended, but some of its entries did not parse: named, never dropped.

    Raised after every good entry was delivered, so the good ones are still used; ``entries``
    are (key, reason) pairs (the key may be "" when even it was unreadable).
    """

    def __init__(self, where: str, entries: list[tuple[str, str]]) -> None:
        self.entries = entries
        shown = "; ".join(f"{key!r}: {reason}" for key, reason in entries[:3])
        more = f" (and {len(entries) - 3} more)" if len(entries) > 3 else ""
        super().__init__(f"{where}: {len(entries)} listed object(s) unreadable — {shown}{more}")


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
    """AbortMultipartUpload failed: the parts may keep costing storage until aborted.

    Names the upload (bucket, key, upload id) so the user can abort it later, and carries
    the failure that made the abort necessary, which is what the user asked about first.
    """

    def __init__(
        self, *, bucket: str, key: str, upload_id: str, cause: BaseException, abort_error: S3zError
    ) -> None:
        cause = first_error(cause)
        self.bucket = bucket
        self.key = key
        self.upload_id = upload_id
        self.cause = cause
        self.abort_error = abort_error
        why = "cancelled" if not isinstance(cause, S3zError) else str(cause)
        super().__init__(
            f"{why}; and the incomplete multipart upload {upload_id} of s3://{bucket}/{key} "
            f"could not be aborted ({abort_error}): it keeps using storage until aborted "
            f"(s3z-core uploads abort s3://{bucket}/{key})"
        )


class TransferCancelledError(TransferError):
    """The user cancelled this file (the batch went on); nothing was left behind."""


class UnexpectedError(TransferError):
    """Something no branch of s3z expected happened to one file: a bug, reported as that
    file's failure (with the original exception chained and logged) so its batch goes on."""


def first_error(exc: BaseException) -> BaseException:
    """TaskGroups wrap failures in groups; callers want the first real error."""
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc
