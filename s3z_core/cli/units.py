"""Byte sizes as people type them (``8MiB``, ``64M``, ``1048576``) and as people read them."""

from __future__ import annotations

import re

# K/M/G/T alone are binary, like dd and s5cmd; KB/MB/… are decimal; KiB/MiB/… binary.
_MULTIPLIERS = {
    "": 1,
    "b": 1,
    "k": 1 << 10,
    "kib": 1 << 10,
    "kb": 10**3,
    "m": 1 << 20,
    "mib": 1 << 20,
    "mb": 10**6,
    "g": 1 << 30,
    "gib": 1 << 30,
    "gb": 10**9,
    "t": 1 << 40,
    "tib": 1 << 40,
    "tb": 10**12,
}
_SIZE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(text: str) -> int:
    """Parse a byte count; raises ``ValueError`` with a message fit for the user."""
    match = _SIZE.match(text)
    if match is None:
        raise ValueError(f"not a size: {text!r} (examples: 8MiB, 64M, 1048576)")
    number, unit = match.groups()
    multiplier = _MULTIPLIERS.get(unit.lower())
    if multiplier is None:
        raise ValueError(f"unknown unit {unit!r} in {text!r} (use B, KiB, MiB, GiB, TiB, K, M, G)")
    return int(float(number) * multiplier)


def format_size(size: float) -> str:
    """Human size with binary units: ``0 B``, ``1023 B``, ``1.5 KiB``, ``12.0 MiB``."""
    if size < 1024:
        return f"{int(size)} B"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        value /= 1024
        if value < 1024 or unit == "PiB":
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def format_duration(seconds: float) -> str:
    """``m:ss`` or ``h:mm:ss`` for an ETA or an elapsed time."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"
