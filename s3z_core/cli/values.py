"""Value checks for ``s3z-core``'s options: sizes, rates, durations, expiries, the ordered
filters. Each turns bad input into argparse's one-line usage error (exit 2), never a
traceback. Importing this costs only argparse."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from s3z_core.cli.units import format_size, parse_size

MIN_PART_SIZE = 5 * 1024 * 1024  # S3's smallest allowed part (except the last)
MAX_PART_SIZE = 5 * 1024 * 1024 * 1024
MAX_PRESIGN_S = 7 * 24 * 3600  # SigV4 presigned URLs live at most a week


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text!r}")
    return value


def part_size(text: str) -> int:
    value = size(text)
    if value < MIN_PART_SIZE:
        raise argparse.ArgumentTypeError(
            f"must be at least 5 MiB (S3's minimum part size), got {text!r} ({format_size(value)})"
        )
    if value > MAX_PART_SIZE:
        raise argparse.ArgumentTypeError(f"must be at most 5 GiB (S3's limit), got {text!r}")
    return value


def size(text: str) -> int:
    try:
        value = parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text!r}")
    return value


def rate(text: str) -> int:
    """A bandwidth cap in bytes per second: 20M, 512K, 1.5MiB (a trailing "/s" is allowed)."""
    return size(text.removesuffix("/s"))


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def duration(text: str) -> float:
    """``90s``, ``30m``, ``1h``, ``1h30m``, ``2d``, ``1w`` (a bare number is seconds)."""
    import re

    if re.fullmatch(r"\d+(\.\d+)?", text.strip()):
        return float(text)
    pairs = re.findall(r"(\d+(?:\.\d+)?)([smhdw])", text.strip().lower())
    if not pairs or "".join(n + u for n, u in pairs) != text.strip().lower():
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (examples: 90s, 30m, 1h, 2d)")
    return sum(float(n) * _DURATION_UNITS[u] for n, u in pairs)


def presign_expiry(text: str) -> int:
    value = positive_int(text)
    if value > MAX_PRESIGN_S:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_PRESIGN_S} s (7 days)")
    return value


class OrderedFilter(argparse.Action):
    """Keeps --include/--exclude in the order typed: the last matching rule wins."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        rules = list(getattr(namespace, "filters", None) or [])
        kind = "include" if option_string == "--include" else "exclude"
        rules.append((kind, str(values)))
        namespace.filters = rules
