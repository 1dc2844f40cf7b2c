"""How late the event loop runs: a heartbeat that asks to be woken every 10 ms and records
how much later than asked it actually ran.

The rule "the event loop never blocks" is only a rule until it is measured; under qasync
the loop is the GUI thread, so this figure is how long the window could not repaint. The
bench reports it for every shape (``S3Z_LOOP_LAG_FILE``), the GUI can show it as a status
figure.

The beat is a chain of ``loop.call_later`` handles, not a task: it works on any loop that
implements ``call_later`` and ``time`` (asyncio's, uvloop, qasync), never shows up in
``asyncio.all_tasks`` (so shutdown code that cancels leftover tasks does not trip over
it), and costs one callback per beat. The lags go into a log-bucketed histogram: constant
memory however long the run, percentiles within 2 % (the exact maximum is kept too).
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from s3z_core.records import record

if TYPE_CHECKING:
    import asyncio

ENV_FILE = "S3Z_LOOP_LAG_FILE"
DEFAULT_INTERVAL_S = 0.010
# Buckets: [0, 10 µs) is "on time"; above that each bucket is 2 % wider than the last, up to
# 10 minutes (≈ 900 buckets). Anything longer lands in the last bucket; max stays exact.
_FLOOR_MS = 0.01
_RATIO = 1.02
_LOG_RATIO = math.log(_RATIO)
_BUCKETS = 2 + math.ceil(math.log(600_000 / _FLOOR_MS) / _LOG_RATIO)


@record
class LoopLagStats:
    """Percentiles are bucket upper edges (never below the true value, at most 2 % above it),
    capped at the exact maximum. All zero when no beat has run yet."""

    p50_ms: float
    p99_ms: float
    max_ms: float
    samples: int

    def to_json(self) -> dict[str, float | int]:
        return asdict(self)


class LagHistogram:
    """Counts of lags in log-spaced buckets: constant memory for hours-long runs."""

    def __init__(self) -> None:
        self._counts = [0] * _BUCKETS
        self._samples = 0
        self._max_ms = 0.0

    def record(self, lag_ms: float) -> None:
        self._samples += 1
        self._max_ms = max(self._max_ms, lag_ms)
        if lag_ms < _FLOOR_MS:
            index = 0
        else:
            index = min(_BUCKETS - 1, 1 + int(math.log(lag_ms / _FLOOR_MS) / _LOG_RATIO))
        self._counts[index] += 1

    def percentile(self, fraction: float) -> float:
        """The smallest bucket edge with at least ``fraction`` of the samples at or below it."""
        if not self._samples:
            return 0.0
        wanted = max(1, math.ceil(fraction * self._samples))
        seen = 0
        for index, count in enumerate(self._counts):
            seen += count
            if seen >= wanted:
                return min(self._max_ms, _FLOOR_MS * _RATIO**index)
        return self._max_ms

    def stats(self) -> LoopLagStats:
        return LoopLagStats(
            p50_ms=round(self.percentile(0.50), 3),
            p99_ms=round(self.percentile(0.99), 3),
            max_ms=round(self._max_ms, 3),
            samples=self._samples,
        )


class LoopLagProbe:
    """Start it on a running or about-to-run loop, read ``stats()`` any time on the loop's
    thread, ``stop()`` when done (idempotent). Lag = when the beat ran - when it was due."""

    def __init__(self, interval_s: float = DEFAULT_INTERVAL_S) -> None:
        if interval_s <= 0:
            raise ValueError("interval must be positive")
        self._interval_s = interval_s
        self._histogram = LagHistogram()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._due = 0.0

    @property
    def running(self) -> bool:
        return self._handle is not None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._handle is not None:
            return
        self._loop = loop
        self._schedule()

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def stats(self) -> LoopLagStats:
        return self._histogram.stats()

    def _schedule(self) -> None:
        assert self._loop is not None
        self._due = self._loop.time() + self._interval_s
        self._handle = self._loop.call_at(self._due, self._beat)

    def _beat(self) -> None:
        assert self._loop is not None
        # asyncio runs timers up to one clock resolution early: clamp at zero.
        self._histogram.record(max(0.0, (self._loop.time() - self._due) * 1000.0))
        self._schedule()


def write_stats(path: str | os.PathLike[str], stats: LoopLagStats) -> None:
    """Write the stats as one JSON object, atomically (a reader never sees half a file)."""
    import json

    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(stats.to_json()) + "\n")
    os.replace(tmp, target)


class EnvProbe:
    """The CLI's hook: a probe for the whole command when ``S3Z_LOOP_LAG_FILE`` is set, its
    figures written there when the command ends (also after an error or Ctrl-C)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, path: str) -> None:
        self._path = path
        self._probe = LoopLagProbe()
        self._probe.start(loop)

    @classmethod
    def from_env(cls, loop: asyncio.AbstractEventLoop) -> EnvProbe | None:
        path = os.environ.get(ENV_FILE)
        return cls(loop, path) if path else None

    def finish(self) -> str | None:
        """Stop and write; returns a one-line problem instead of raising (the command's own
        outcome must not be replaced by a failure to write a measurement)."""
        self._probe.stop()
        try:
            write_stats(self._path, self._probe.stats())
        except OSError as exc:
            return f"cannot write loop lag to {self._path}: {exc.strerror or exc}"
        return None
