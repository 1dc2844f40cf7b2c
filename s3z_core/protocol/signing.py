"""AWS Signature Version 4 for S3: header signing and presigned query strings.

Pure functions of (credentials, request parts, time): no I/O, no clock reads, so the
transport can re-sign every retry with a fresh time and tests can pin the time.
The rules follow botocore's ``S3SigV4Auth`` (the oracle in ``tests/test_signing_oracle.py``):
the path is signed verbatim (already encoded once, never normalised), header values are
trimmed and inner whitespace collapsed, and ``x-amz-content-sha256`` is always sent for S3.

Speed matters because every small-file request is signed: the derived signing key is
cached per (date, region), and ``hmac.digest`` (one C call) replaces ``hmac.new``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from s3z_core.credentials import Credentials
from s3z_core.errors import ConfigError, InvalidValueError
from s3z_core.protocol.keys import uri_encode

__all__ = [
    "ALGORITHM",
    "EMPTY_SHA256",
    "MAX_PRESIGN_EXPIRES_S",
    "UNSIGNED_PAYLOAD",
    "SigV4Signer",
    "canonical_query",
]

ALGORITHM = "AWS4-HMAC-SHA256"
# hmac.digest with the constructor maps straight to OpenSSL; a name string is looked up
# on every call (measured ~1.5x slower).
_SHA256 = hashlib.sha256
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
MAX_PRESIGN_EXPIRES_S = 604_800  # SigV4 presigned URLs live at most 7 days

# Headers the signer sets itself; a caller's copy (any case) is replaced, never duplicated.
_OWN_HEADERS = frozenset(
    {"authorization", "host", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"}
)
# Sent but not signed: the transport or a proxy may add, drop or rewrite them
# (content-length is set by aiohttp; botocore leaves out the same hop-level headers).
_UNSIGNED_HEADERS = frozenset(
    {"user-agent", "expect", "content-length", "transfer-encoding", "connection", "x-amzn-trace-id"}
)
_PRESIGN_PARAMS = frozenset(
    {
        "x-amz-algorithm",
        "x-amz-credential",
        "x-amz-date",
        "x-amz-expires",
        "x-amz-signedheaders",
        "x-amz-security-token",
        "x-amz-signature",
    }
)


def canonical_query(query: Sequence[tuple[str, str]]) -> str:
    """The SigV4 canonical query string, which is also the exact query we send.

    Names and values are encoded once (``/`` too), pairs sorted by encoded name then value
    (code-point order equals byte order once everything is ASCII), and a flag parameter
    such as ``("uploads", "")`` becomes ``uploads=``.
    """
    if not query:
        return ""
    pairs = sorted(
        (uri_encode(name, keep_slash=False), uri_encode(value, keep_slash=False))
        for name, value in query
    )
    return "&".join(f"{name}={value}" for name, value in pairs)


def _amz_date(now: datetime) -> str:
    """``YYYYMMDDTHHMMSSZ`` in UTC; a naive ``now`` is taken to be UTC already."""
    if now.tzinfo is not None and now.utcoffset():
        now = now.astimezone(UTC)
    # Slicing isoformat() ("YYYY-MM-DDTHH:MM:SS…") is about twice as fast as strftime.
    iso = now.isoformat()
    return f"{iso[0:4]}{iso[5:7]}{iso[8:10]}T{iso[11:13]}{iso[14:16]}{iso[17:19]}Z"


class SigV4Signer:
    """Signs S3 requests with one set of credentials.

    ``region`` may be reassigned (the client switches region when the server names another
    one); the key cache is keyed by (date, region), so that is always safe. The secret key
    and session token never appear in ``repr``/``str`` or in any message raised from here.
    """

    __slots__ = ("_credentials", "_key_cache", "_sends_content_sha256", "region", "service")

    def __init__(self, credentials: Credentials, region: str, service: str = "s3") -> None:
        if not region:
            raise ConfigError("a signing region is required (for example us-east-1)")
        self._credentials = credentials
        self.region = region
        self.service = service
        # The x-amz-content-sha256 header is S3's; other services (and AWS's generic SigV4
        # test suite) do not send it. botocore draws the same line (S3SigV4Auth vs SigV4Auth).
        self._sends_content_sha256 = service == "s3"
        self._key_cache: dict[tuple[str, str], bytes] = {}

    def __repr__(self) -> str:
        return (
            f"SigV4Signer(access_key={self._credentials.access_key!r}, region={self.region!r}, "
            f"service={self.service!r})"
        )

    __str__ = __repr__

    @property
    def access_key(self) -> str:
        return self._credentials.access_key

    def with_region(self, region: str) -> SigV4Signer:
        """A signer for the same credentials in another region (after a WrongRegion answer)."""
        return SigV4Signer(self._credentials, region, self.service)

    def _signing_key(self, datestamp: str) -> bytes:
        cache_key = (datestamp, self.region)
        key = self._key_cache.get(cache_key)
        if key is None:
            secret = ("AWS4" + self._credentials.secret_key).encode()
            key = hmac.digest(secret, datestamp.encode(), _SHA256)
            for part in (self.region, self.service, "aws4_request"):
                key = hmac.digest(key, part.encode(), _SHA256)
            if len(self._key_cache) >= 8:  # dates only move forward: old entries are dead
                self._key_cache.clear()
            self._key_cache[cache_key] = key
        return key

    def _signature(self, amz_date: str, scope: str, canonical_request: str) -> str:
        string_to_sign = (
            f"{ALGORITHM}\n{amz_date}\n{scope}\n"
            f"{hashlib.sha256(canonical_request.encode()).hexdigest()}"
        )
        return hmac.digest(self._signing_key(amz_date[:8]), string_to_sign.encode(), _SHA256).hex()

    def sign(
        self,
        *,
        method: str,
        host: str,
        path: str,
        query: Sequence[tuple[str, str]],
        headers: Mapping[str, str],
        payload_hash: str,
        now: datetime,
    ) -> dict[str, str]:
        """Return a new header dict: ``headers`` plus Host, X-Amz-Date, the payload hash,
        the session token (if any) and Authorization.

        ``path`` is the canonical URI as sent (encoded once by ``encode_key_path``); it is
        signed verbatim. ``payload_hash`` is a hex SHA-256, ``EMPTY_SHA256`` or
        ``UNSIGNED_PAYLOAD``. Every given header is signed except hop-level ones
        (user-agent, expect, content-length, transfer-encoding, connection).
        """
        if not path.startswith("/"):
            raise ConfigError(f"canonical path must start with '/', got {path!r}")
        amz_date = _amz_date(now)
        token = self._credentials.session_token

        out: dict[str, str] = {}
        to_sign: dict[str, str] = {}
        for name, value in headers.items():
            lname = name.lower()
            if lname in _OWN_HEADERS:
                continue
            out[name] = value
            if lname in _UNSIGNED_HEADERS:
                continue
            trimmed = " ".join(value.split())
            # Two spellings of one header are one header with both values, like HTTP.
            to_sign[lname] = f"{to_sign[lname]},{trimmed}" if lname in to_sign else trimmed

        out["Host"] = host
        out["X-Amz-Date"] = amz_date
        to_sign["host"] = host
        to_sign["x-amz-date"] = amz_date
        if self._sends_content_sha256:
            out["X-Amz-Content-SHA256"] = payload_hash
            to_sign["x-amz-content-sha256"] = payload_hash
        if token:
            out["X-Amz-Security-Token"] = token
            to_sign["x-amz-security-token"] = token

        names = sorted(to_sign)
        signed_headers = ";".join(names)
        canonical_headers = "".join(f"{n}:{to_sign[n]}\n" for n in names)
        canonical_request = (
            f"{method.upper()}\n{path}\n{canonical_query(query)}\n"
            f"{canonical_headers}\n{signed_headers}\n{payload_hash}"
        )
        scope = f"{amz_date[:8]}/{self.region}/{self.service}/aws4_request"
        signature = self._signature(amz_date, scope, canonical_request)
        out["Authorization"] = (
            f"{ALGORITHM} Credential={self._credentials.access_key}/{scope}, "
            f"SignedHeaders={signed_headers}, Signature={signature}"
        )
        return out

    def presign(
        self,
        *,
        method: str,
        host: str,
        path: str,
        query: Sequence[tuple[str, str]],
        expires_s: int,
        now: datetime,
    ) -> list[tuple[str, str]]:
        """Return ``query`` plus the X-Amz-* parameters of a presigned URL, signature last.

        Only ``host`` is signed and the payload is ``UNSIGNED-PAYLOAD``: whoever holds the
        URL chooses the body. Pass the result to ``build_url`` with the same host and path.
        """
        if isinstance(expires_s, bool) or not isinstance(expires_s, int):
            raise InvalidValueError(f"expiry must be whole seconds, got {expires_s!r}")
        if not 1 <= expires_s <= MAX_PRESIGN_EXPIRES_S:
            raise InvalidValueError(
                f"expiry must be between 1 and {MAX_PRESIGN_EXPIRES_S} seconds (7 days), "
                f"got {expires_s}"
            )
        if not path.startswith("/"):
            raise ConfigError(f"canonical path must start with '/', got {path!r}")
        clashing = sorted({n for n, _ in query if n.lower() in _PRESIGN_PARAMS})
        if clashing:
            raise ConfigError(f"query already holds presign parameters: {', '.join(clashing)}")

        amz_date = _amz_date(now)
        scope = f"{amz_date[:8]}/{self.region}/{self.service}/aws4_request"
        params = [
            *query,
            ("X-Amz-Algorithm", ALGORITHM),
            ("X-Amz-Credential", f"{self._credentials.access_key}/{scope}"),
            ("X-Amz-Date", amz_date),
            ("X-Amz-Expires", str(expires_s)),
            ("X-Amz-SignedHeaders", "host"),
        ]
        token = self._credentials.session_token
        if token:
            params.append(("X-Amz-Security-Token", token))
        canonical_request = (
            f"{method.upper()}\n{path}\n{canonical_query(params)}\n"
            f"host:{host}\n\nhost\n{UNSIGNED_PAYLOAD}"
        )
        params.append(("X-Amz-Signature", self._signature(amz_date, scope, canonical_request)))
        return params
