"""The object metadata s3z writes and reads back: one place owns the names and their parsing.

``mtime`` (``x-amz-meta-mtime``) keeps a file's modification time across an upload, so a
download restores it and ``sync`` can compare times; ``s3z-part-size`` records the part size
of a multipart upload, so a download can recompute the composite ETag and verify it. Values
written by other tools (or damaged ones) parse to None: never a failure, only less known.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

MTIME_META = "mtime"
PART_SIZE_META = "s3z-part-size"


def format_mtime(mtime_s: float) -> str:
    return f"{mtime_s:.6f}"


def stored_mtime(metadata: Mapping[str, str]) -> float | None:
    """The file time stored on upload, in epoch seconds, when present and sane."""
    raw = metadata.get(MTIME_META, "")
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def stored_part_size(metadata: Mapping[str, str]) -> int | None:
    raw = metadata.get(PART_SIZE_META, "")
    if not raw.isascii() or not raw.isdigit():
        return None
    value = int(raw)
    return value if value > 0 else None
