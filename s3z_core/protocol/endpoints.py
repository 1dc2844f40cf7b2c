"""Where a request goes: endpoint URL parsing, path- vs virtual-host addressing, final URLs.

One place decides host and path for a (bucket, key), and the signer signs exactly
what ``build_url`` sends, so the two can never disagree about encoding.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import Literal
from urllib.parse import urlsplit

from s3z_core.errors import ConfigError
from s3z_core.protocol.keys import encode_key_path
from s3z_core.protocol.signing import canonical_query
from s3z_core.records import record

__all__ = [
    "ACCELERATE_EXCLUDED",
    "Endpoint",
    "accelerate_endpoint",
    "build_url",
    "is_dns_compatible",
    "parse_endpoint",
    "request_target",
    "resolve_style",
]

ResolvedStyle = Literal["path", "virtual"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
# A bucket that can be a DNS label chain: lowercase letters, digits, hyphens, dots.
_DNS_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@record
class Endpoint:
    """Scheme and Host header value of an S3 service; ``is_aws`` marks the default AWS one."""

    scheme: str
    host: str
    is_aws: bool


def parse_endpoint(
    endpoint_url: str | None,
    region: str,
    *,
    dualstack: bool = False,
    global_us_east_1: bool = False,
) -> Endpoint:
    """Validate a user-supplied endpoint URL (``None`` means AWS in ``region``).

    For AWS, ``dualstack`` picks the IPv4+IPv6 host and ``global_us_east_1`` the legacy
    ``s3.amazonaws.com`` for us-east-1 (botocore's default unless
    ``AWS_S3_US_EAST_1_REGIONAL_ENDPOINT=regional``).

    Only ``scheme://host[:port]`` with an optional trailing ``/`` is accepted: a path
    prefix or query would silently change every signed path, so it is an error here.
    Default ports are dropped from the host, as botocore does, because the Host header
    (and therefore the signature) must match what the HTTP client sends.
    """
    if endpoint_url is None:
        if not region:
            raise ConfigError("a region is required when no endpoint URL is given")
        suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
        if dualstack:
            return Endpoint("https", f"s3.dualstack.{region}.{suffix}", is_aws=True)
        if global_us_east_1 and region == "us-east-1":
            return Endpoint("https", "s3.amazonaws.com", is_aws=True)
        return Endpoint("https", f"s3.{region}.{suffix}", is_aws=True)

    raw = endpoint_url.strip()
    if "@" in raw:
        # user:password@host. Checked before parsing, and the URL is not echoed: a password
        # holding '/' or ':' makes urlsplit read it as a path or a port, and that text would
        # end up in the error message.
        raise ConfigError(
            "endpoint URL must not contain credentials (user:password@); use a profile or keys"
        )
    try:
        parts = urlsplit(raw)
        port = parts.port  # raises ValueError for a non-numeric or out-of-range port
    except ValueError as exc:
        raise ConfigError(f"endpoint URL {raw!r} is not a valid URL: {exc}") from None
    shown = raw
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ConfigError(
            f"endpoint URL {shown!r} must start with http:// or https:// "
            f"(for example http://127.0.0.1:8333)"
        )
    hostname = parts.hostname
    if not hostname:
        raise ConfigError(f"endpoint URL {shown!r} has no host name")
    if parts.path not in ("", "/"):
        raise ConfigError(
            f"endpoint URL {shown!r} has a path ({parts.path!r}); give only scheme://host[:port]"
        )
    if parts.query or parts.fragment or raw.endswith(("?", "#")):
        raise ConfigError(f"endpoint URL {shown!r} must not have a query or fragment")

    host = hostname.lower()
    if ":" in host:  # an IPv6 literal: urlsplit dropped its brackets
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    # s3.amazonaws.com, s3.<region>.amazonaws.com, s3-<region>…, dualstack, .com.cn
    bare = hostname.lower()
    is_aws = bare.startswith(("s3.", "s3-")) and bare.endswith(
        (".amazonaws.com", ".amazonaws.com.cn")
    )
    return Endpoint(scheme, host, is_aws=is_aws)


# Transfer Acceleration serves object operations only; botocore keeps these off it too.
ACCELERATE_EXCLUDED = frozenset({"ListBuckets", "CreateBucket", "DeleteBucket"})


def accelerate_endpoint(bucket: str | None, operation: str, *, dualstack: bool) -> Endpoint | None:
    """The S3 Transfer Acceleration endpoint for this request, or None when it cannot apply
    (no bucket, a bucket-level operation, a bucket that cannot be a single DNS label)."""
    if bucket is None or operation in ACCELERATE_EXCLUDED:
        return None
    if not is_dns_compatible(bucket, allow_dots=False):
        return None
    host = "s3-accelerate.dualstack.amazonaws.com" if dualstack else "s3-accelerate.amazonaws.com"
    return Endpoint("https", host, is_aws=True)


def is_dns_compatible(bucket: str, *, allow_dots: bool) -> bool:
    """Can ``bucket`` be the first labels of a host name (virtual-host addressing)?

    Dots are legal DNS but break TLS wildcard certificates (``*.s3.amazonaws.com`` covers
    one label), so automatic addressing refuses them; an explicit ``virtual`` allows them.
    """
    if not _DNS_BUCKET.match(bucket):
        return False
    if ".." in bucket or ".-" in bucket or "-." in bucket:
        return False
    if "." in bucket:
        if not allow_dots:
            return False
        try:
            ipaddress.IPv4Address(bucket)
        except ValueError:
            return True
        return False  # 192.168.5.4 would be read as an address, not a name
    return True


def resolve_style(
    endpoint: Endpoint, bucket: str | None, style: Literal["auto", "path", "virtual"] | str
) -> ResolvedStyle:
    """Pick the addressing style for one bucket.

    ``auto`` uses virtual hosts only on AWS and only for dot-free DNS-compatible buckets
    (what AWS recommends); custom endpoints get path style, like s5cmd, because most
    self-hosted servers (SeaweedFS, MinIO, Garage) have no wildcard DNS.
    """
    if style not in ("auto", "path", "virtual"):
        raise ConfigError(f"addressing style must be auto, path or virtual, got {style!r}")
    if bucket is None or style == "path":
        return "path"
    if style == "virtual":
        if not is_dns_compatible(bucket, allow_dots=True):
            raise ConfigError(
                f"bucket {bucket!r} cannot be a host name, so virtual-host addressing "
                f"is impossible; use path style"
            )
        return "virtual"
    if endpoint.is_aws and is_dns_compatible(bucket, allow_dots=False):
        return "virtual"
    return "path"


def request_target(
    endpoint: Endpoint, bucket: str | None, key: str | None, style: str
) -> tuple[str, str]:
    """Return ``(host, canonical_path)``; the path is encoded exactly once.

    ``style`` may be ``auto`` (resolved here) or an already resolved ``path``/``virtual``.
    Path style: ``/bucket/key``, ``/bucket`` (no trailing slash), or ``/`` with no bucket.
    Virtual: the bucket moves into the host and the path is ``/key`` or ``/``.
    """
    if bucket is None:
        if key is not None:
            raise ConfigError(f"an object key ({key!r}) needs a bucket")
        return endpoint.host, "/"
    if not bucket or "/" in bucket:
        raise ConfigError(f"invalid bucket name {bucket!r}")
    resolved = resolve_style(endpoint, bucket, style)
    key_part = "" if key is None else encode_key_path(key)
    if resolved == "virtual":
        return f"{bucket}.{endpoint.host}", "/" + key_part
    # The bucket is encoded too: it is almost always plain ASCII, but a bad name must not
    # be able to inject '?' or '#' into the URL.
    bucket_part = encode_key_path(bucket)
    if key is None:
        return endpoint.host, "/" + bucket_part
    return endpoint.host, f"/{bucket_part}/{key_part}"


def build_url(endpoint: Endpoint, host: str, path: str, query: Sequence[tuple[str, str]]) -> str:
    """The exact URL sent on the wire: ``scheme://host`` + path + canonical query.

    Sending the canonical (sorted, encoded-once) query means the bytes on the wire are
    the bytes that were signed; the HTTP client must not re-encode it (aiohttp: pass
    ``yarl.URL(url, encoded=True)``).
    """
    url = f"{endpoint.scheme}://{host}{path}"
    if query:
        url += "?" + canonical_query(query)
    return url
