"""Backoff as a pure function of the attempt number, testable without sleeping (as rclone).

Equal jitter: half the exponential step is fixed, half random, so a herd of workers
throttled together spreads out but never retries instantly.
"""

from __future__ import annotations

import random
from email.utils import parsedate_to_datetime

from s3z_core.config import RetryPolicy


def backoff_delay_s(attempt: int, policy: RetryPolicy, rng: random.Random) -> float:
    """Delay before retry number ``attempt`` (1 = the first retry)."""
    if attempt < 1:
        raise ValueError(f"attempt must be >= 1, got {attempt}")
    step = min(policy.max_delay_s, policy.base_delay_s * float(2 ** (attempt - 1)))
    half = step / 2
    return float(half + rng.uniform(0.0, half))


def clock_offset_s(server_date: str, local_now_epoch_s: float) -> float | None:
    """Server time minus our time, from an HTTP ``Date`` header; None if unparseable."""
    if not server_date:
        return None
    try:
        server = parsedate_to_datetime(server_date)
    except (TypeError, ValueError):
        return None
    if server.tzinfo is None:
        return None
    return server.timestamp() - local_now_epoch_s
