"""Pure S3 protocol pieces (no I/O, no aiohttp): key encoding, endpoints, SigV4 signing."""

from s3z_core.protocol.endpoints import (
    Endpoint,
    build_url,
    parse_endpoint,
    request_target,
    resolve_style,
)
from s3z_core.protocol.keys import encode_key_path, uri_encode
from s3z_core.protocol.signing import (
    EMPTY_SHA256,
    UNSIGNED_PAYLOAD,
    SigV4Signer,
    canonical_query,
)

__all__ = [
    "EMPTY_SHA256",
    "UNSIGNED_PAYLOAD",
    "Endpoint",
    "SigV4Signer",
    "build_url",
    "canonical_query",
    "encode_key_path",
    "parse_endpoint",
    "request_target",
    "resolve_style",
    "uri_encode",
]
