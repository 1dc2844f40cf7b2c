"""Upload and download rates over the last minutes, binned for the live chart (no Qt).

Samples arrive once per UI tick (~100 ms); they are summed into half-second bins so
the chart draws a few hundred points per series however long the app runs.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from s3z_gui.models.transfer_store import Marker

BIN_S = 0.5
WINDOW_S = 300.0
CURRENT_WINDOW_S = 2.0  # the "current" label averages the last two seconds


@dataclass(frozen=True, slots=True)
class RatePoint:
    at_s: float  # bin end, monotonic seconds
    upload_bps: float
    download_bps: float


class ThroughputHistory:
    """Fixed-width bins of bytes moved; peak rates; markers inside the window."""

    def __init__(self, bin_s: float = BIN_S, window_s: float = WINDOW_S) -> None:
        self.bin_s = bin_s
        self.window_s = window_s
        self.points: deque[RatePoint] = deque()
        self.markers: deque[Marker] = deque()
        self.peak_upload_bps = 0.0
        self.peak_download_bps = 0.0
        self.retry_count = 0
        self.throttle_count = 0
        self._bin_start: float | None = None
        self._bin_up = 0
        self._bin_down = 0

    def record(
        self, now_s: float, upload_bytes: int, download_bytes: int, markers: tuple[Marker, ...] = ()
    ) -> bool:
        """Add one tick's bytes; returns True when a bin closed (the chart should redraw)."""
        for marker in markers:
            self.markers.append(marker)
            if marker.kind.value == "throttle":
                self.throttle_count += 1
            else:
                self.retry_count += 1
        if self._bin_start is None:
            self._bin_start = now_s
        closed = False
        if now_s - self._bin_start > self.window_s + self.bin_s:
            # After a long idle stretch, skip ahead: older bins would fall off the window anyway.
            self._close_bin(self._bin_start + self.bin_s)
            self._bin_start = now_s - self.window_s
            closed = True
        # Bytes of this tick belong to the bin they finished in; empty bins are zero rate.
        while now_s - self._bin_start >= self.bin_s:
            end = self._bin_start + self.bin_s
            self._close_bin(end)
            self._bin_start = end
            closed = True
        self._bin_up += max(0, upload_bytes)
        self._bin_down += max(0, download_bytes)
        cutoff = now_s - self.window_s
        while self.points and self.points[0].at_s < cutoff:
            self.points.popleft()
        while self.markers and self.markers[0].at_s < cutoff:
            self.markers.popleft()
        return closed or bool(markers)

    def _close_bin(self, end_s: float) -> None:
        up = self._bin_up / self.bin_s
        down = self._bin_down / self.bin_s
        self.points.append(RatePoint(end_s, up, down))
        self.peak_upload_bps = max(self.peak_upload_bps, up)
        self.peak_download_bps = max(self.peak_download_bps, down)
        self._bin_up = self._bin_down = 0

    def current(self) -> tuple[float, float]:
        """Average (upload, download) bytes/s over the last couple of closed bins."""
        if not self.points:
            return 0.0, 0.0
        count = max(1, round(CURRENT_WINDOW_S / self.bin_s))
        recent = list(self.points)[-count:]
        return (
            sum(p.upload_bps for p in recent) / len(recent),
            sum(p.download_bps for p in recent) / len(recent),
        )

    def peak_since(self, since_s: float) -> float:
        """The larger rate of any bin that ended at or after ``since_s`` (the chart's window)."""
        best = 0.0
        for point in reversed(self.points):
            if point.at_s < since_s:
                break
            best = max(best, point.upload_bps, point.download_bps)
        return best

    def rate_at(self, at_s: float) -> float:
        """The larger of both rates in the bin holding ``at_s`` (where a marker sits)."""
        best = 0.0
        for point in reversed(self.points):
            if point.at_s - self.bin_s <= at_s:
                return max(point.upload_bps, point.download_bps)
            best = max(point.upload_bps, point.download_bps)
        return best
