"""Small, dependency-free statistics for the harness: medians, their confidence intervals,
and Welch's t-test with a Student-t CDF (regularised incomplete beta), so the bench needs
no SciPy."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

_BETA_EPS = 3.0e-14
_BETA_TINY = 1.0e-300
_BETA_MAX_ITER = 300


def median(values: Sequence[float]) -> float:
    """The sample median; raises ValueError on an empty sequence."""
    if not values:
        raise ValueError("median of no values")
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2.0


def mean(values: Sequence[float]) -> float:
    if not values:
        raise ValueError("mean of no values")
    return math.fsum(values) / len(values)


def variance(values: Sequence[float]) -> float:
    """Unbiased sample variance (n - 1); 0.0 for fewer than two values."""
    if len(values) < 2:
        return 0.0
    m = mean(values)
    return math.fsum((v - m) ** 2 for v in values) / (len(values) - 1)


def _binomial_half_cdf(k: int, n: int) -> float:
    """P(Binomial(n, 1/2) <= k)."""
    if k < 0:
        return 0.0
    return math.fsum(math.comb(n, i) for i in range(k + 1)) / 2.0**n


@dataclass(frozen=True, slots=True)
class MedianInterval:
    """A distribution-free interval for the median from order statistics.

    ``coverage`` is the exact confidence of [low, high]; for n < 6 no pair of order
    statistics reaches 95 %, so the interval is [min, max] and the coverage says so.
    """

    low: float
    high: float
    coverage: float

    def relative_half_width(self, centre: float) -> float:
        if centre <= 0.0:
            return math.inf
        return (self.high - self.low) / 2.0 / centre


def median_interval(values: Sequence[float], confidence: float = 0.95) -> MedianInterval:
    """Order-statistics CI of the median: [x_(k), x_(n-k+1)] with the largest k whose
    coverage 1 - 2·P(B <= k-1) is still >= ``confidence`` (B ~ Binomial(n, 1/2))."""
    if not values:
        raise ValueError("interval of no values")
    ordered = sorted(values)
    n = len(ordered)
    k = 1
    while k + 1 <= (n + 1) // 2 and 1.0 - 2.0 * _binomial_half_cdf(k, n) >= confidence:
        k += 1
    coverage = 1.0 - 2.0 * _binomial_half_cdf(k - 1, n)
    return MedianInterval(low=ordered[k - 1], high=ordered[n - k], coverage=coverage)


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """Lentz's evaluation of the continued fraction for the incomplete beta function."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _BETA_TINY else _BETA_TINY)
    h = d
    for m in range(1, _BETA_MAX_ITER + 1):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _BETA_TINY else _BETA_TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _BETA_TINY else _BETA_TINY
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _BETA_TINY else _BETA_TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _BETA_TINY else _BETA_TINY
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _BETA_EPS:
            return h
    raise ArithmeticError(f"incomplete beta did not converge for a={a}, b={b}, x={x}")


def regularized_incomplete_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b) for a, b > 0 and 0 <= x <= 1."""
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"x must be in [0, 1], got {x}")
    if x in (0.0, 1.0):
        return x
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_continued_fraction(a, b, x) / a
    return 1.0 - front * _beta_continued_fraction(b, a, 1.0 - x) / b


def student_t_two_sided_p(t: float, df: float) -> float:
    """P(|T| >= |t|) for Student's t with ``df`` degrees of freedom."""
    if df <= 0.0:
        raise ValueError(f"degrees of freedom must be positive, got {df}")
    if math.isinf(t):
        return 0.0
    return regularized_incomplete_beta(df / 2.0, 0.5, df / (df + t * t))


@dataclass(frozen=True, slots=True)
class WelchResult:
    t: float
    df: float
    p_value: float


def welch_t_test(old: Sequence[float], new: Sequence[float]) -> WelchResult:
    """Welch's unequal-variance t-test (two-sided). Needs at least two values per side.

    When both sides have zero variance the p-value is 1.0 for equal means and 0.0 otherwise:
    identical repeated timings carry no noise to hide a difference in.
    """
    if len(old) < 2 or len(new) < 2:
        raise ValueError("Welch's t-test needs at least two samples on each side")
    m_old, m_new = mean(old), mean(new)
    se2_old, se2_new = variance(old) / len(old), variance(new) / len(new)
    se2 = se2_old + se2_new
    if se2 == 0.0:
        same = m_old == m_new
        return WelchResult(t=0.0 if same else math.inf, df=math.inf, p_value=1.0 if same else 0.0)
    t = (m_new - m_old) / math.sqrt(se2)
    df_den = 0.0
    if se2_old > 0.0:
        df_den += se2_old**2 / (len(old) - 1)
    if se2_new > 0.0:
        df_den += se2_new**2 / (len(new) - 1)
    df = se2**2 / df_den
    return WelchResult(t=t, df=df, p_value=student_t_two_sided_p(t, df))
