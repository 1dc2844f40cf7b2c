"""Human-readable sizes, rates and durations for every label and cell of the app."""

from __future__ import annotations

import math

_SIZE_UNITS = ("bytes", "kB", "MB", "GB", "TB", "PB")


def format_size(size_bytes: int | None) -> str:
    """Decimal units, like the file managers users compare us with ("1.5 MB")."""
    if size_bytes is None:
        return "—"
    if size_bytes < 1000:
        return "1 byte" if size_bytes == 1 else f"{size_bytes} bytes"
    value = float(size_bytes)
    for unit in _SIZE_UNITS[1:]:
        value /= 1000.0
        if value < 1000.0 or unit == _SIZE_UNITS[-1]:
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def format_rate(bytes_per_s: float) -> str:
    """A transfer speed; blank when nothing moves so idle rows stay quiet."""
    if bytes_per_s <= 0:
        return ""
    return f"{format_size(round(bytes_per_s))}/s"


def format_duration(seconds: float | None) -> str:
    """An ETA such as "42 s", "3 min 05 s", "2 h 10 min"; "∞"-like cases become blank."""
    if seconds is None or math.isnan(seconds) or math.isinf(seconds) or seconds < 0:
        return ""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def megabytes_per_s(bytes_per_s: float) -> float:
    """The chart's unit (MB/s, decimal)."""
    return bytes_per_s / 1_000_000.0


def count_of(n: int, noun: str) -> str:
    """ "1 file", "4 files": every count shown next to a noun reads as English."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
