"""Helpers for the protocol suite: the key set with per-backend limits, payloads, our config."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from servers import S3Endpoint

from s3z_core.config import ClientConfig, RetryPolicy
from s3z_core.operations import S3Operations

FAST_RETRY = RetryPolicy(max_attempts=4, base_delay_s=0.01, max_delay_s=0.05)

# Keys with every shape the issue names. Each backend's limits (LOCAL_SERVERS.md) are
# listed in UNSTORABLE with the reason; those keys are covered on moto instead.
KEYS: dict[str, str] = {
    "space": "dir with space/file name.txt",
    "plus": "plus+sign=eq&amp.bin",
    "percent": "percent%20literal%2F%.bin",
    "nfc": unicodedata.normalize("NFC", "unicode/é-ñ-日本.txt"),
    "nfd": unicodedata.normalize("NFD", "unicode/é-ñ-日本.txt"),
    "tilde": "~tilde/x~y",
    "double_slash": "double//slash/x.bin",
    "mixed": "a b/+c/%41/~/é e\u0301/!'()*,;:@$.bin",
}
UNSTORABLE: dict[str, dict[str, str]] = {
    "seaweed": {"double_slash": "SeaweedFS normalises a//b to a/b (LOCAL_SERVERS.md)"},
    "rclone": {"double_slash": "rclone serve s3 is a filesystem: it cannot store a//b"},
    "moto": {},
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def payload(tag: str, size: int) -> bytes:
    """Deterministic, non-repeating-looking bytes of ``size`` (distinct per tag)."""
    seed = hashlib.sha256(tag.encode()).digest()
    block = b"".join(hashlib.sha256(seed + i.to_bytes(4, "big")).digest() for i in range(2048))
    reps, rest = divmod(size, len(block))
    return block * reps + block[:rest]


def client_config(server: S3Endpoint, **overrides: Any) -> ClientConfig:
    settings: dict[str, Any] = {
        "endpoint_url": server.endpoint_url,
        "region": server.region,
        "addressing_style": "path",
        "retry": FAST_RETRY,
    }
    settings.update(overrides)
    return ClientConfig(**settings)


def server_kind(request: pytest.FixtureRequest) -> str:
    """The parametrized server name of the running test (seaweed, rclone or moto)."""
    for name in ("any_server", "s3_server"):
        callspec = getattr(request.node, "callspec", None)
        if callspec is not None and name in callspec.params:
            return str(callspec.params[name])
    raise LookupError("test is not parametrized over a server")


def storable_keys(request: pytest.FixtureRequest) -> dict[str, str]:
    skip = UNSTORABLE[server_kind(request)]
    return {name: key for name, key in KEYS.items() if name not in skip}


def skip_unstorable(request: pytest.FixtureRequest, key_name: str) -> None:
    reason = UNSTORABLE[server_kind(request)].get(key_name)
    if reason:
        pytest.skip(f"{reason}; covered on moto")


OpsFactory = Callable[..., S3Operations]
