"""Part sizes, ranges and per-file stream counts: pure functions of (size, config).

Because a plan depends only on the file size and the config, a restarted process can
recompute it and reconcile with ``ListParts`` instead of starting over (crash-safe
resume builds on this). Limits (S3 quick facts): parts 1..10,000; 5 MiB ≤ part ≤ 5 GiB
except the last; single PUT ≤ 5 GiB; so the largest object is 10,000 × 5 GiB ≈ 48.8 TiB.
The original s3z capped parts at 256 MiB and could not plan files above ~2.4 TiB.
"""

from __future__ import annotations

from s3z_core.config import GiB, MiB, TransferConfig, require_positive
from s3z_core.errors import ConfigError
from s3z_core.records import record

MIN_PART_BYTES = 5 * MiB
MAX_PART_BYTES = 5 * GiB
MAX_PARTS = 10_000
MAX_SINGLE_PUT_BYTES = 5 * GiB
UPLOAD_PART_FLOOR_BYTES = 8 * MiB
MAX_OBJECT_BYTES = MAX_PARTS * MAX_PART_BYTES


class ObjectTooLargeError(ConfigError):
    """No valid multipart plan exists (more than 10,000 × 5 GiB)."""


@record
class Part:
    number: int  # 1-based, as S3 numbers parts
    offset: int
    length: int


@record
class UploadPlan:
    size: int
    multipart: bool
    part_size: int
    parts: tuple[Part, ...]
    streams: int


@record
class DownloadPlan:
    size: int
    ranged: bool
    ranges: tuple[Part, ...]
    streams: int


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def streams_for_size(size: int, config: TransferConfig) -> int:
    """Tiered per-file concurrency: small files need few streams, big ones saturate the link."""
    if config.concurrency is not None:
        return config.concurrency
    for limit, streams in config.stream_tiers:
        if size <= limit:
            return streams
    return config.stream_tiers[-1][1]


def upload_part_size(size: int, concurrency: int, requested: int | None = None) -> int:
    """Aim for ``2 × concurrency`` parts (queue headroom), within every S3 limit."""
    require_positive("concurrency", concurrency)
    if size < 0:
        raise ConfigError(f"size must not be negative, got {size}")
    if size > MAX_OBJECT_BYTES:
        raise ObjectTooLargeError(
            f"{size} bytes exceeds the largest multipart object ({MAX_OBJECT_BYTES} bytes)"
        )
    floor_for_count = _ceil_div(size, MAX_PARTS)
    if requested is not None:
        require_positive("part_size", requested)
        part = max(requested, MIN_PART_BYTES, floor_for_count)
    else:
        part = max(_ceil_div(size, 2 * concurrency), UPLOAD_PART_FLOOR_BYTES, floor_for_count)
        # Round up to a whole MiB: friendlier numbers, and composite ETags stay reproducible.
        part = _ceil_div(part, MiB) * MiB
    return min(part, MAX_PART_BYTES)


def split(size: int, part_size: int) -> tuple[Part, ...]:
    require_positive("part_size", part_size)
    count = max(1, _ceil_div(size, part_size))
    return tuple(
        Part(number=i + 1, offset=i * part_size, length=min(part_size, size - i * part_size))
        for i in range(count)
    )


def plan_upload(size: int, config: TransferConfig) -> UploadPlan:
    streams = streams_for_size(size, config)
    threshold = min(config.multipart_threshold, MAX_SINGLE_PUT_BYTES)
    if size < threshold and (config.part_size is None or size <= config.part_size):
        return UploadPlan(size, False, size, (Part(1, 0, size),), 1)
    part_size = upload_part_size(size, streams, config.part_size)
    parts = split(size, part_size)
    if len(parts) > MAX_PARTS:  # unreachable by construction; kept as a loud guard
        raise ObjectTooLargeError(f"plan for {size} bytes needs {len(parts)} parts")
    return UploadPlan(size, True, part_size, parts, min(streams, len(parts)))


def download_part_size(size: int, concurrency: int) -> int:
    """Aim for exactly ``concurrency`` ranges: fewer Range requests win; no upper cap."""
    require_positive("concurrency", concurrency)
    return max(_ceil_div(size, concurrency), UPLOAD_PART_FLOOR_BYTES, 1)


def plan_download(
    size: int, config: TransferConfig, part_size: int | None = None, threshold: int | None = None
) -> DownloadPlan:
    """``part_size``: the object's upload part size when known, so ranges align with parts
    and each part's MD5 can be recomputed as it streams (composite ETag verification).
    ``threshold``: go ranged from this size even below the config's (a journalled download
    is resumable only in ranges)."""
    streams = streams_for_size(size, config)
    limit = config.download_threshold if threshold is None else threshold
    if size < min(limit, config.download_threshold) or size == 0:
        return DownloadPlan(size, False, (Part(1, 0, size),), 1)
    if part_size:
        parts_total = _ceil_div(size, part_size)
        per_range = max(1, _ceil_div(parts_total, streams))
        ranges = split(size, per_range * part_size)
    else:
        ranges = split(size, download_part_size(size, streams))
    return DownloadPlan(size, True, ranges, min(streams, len(ranges)))
