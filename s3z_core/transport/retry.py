"""What to do after a failed attempt: a pure decision, testable without sleeping (rclone's pacer).

``decide(error, attempt, …)`` looks only at its arguments and answers one of

* ``Retry(delay_s)``: back off (equal jitter) and send again;
* ``ResignForRegion(region)``: the server named the bucket's region: sign for it, resend now;
* ``CorrectClock(offset_s)``: our clock is off (RequestTimeTooSkewed): adopt it, resend now;
* ``GIVE_UP``: raise the error.

The transport's one attempt loop applies the decision (it owns the region cache and the clock
offset); nothing here changes state. Equal jitter: half the exponential step is fixed, half
random, so a herd of workers throttled together spreads out but never retries instantly.
Every kind of decision spends one attempt of the same budget, so no failure mode can loop.
"""

from __future__ import annotations

import random
from typing import Final

from s3z_core.config import RetryPolicy
from s3z_core.errors import ClockSkewError, S3zError, WrongRegionError
from s3z_core.protocol.dates import parse_http_date
from s3z_core.records import record


@record
class Retry:
    delay_s: float


@record
class ResignForRegion:
    region: str


@record
class CorrectClock:
    offset_s: float


@record
class GiveUp:
    pass


GIVE_UP: Final = GiveUp()
Decision = Retry | ResignForRegion | CorrectClock | GiveUp


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
    server = parse_http_date(server_date)
    if server is None or server.tzinfo is None:
        return None
    return server.timestamp() - local_now_epoch_s


def decide(
    error: S3zError,
    attempt: int,
    policy: RetryPolicy,
    rng: random.Random,
    *,
    signed_region: str,
    now_epoch_s: float,
) -> Decision:
    """The next step after ``attempt`` (1-based) failed with ``error``.

    ``signed_region`` is the region the failed attempt was signed for, ``now_epoch_s`` our
    (uncorrected) clock when the answer arrived.
    """
    if attempt >= policy.max_attempts:
        return GIVE_UP
    if isinstance(error, WrongRegionError):
        hint = error.region_hint
        return ResignForRegion(hint) if hint and hint != signed_region else GIVE_UP
    if isinstance(error, ClockSkewError):
        offset = clock_offset_s(error.server_date, now_epoch_s)
        return GIVE_UP if offset is None else CorrectClock(offset)
    if not error.retryable:
        return GIVE_UP
    return Retry(backoff_delay_s(attempt, policy, rng))
