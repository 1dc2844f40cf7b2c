"""Live throughput: upload and download MB/s over the last minutes, with retry markers.

Redrawn only when a half-second bin closes, with ``QLineSeries.replace`` (one call per
series, measured at ~5 ms for 3000 points on this machine class); colours follow the
palette so the chart reads in light and dark themes.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCharts import QChart, QChartView, QLineSeries, QScatterSeries, QValueAxis
from PySide6.QtCore import QEvent, QMargins, QPointF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPalette, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from s3z_gui.models.chart_axis import CHART_WINDOW_S, rate_axis, time_ticks
from s3z_gui.models.throughput import ThroughputHistory
from s3z_gui.models.transfer_store import MarkerKind, TickChanges
from s3z_gui.units import megabytes_per_s

UPLOAD_COLOUR = QColor(0x3B, 0x82, 0xF6)  # blue, readable on light and dark
DOWNLOAD_COLOUR = QColor(0x22, 0xA0, 0x6B)  # green
RETRY_COLOUR = QColor(0xF5, 0x9E, 0x0B)  # amber
THROTTLE_COLOUR = QColor(0xE1, 0x1D, 0x48)  # red
CAP_COLOUR = QColor(0x94, 0xA3, 0xB8)  # slate: the limit, a dashed line


class _StableLabel(QLabel):
    """A header figure whose size never follows its text: it asks for the width of the
    widest text it will show (so the panel does not jump as the numbers change, bug 12) but
    can be narrowed below it (a fixed width made the whole chart dock at least ~780 px wide,
    so the queue beside it could never get the space the window gives it)."""

    def __init__(self, widest: str) -> None:
        super().__init__()
        bold = self.font()
        bold.setBold(True)
        self.setFont(bold)
        metrics = QFontMetrics(bold)
        self._hint = QSize(metrics.horizontalAdvance(widest) + 8, metrics.height() + 4)

    def sizeHint(self) -> QSize:
        return self._hint

    def minimumSizeHint(self) -> QSize:
        return QSize(0, self._hint.height())


def _is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


class ThroughputChart(QWidget):
    def __init__(
        self, history: ThroughputHistory | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.history = history or ThroughputHistory()
        self._clock = clock
        self.upload = QLineSeries()
        self.upload.setName("Upload")
        self.download = QLineSeries()
        self.download.setName("Download")
        self.retries = QScatterSeries()
        self.retries.setName("Retry")
        self.throttles = QScatterSeries()
        self.throttles.setName("Throttled")
        self.cap = QLineSeries()  # the bandwidth limit, when one is set
        self.cap_bps: float | None = None
        for line, colour in ((self.upload, UPLOAD_COLOUR), (self.download, DOWNLOAD_COLOUR)):
            line.setPen(QPen(colour, 2))
        for scatter, colour in ((self.retries, RETRY_COLOUR), (self.throttles, THROTTLE_COLOUR)):
            scatter.setColor(colour)
            scatter.setBorderColor(colour)
            scatter.setMarkerSize(9)

        self.chart = QChart()
        self.chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
        self.chart.setMargins(QMargins(4, 4, 4, 4))
        self.chart.layout().setContentsMargins(0, 0, 0, 0)
        self.chart.setBackgroundRoundness(0)
        for series in (self.upload, self.download, self.retries, self.throttles, self.cap):
            self.chart.addSeries(series)
        self.x_axis = QValueAxis()
        self.x_axis.setRange(-CHART_WINDOW_S, 0)  # fixed: the last minute, always
        self.x_axis.setLabelFormat("%d s")
        self.x_axis.setTickCount(time_ticks())
        self.y_axis = QValueAxis()
        self.y_axis.setRange(0, 1)
        self.y_axis.setLabelFormat("%.0f")
        self.y_axis.setTitleText("MB/s")
        self.chart.addAxis(self.x_axis, Qt.AlignmentFlag.AlignBottom)
        self.chart.addAxis(self.y_axis, Qt.AlignmentFlag.AlignLeft)
        for series in (self.upload, self.download, self.retries, self.throttles, self.cap):
            series.attachAxis(self.x_axis)
            series.attachAxis(self.y_axis)
        self.cap.setVisible(False)
        self.chart.legend().setAlignment(Qt.AlignmentFlag.AlignTop)

        self.view = QChartView(self.chart)
        self.view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.view.setMinimumHeight(160)

        # "Upload"/"Download" are the legend's words and colours: the figures stay short
        # enough for a panel beside the queue (and say it in full in their tooltips).
        self.upload_label = _StableLabel("↑ 8888.8 MB/s  (peak 8888.8)")
        self.download_label = _StableLabel("↓ 8888.8 MB/s  (peak 8888.8)")
        self.events_label = _StableLabel("88888 retries · 88888 throttled")
        self.upload_label.setToolTip("Upload rate now, and its peak in this window (MB/s)")
        self.download_label.setToolTip("Download rate now, and its peak in this window (MB/s)")
        # Rates on one line, retries and throttling on the next: beside the queue the panel
        # is often under 500 px wide, too narrow for all three at their widest.
        header = QHBoxLayout()
        header.setContentsMargins(8, 4, 8, 0)
        header.addWidget(self.upload_label)
        header.addSpacing(16)
        header.addWidget(self.download_label)
        header.addStretch(1)
        events = QHBoxLayout()
        events.setContentsMargins(8, 0, 8, 0)
        events.addWidget(self.events_label)
        events.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(header)
        layout.addLayout(events)
        layout.addWidget(self.view, 1)
        self.apply_palette()
        self.redraw()

    def apply_palette(self) -> None:
        """Match the window palette (system light or dark) instead of a fixed theme."""
        palette = self.palette()
        dark = _is_dark(palette)
        self.chart.setTheme(
            QChart.ChartTheme.ChartThemeDark if dark else QChart.ChartTheme.ChartThemeLight
        )
        self.chart.setBackgroundBrush(palette.color(QPalette.ColorRole.Base))
        self.chart.setPlotAreaBackgroundVisible(False)
        text = palette.color(QPalette.ColorRole.Text)
        grid = palette.color(QPalette.ColorRole.Mid)
        for axis in (self.x_axis, self.y_axis):
            axis.setLabelsColor(text)
            axis.setTitleBrush(text)
            axis.setGridLineColor(grid)
            axis.setLinePenColor(grid)
        self.chart.legend().setLabelColor(text)
        # setTheme resets series colours: restore ours.
        self.upload.setPen(QPen(UPLOAD_COLOUR, 2))
        self.download.setPen(QPen(DOWNLOAD_COLOUR, 2))
        self.cap.setPen(QPen(CAP_COLOUR, 1.5, Qt.PenStyle.DashLine))
        for scatter, colour in ((self.retries, RETRY_COLOUR), (self.throttles, THROTTLE_COLOUR)):
            scatter.setColor(colour)
            scatter.setBorderColor(colour)
        self.upload_label.setStyleSheet(f"color: {UPLOAD_COLOUR.name()}; font-weight: bold")
        self.download_label.setStyleSheet(f"color: {DOWNLOAD_COLOUR.name()}; font-weight: bold")

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.apply_palette()

    def record(self, changes: TickChanges) -> None:
        """One UI tick's bytes and markers; redraw only when a bin closed."""
        if self.history.record(
            self._clock(), changes.upload_bytes, changes.download_bytes, changes.markers
        ):
            self.redraw()

    def set_cap(self, cap_bps: float | None) -> None:
        """Show the bandwidth limit as a dashed line (None: no limit, no line)."""
        self.cap_bps = cap_bps
        self.cap.setVisible(cap_bps is not None)
        if cap_bps is not None:
            self.cap.setName(f"Limit {megabytes_per_s(cap_bps):.1f} MB/s")
        self.redraw()

    def redraw(self) -> None:
        now = self._clock()
        history = self.history
        since = now - CHART_WINDOW_S - history.bin_s  # one bin more: the line enters the edge
        shown = [p for p in history.points if p.at_s >= since]
        up_points = [QPointF(p.at_s - now, megabytes_per_s(p.upload_bps)) for p in shown]
        down_points = [QPointF(p.at_s - now, megabytes_per_s(p.download_bps)) for p in shown]
        self.upload.replace(up_points)
        self.download.replace(down_points)
        retry_points: list[QPointF] = []
        throttle_points: list[QPointF] = []
        for marker in history.markers:
            if marker.at_s < since:
                continue
            point = QPointF(marker.at_s - now, megabytes_per_s(history.rate_at(marker.at_s)))
            (throttle_points if marker.kind == MarkerKind.THROTTLE else retry_points).append(point)
        self.retries.replace(retry_points)
        self.throttles.replace(throttle_points)
        # The scale follows the peak of what is shown, in round steps.
        cap = megabytes_per_s(self.cap_bps or 0.0)
        self.cap.replace([QPointF(-CHART_WINDOW_S, cap), QPointF(0, cap)] if cap else [])
        axis = rate_axis(max(cap, megabytes_per_s(history.peak_since(since))))
        self.y_axis.setRange(0, axis.top)
        self.y_axis.setTickCount(axis.tick_count)
        self.y_axis.setLabelFormat(axis.label_format)
        self.rate_axis = axis
        up_now, down_now = history.current()
        self.upload_label.setText(
            f"↑ {megabytes_per_s(up_now):.1f} MB/s"
            f"  (peak {megabytes_per_s(history.peak_upload_bps):.1f})"
        )
        self.download_label.setText(
            f"↓ {megabytes_per_s(down_now):.1f} MB/s"
            f"  (peak {megabytes_per_s(history.peak_download_bps):.1f})"
        )
        self.events_label.setText(
            f"{history.retry_count} retries · {history.throttle_count} throttled"
        )
