"""Frozen, validated settings for the client (connection) and for transfers (memory/speed).

Memory math, so users can size the knobs: an upload part streams from disk in
``UPLOAD_CHUNK_BYTES`` reads, so in-flight upload memory is about
``max_in_flight_requests × 2 × 256 KiB`` (a chunk being read, one in the socket's
buffer); a download range buffers up to ``WRITE_COALESCE_BYTES`` before handing it to
the file's writer thread, whose queue holds at most ``WRITER_QUEUE_DEPTH`` such batches,
so per file about ``(streams + WRITER_QUEUE_DEPTH) × 512 KiB``; across all files, batches
waiting for a disk are capped at ``WRITE_BACKLOG_BATCHES`` (32 MiB), so 32 files onto a
slow disk cannot queue 32 × 4 MiB.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from typing import Literal

from s3z_core.errors import InvalidValueError
from s3z_core.records import record

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
TiB = 1024 * GiB

# 256 KiB, not 1 MiB: 100 × 8 MiB uploads peaked at 108 MiB RSS with 1 MiB chunks and at
# 60 MiB with these, at the same speed and CPU (bench, side by side with s5cmd).
UPLOAD_CHUNK_BYTES = 256 * KiB
WRITE_COALESCE_BYTES = 512 * KiB
WRITER_QUEUE_DEPTH = 8
# A ranged download that verifies its MD5s is written by this many threads, a range each.
HASHING_WRITER_THREADS = 2
WRITE_BACKLOG_BATCHES = 64  # × WRITE_COALESCE_BYTES: received, not yet written, all files
DELETE_BATCH = 1000  # keys in one DeleteObjects request (S3's limit)

AddressingStyle = Literal["auto", "path", "virtual"]

# Per-file stream tiers: (largest size in the tier, streams). Above the last: the last value.
DEFAULT_STREAM_TIERS: tuple[tuple[int, int], ...] = (
    (256 * MiB, 2),
    (2 * GiB, 4),
    (1 << 62, 8),
)


def require_positive(name: str, value: int | float) -> None:
    """Zero or negative knobs are bugs in the caller: fail loudly, never do nothing."""
    if value <= 0:
        raise InvalidValueError(f"{name} must be positive, got {value!r}")


@record
class RetryPolicy:
    """Exponential backoff with equal jitter; ``max_attempts`` counts the first try."""

    max_attempts: int = 6
    base_delay_s: float = 0.1
    max_delay_s: float = 20.0

    def __post_init__(self) -> None:
        require_positive("max_attempts", self.max_attempts)
        require_positive("base_delay_s", self.base_delay_s)
        require_positive("max_delay_s", self.max_delay_s)


@record
class ProxySettings:
    """``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``NO_PROXY`` as read once from the environment.

    A proxy URL may carry ``user:password@``: it is never shown (see ``__repr__``).
    """

    https: str | None = None
    http: str | None = None
    no_proxy: str | None = None

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={'<set>' if value else None}"
            for name, value in (("https", self.https), ("http", self.http))
        )
        return f"ProxySettings({shown}, no_proxy={self.no_proxy!r})"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ProxySettings:
        def pick(name: str) -> str | None:
            return env.get(name.upper()) or env.get(name.lower()) or None

        return cls(https=pick("HTTPS_PROXY"), http=pick("HTTP_PROXY"), no_proxy=pick("NO_PROXY"))


@record
class ClientConfig:
    """How to reach the server. ``endpoint_url`` None means AWS for ``region``.

    ``ca_bundle`` adds trust (a PEM file) without weakening verification; ``proxies`` None
    means "read them from the environment when the session opens". The AWS-only switches
    (``use_accelerate_endpoint``, ``use_dualstack_endpoint``, ``us_east_1_regional_endpoint``)
    choose the host botocore would choose; they do nothing for a custom endpoint.
    """

    endpoint_url: str | None = None
    region: str = "us-east-1"
    addressing_style: AddressingStyle = "auto"
    verify_ssl: bool = True
    max_connections: int = 64
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 60.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    ca_bundle: str | None = None
    proxies: ProxySettings | None = None
    use_accelerate_endpoint: bool = False
    use_dualstack_endpoint: bool = False
    us_east_1_regional_endpoint: bool = False
    # Small requests skip aiohttp (transport/direct.py); False sends all through aiohttp.
    direct_requests: bool = True

    def __post_init__(self) -> None:
        require_positive("max_connections", self.max_connections)
        require_positive("connect_timeout_s", self.connect_timeout_s)
        require_positive("read_timeout_s", self.read_timeout_s)
        if self.addressing_style not in ("auto", "path", "virtual"):
            raise InvalidValueError(
                f"addressing_style must be auto, path or virtual, got {self.addressing_style!r}"
            )
        if not self.region:
            raise InvalidValueError("region must not be empty")


@record
class TransferConfig:
    """Transfer knobs. ``None`` part sizes and concurrency mean "plan from the file size".

    - ``workers``: files transferred at once in a batch.
    - ``concurrency``: streams (parts or ranges) per file; None uses ``stream_tiers``.
    - ``max_in_flight_requests``: global cap on part/range requests across all files.
    - ``list_concurrency``: ListObjectsV2 requests a big recursive listing runs at once
      (key ranges listed side by side; 1 lists page after page). 8 suits a server on the
      same machine; remote S3 gains up to 16 and more.
    - ``multipart_threshold``: files at or above this size upload in parts (default 64 MiB,
      measured: below it a single streamed PUT is as fast on SeaweedFS and saves 2 round trips).
    - ``download_threshold``: objects at or above this size download as parallel ranges.
    - ``relay_memory``: bytes all copies from another endpoint may hold at once (their parts
      wait for the destination; 32 MiB keeps a 1 GiB relay under 80 MiB RSS).
    - ``content_md5``: send Content-MD5 per part (costs ~1.4 CPU-s per GiB; off by default).
    - ``limit_rate``: a cap in bytes/s on all body bytes, uploads and downloads together
      (one token bucket in the transport, ``--limit-rate 20M``); None: no cap.
    """

    workers: int = 32
    concurrency: int | None = None
    max_in_flight_requests: int = 64
    list_concurrency: int = 8
    part_size: int | None = None
    multipart_threshold: int = 64 * MiB
    download_threshold: int = 64 * MiB
    stream_tiers: tuple[tuple[int, int], ...] = DEFAULT_STREAM_TIERS
    content_md5: bool = False
    verify: bool = True
    follow_symlinks: bool = False
    create_dir_markers: bool = False
    store_mtime: bool = True
    relay_memory: int = 32 * MiB
    limit_rate: int | None = None

    def __post_init__(self) -> None:
        require_positive("workers", self.workers)
        require_positive("relay_memory", self.relay_memory)
        require_positive("max_in_flight_requests", self.max_in_flight_requests)
        require_positive("list_concurrency", self.list_concurrency)
        require_positive("multipart_threshold", self.multipart_threshold)
        require_positive("download_threshold", self.download_threshold)
        if self.concurrency is not None:
            require_positive("concurrency", self.concurrency)
        if self.part_size is not None:
            require_positive("part_size", self.part_size)
        if self.limit_rate is not None:
            require_positive("limit_rate", self.limit_rate)
        if not self.stream_tiers:
            raise InvalidValueError("stream_tiers must not be empty")
        for limit, streams in self.stream_tiers:
            require_positive("stream tier size", limit)
            require_positive("stream tier streams", streams)


def journal_endpoint(config: ClientConfig) -> str:
    """How the journal names a server: its endpoint URL, or AWS and the region."""
    return config.endpoint_url or f"aws:{config.region}"


def connections_for(config: TransferConfig) -> int:
    """Enough sockets for every request the transfer config lets run at once."""
    return max(config.max_in_flight_requests, config.workers) + 8
