"""Backoff and clock-offset math: pure functions, seeded RNG, no sleeping."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from s3z_core.config import RetryPolicy
from s3z_core.errors import (
    AccessDeniedError,
    ClockSkewError,
    LocalFileError,
    RetryableServiceError,
    ThrottledError,
    TransportError,
    WrongRegionError,
)
from s3z_core.transport.retry import (
    GIVE_UP,
    CorrectClock,
    ResignForRegion,
    Retry,
    backoff_delay_s,
    clock_offset_s,
    decide,
)


class _Extreme(random.Random):
    """An RNG pinned to one end of every ``uniform`` range, to hit the exact bounds."""

    def __init__(self, high: bool) -> None:
        super().__init__(0)
        self.high = high

    def uniform(self, a: float, b: float) -> float:
        return b if self.high else a


def _step(attempt: int, policy: RetryPolicy) -> float:
    return float(min(policy.max_delay_s, policy.base_delay_s * 2 ** (attempt - 1)))


def test_same_seed_same_delays_and_different_seed_differs() -> None:
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=100.0)
    first = [backoff_delay_s(a, policy, random.Random(7)) for a in range(1, 9)]
    again = [backoff_delay_s(a, policy, random.Random(7)) for a in range(1, 9)]
    other = [backoff_delay_s(a, policy, random.Random(8)) for a in range(1, 9)]
    assert first == again
    assert first != other


def test_exact_bounds_are_half_step_and_full_step() -> None:
    policy = RetryPolicy(base_delay_s=0.1, max_delay_s=20.0)
    low, high = _Extreme(high=False), _Extreme(high=True)
    assert backoff_delay_s(1, policy, low) == pytest.approx(0.05)
    assert backoff_delay_s(1, policy, high) == pytest.approx(0.1)
    assert backoff_delay_s(4, policy, low) == pytest.approx(0.4)
    assert backoff_delay_s(4, policy, high) == pytest.approx(0.8)
    # 0.1 * 2**9 = 51.2 > 20: capped, and the jitter is taken from the capped step.
    assert backoff_delay_s(10, policy, low) == pytest.approx(10.0)
    assert backoff_delay_s(10, policy, high) == pytest.approx(20.0)


@given(
    base=st.floats(min_value=0.001, max_value=5.0),
    cap=st.floats(min_value=0.001, max_value=120.0),
    attempt=st.integers(min_value=1, max_value=80),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_equal_jitter_stays_within_half_step_and_step(
    base: float, cap: float, attempt: int, seed: int
) -> None:
    policy = RetryPolicy(base_delay_s=base, max_delay_s=cap)
    step = _step(attempt, policy)
    delay = backoff_delay_s(attempt, policy, random.Random(seed))
    assert step / 2 <= delay <= step
    assert delay <= cap
    assert delay > 0  # equal jitter never retries instantly


@given(seed=st.integers(min_value=0, max_value=2**32))
def test_growth_is_exponential_until_the_cap(seed: int) -> None:
    policy = RetryPolicy(base_delay_s=0.01, max_delay_s=3.0)
    rng = random.Random(seed)
    delays = [backoff_delay_s(a, policy, rng) for a in range(1, 16)]
    # Uncapped (0.01 * 2**8 = 2.56 <= 3): attempt n+1's floor is attempt n's ceiling.
    for n in range(1, 9):
        assert delays[n] >= delays[n - 1]
        assert delays[n] >= _step(n, policy)
    # Attempt 9 on: the step is the cap.
    for d in delays[9:]:
        assert 1.5 <= d <= 3.0
    # Attempt 8's floor (0.64) is 64x attempt 1's ceiling (0.01).
    assert delays[7] / delays[0] >= 64


def test_mean_sits_in_the_middle_of_the_jitter_band() -> None:
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=1000.0)
    rng = random.Random(1234)
    samples = [backoff_delay_s(3, policy, rng) for _ in range(4000)]
    mean = sum(samples) / len(samples)
    # step 4: uniform on [2, 4], mean 3; spread covers most of the band.
    assert 2.9 < mean < 3.1
    assert min(samples) < 2.1
    assert max(samples) > 3.9


@pytest.mark.parametrize("attempt", [0, -1])
def test_attempt_below_one_is_a_caller_bug(attempt: int) -> None:
    with pytest.raises(ValueError, match="attempt"):
        backoff_delay_s(attempt, RetryPolicy(), random.Random(0))


def test_clock_offset_from_http_date() -> None:
    # 2024-01-02 03:04:05 UTC
    server = "Tue, 02 Jan 2024 03:04:05 GMT"
    epoch = 1704164645.0
    assert clock_offset_s(server, epoch) == pytest.approx(0.0)
    assert clock_offset_s(server, epoch - 1200) == pytest.approx(1200.0)
    assert clock_offset_s(server, epoch + 900.5) == pytest.approx(-900.5)


@pytest.mark.parametrize(
    "value",
    ["", "not a date", "Tue, 02 Jan 2024 03:04:05"],  # the last has no zone: ambiguous
)
def test_clock_offset_unusable_dates_give_none(value: str) -> None:
    assert clock_offset_s(value, 1704164645.0) is None


# -- decide: the one retry decision --------------------------------------------------------------

POLICY = RetryPolicy(max_attempts=4, base_delay_s=0.1, max_delay_s=20.0)


def _decide(error: Exception, attempt: int = 1, region: str = "us-east-1") -> object:
    return decide(
        error,  # type: ignore[arg-type]
        attempt,
        POLICY,
        random.Random(1),
        signed_region=region,
        now_epoch_s=1_700_000_000.0,
    )


def _service(cls: type, code: str, status: int, **kw: str) -> Exception:
    return cls(code=code, status=status, **kw)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "error",
    [
        TransportError("reset"),
        _service(RetryableServiceError, "InternalError", 500),
        _service(ThrottledError, "SlowDown", 503),
    ],
)
def test_retryable_errors_back_off_until_the_budget_is_spent(error: Exception) -> None:
    first = _decide(error, 1)
    assert isinstance(first, Retry)
    assert 0.05 <= first.delay_s <= 0.1
    assert isinstance(_decide(error, 3), Retry)
    assert _decide(error, 4) is GIVE_UP  # max_attempts counts the first try


@pytest.mark.parametrize(
    "error",
    [
        _service(AccessDeniedError, "AccessDenied", 403),
        LocalFileError("cannot read"),
        _service(WrongRegionError, "AuthorizationHeaderMalformed", 400),  # no hint
    ],
)
def test_permanent_errors_give_up_at_once(error: Exception) -> None:
    assert _decide(error, 1) is GIVE_UP


def test_a_named_region_is_resigned_for_once_and_never_again() -> None:
    err = _service(WrongRegionError, "AuthorizationHeaderMalformed", 400, region_hint="eu-west-3")
    assert _decide(err, 1) == ResignForRegion("eu-west-3")
    # Already signed for the region it names: re-signing again cannot help.
    assert _decide(err, 2, region="eu-west-3") is GIVE_UP
    assert _decide(err, 4) is GIVE_UP  # and it spends the same budget


def test_clock_skew_adopts_the_server_offset_and_an_unreadable_date_gives_up() -> None:
    date = "Tue, 14 Nov 2023 22:23:20 GMT"  # 1_700_000_600: ten minutes ahead
    err = _service(ClockSkewError, "RequestTimeTooSkewed", 403, server_date=date)
    decision = _decide(err)
    assert isinstance(decision, CorrectClock)
    assert decision.offset_s == pytest.approx(600.0)
    bad = _service(ClockSkewError, "RequestTimeTooSkewed", 403, server_date="yesterday")
    assert _decide(bad) is GIVE_UP


def test_decide_is_pure_same_inputs_same_answer() -> None:
    err = _service(ThrottledError, "SlowDown", 503)
    assert _decide(err, 2) == _decide(err, 2)
