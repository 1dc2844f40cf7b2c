"""The throughput chart's scales, as numbers (no Qt): a fixed time window, round tick steps.

Issue 15, bug 12: idle labels read "1, 1, 1, 0, 0" (five ticks over 0–1 printed with no
decimals), the time axis grew without end, and a 266 MB/s peak got a scale up to 500. Here
the time axis is always the last ``CHART_WINDOW_S`` seconds in ``TIME_STEP_S`` steps, and
the rate axis covers the peak *inside that window* in 1, 2 or 5 × 10ⁿ steps, with just
enough decimals that no two labels read the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

CHART_WINDOW_S = 60.0
TIME_STEP_S = 10.0
HEADROOM = 1.1  # the peak never touches the top edge
TARGET_INTERVALS = 4  # between 3 and 5 intervals: readable in a small dock
NICE_FACTORS = (1.0, 2.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True, slots=True)
class RateAxis:
    top: float
    step: float
    decimals: int

    @property
    def tick_count(self) -> int:
        return round(self.top / self.step) + 1

    @property
    def label_format(self) -> str:
        return f"%.{self.decimals}f"

    def labels(self) -> list[str]:
        return [f"{i * self.step:.{self.decimals}f}" for i in range(self.tick_count)]


def nice_step(raw: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10ⁿ at or above ``raw``."""
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for factor in NICE_FACTORS:
        if raw <= factor * magnitude * (1 + 1e-9):
            return factor * magnitude
    return 10.0 * magnitude  # pragma: no cover - the loop always returns


def rate_axis(peak: float, floor: float = 1.0) -> RateAxis:
    """An axis from 0 over ``peak`` (MB/s), at least up to ``floor`` (idle: 0–1)."""
    wanted = max(floor, peak * HEADROOM)
    step = nice_step(wanted / TARGET_INTERVALS)
    top = math.ceil(wanted / step - 1e-9) * step
    decimals = next(d for d in range(6) if abs(round(step, d) - step) < step * 1e-6)
    return RateAxis(top, step, decimals)


def time_ticks() -> int:
    return round(CHART_WINDOW_S / TIME_STEP_S) + 1
