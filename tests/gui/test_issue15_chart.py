"""Issue 15 bug 12, the chart: idle labels "1, 1, 1, 0, 0", a time axis growing without end
(−30 s to −187 s), a 0–500 scale for a 266 MB/s peak, a panel whose width jumps."""

from __future__ import annotations

import math
from typing import Any

from s3z_gui.models.chart_axis import CHART_WINDOW_S, rate_axis
from s3z_gui.models.transfer_store import TickChanges
from s3z_gui.views.chart import ThroughputChart


def _tick(upload_bytes: int) -> TickChanges:
    return TickChanges(0, 0, {}, upload_bytes, 0, ())


def _labels(chart: ThroughputChart) -> list[str]:
    axis = chart.y_axis
    count = axis.tickCount()
    step = (axis.max() - axis.min()) / (count - 1)
    return [axis.labelFormat() % (axis.min() + i * step) for i in range(count)]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _run(chart: ThroughputChart, clock: Clock, seconds: float, rate_bps: float) -> None:
    for _ in range(round(seconds * 10)):
        clock.now += 0.1
        chart.record(_tick(round(rate_bps * 0.1)))


def test_idle_labels_are_distinct_and_round(qapp: Any) -> None:
    chart = ThroughputChart(clock=Clock())
    labels = _labels(chart)
    assert len(set(labels)) == len(labels), labels
    assert float(labels[0]) == 0.0
    assert float(labels[-1]) == 1.0
    assert 4 <= len(labels) <= 6


def test_scale_fits_the_peak_in_round_steps() -> None:
    for peak in (0.0, 0.3, 3.7, 42.0, 266.0, 1234.0):
        axis = rate_axis(peak)
        assert axis.top >= peak
        labels = axis.labels()
        assert len(set(labels)) == len(labels)
        assert 3 <= axis.tick_count - 1 <= 6
        mantissa = axis.step / 10 ** math.floor(math.log10(axis.step))
        assert round(mantissa, 6) in (1.0, 2.0, 2.5, 5.0)
    assert rate_axis(266.0).top <= 400  # not 500 for a 266 MB/s peak


def test_time_window_is_fixed_and_scale_follows_the_window(qapp: Any) -> None:
    clock = Clock()
    chart = ThroughputChart(clock=clock)
    assert (chart.x_axis.min(), chart.x_axis.max()) == (-CHART_WINDOW_S, 0)
    _run(chart, clock, 20, 266e6)
    assert chart.y_axis.max() <= 400
    assert chart.y_axis.max() >= 266
    _run(chart, clock, 200, 0)  # long after: the axis does not grow, the scale comes back
    assert (chart.x_axis.min(), chart.x_axis.max()) == (-CHART_WINDOW_S, 0)
    assert all(p.x() >= -CHART_WINDOW_S - 1 for p in chart.upload.points())
    assert chart.y_axis.max() == 1.0


def test_the_panel_keeps_its_width_as_numbers_change(qapp: Any) -> None:
    clock = Clock()
    chart = ThroughputChart(clock=clock)
    header = (chart.upload_label, chart.download_label, chart.events_label)

    def widths() -> list[int]:
        hints = [w for label in header for w in (label.sizeHint().width(), label.minimumWidth())]
        return [*hints, chart.minimumSizeHint().width(), chart.sizeHint().width()]

    idle = widths()
    _run(chart, clock, 5, 1234.5e6)
    assert "1234" in chart.upload_label.text()
    assert widths() == idle


def test_the_panel_can_be_narrowed_below_its_header_figures(qapp: Any) -> None:
    """The figures ask for their widest text but do not impose it: with fixed label widths
    the chart dock could never be narrower than ~780 px, and the queue beside it got
    squeezed to a third of the window (names and states elided)."""
    chart = ThroughputChart(clock=Clock())
    asked = chart.upload_label.sizeHint().width() + chart.download_label.sizeHint().width()
    assert chart.sizeHint().width() >= asked
    assert chart.minimumSizeHint().width() < asked // 2
    chart.resize(asked // 2, 300)
    chart.show()
    qapp.processEvents()
    assert chart.width() == asked // 2
