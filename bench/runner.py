"""The sampling loop: one warm-up per (tool, operation), then samples interleaved across
tools in a seeded shuffled order per pass, until each tool's median is known well enough.

Interleaving means slow drift (page cache, server compaction, a neighbour's job) hits every
tool alike instead of whichever happened to run last.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.backends import Backend
from bench.bucket import BucketAdmin
from bench.measure import ProcessMeter, ServerCpu
from bench.operations import Operation
from bench.stats import median, median_interval
from bench.tools.base import Tool, ToolContext

OK = "ok"
FAILED = "failed"  # the tool exited non-zero
MISMATCH = "mismatch"  # the tool said it worked, the result is wrong
TIMEOUT = "timeout"
# Vacuum the server after every upload sample this big (bounded disk use on a full run;
# small quick-mode uploads are left to the vacuum at the end of the operation).
RECLAIM_AFTER_BYTES = 32 << 20


@dataclass(frozen=True, slots=True)
class SamplingPolicy:
    """How many samples to take. A (tool, op) cell stops once it has ``min_samples`` good
    samples and the 95 % CI of its median is within ``target_rel_ci`` of the median, or at
    ``max_samples``, or after ``max_consecutive_failures`` failures in a row."""

    min_samples: int = 5
    max_samples: int = 15
    target_rel_ci: float = 0.10
    warmups: int = 1
    seed: int = 20240601
    timeout_s: float = 1800.0
    max_consecutive_failures: int = 3

    def __post_init__(self) -> None:
        if self.min_samples < 1 or self.max_samples < self.min_samples:
            raise ValueError("need 1 <= min samples <= max samples")
        if self.target_rel_ci <= 0:
            raise ValueError("target relative CI must be positive")


@dataclass(frozen=True, slots=True)
class Sample:
    tool: str
    op: str
    index: int
    warmup: bool
    status: str
    wall_s: float
    user_s: float
    sys_s: float
    peak_rss_bytes: int
    server_cpu_s: float | None
    detail: str = ""
    # The tool's own event-loop lag figures ({p50_ms, p99_ms, max_ms, samples}); None when
    # the tool has no probe or wrote no readable file.
    loop_lag: dict[str, float] | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class _Cell:
    tool: Tool
    ctx: ToolContext
    good_walls: list[float] = field(default_factory=list)
    attempts: int = 0
    consecutive_failures: int = 0

    def done(self, policy: SamplingPolicy) -> bool:
        if self.consecutive_failures >= policy.max_consecutive_failures:
            return True
        if self.attempts >= policy.max_samples:
            return True
        n = len(self.good_walls)
        if n < policy.min_samples:
            return False
        centre = median(self.good_walls)
        return median_interval(self.good_walls).relative_half_width(centre) <= policy.target_rel_ci


class Runner:
    def __init__(
        self,
        *,
        backend: Backend,
        admin: BucketAdmin,
        tools: list[tuple[Tool, ToolContext]],
        policy: SamplingPolicy,
        meter: ProcessMeter,
        scratch_root: Path,
        log: Callable[[str], None],
    ) -> None:
        self._admin = admin
        self._tools = tools
        self._policy = policy
        self._meter = meter
        self._scratch_root = scratch_root
        self._log = log
        self._backend = backend
        self._server_cpu = ServerCpu(backend.server_pid)
        self._rng = random.Random(policy.seed)

    def run(self, operations: list[Operation]) -> list[Sample]:
        samples: list[Sample] = []
        for op in operations:
            self._log(f"== {op.name}: preparing")
            started = time.perf_counter()
            op.prepare(self._admin)
            self._log(f"   prepared in {time.perf_counter() - started:.1f} s")
            try:
                samples.extend(self._run_operation(op))
            finally:
                started = time.perf_counter()
                op.cleanup(self._admin)
                self._backend.reclaim_space()
                self._log(f"   cleaned up in {time.perf_counter() - started:.1f} s")
        return samples

    def _run_operation(self, op: Operation) -> list[Sample]:
        cells = [_Cell(tool, ctx) for tool, ctx in self._tools if op.kind in tool.kinds]
        samples: list[Sample] = []
        for _ in range(self._policy.warmups):
            for cell in self._shuffled(cells):
                samples.append(self._sample(op, cell, warmup=True))
        active = list(cells)
        while active:
            for cell in self._shuffled(active):
                sample = self._sample(op, cell, warmup=False)
                samples.append(sample)
                cell.attempts += 1
                if sample.status == OK:
                    cell.good_walls.append(sample.wall_s)
                    cell.consecutive_failures = 0
                else:
                    cell.consecutive_failures += 1
            active = [c for c in active if not c.done(self._policy)]
        return samples

    def _shuffled(self, cells: list[_Cell]) -> list[_Cell]:
        order = sorted(cells, key=lambda c: c.tool.name)
        self._rng.shuffle(order)
        return order

    def _sample(self, op: Operation, cell: _Cell, *, warmup: bool) -> Sample:
        scratch = self._scratch_root / "sample"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        tool = cell.tool
        op.before_sample(tool, self._admin, scratch)
        command = op.command(tool, cell.ctx, scratch)
        stdout_path = scratch / "stdout.txt"
        env = tool.env(cell.ctx)
        lag_path = scratch / "loop-lag.json"
        if tool.loop_lag_env:
            env[tool.loop_lag_env] = str(lag_path)
        server_before = self._server_cpu.total_s()
        result = self._meter.run(
            command,
            env=env,
            cwd=scratch,
            stdout_path=stdout_path,
            scratch_dir=scratch,
            timeout_s=self._policy.timeout_s,
        )
        server_after = self._server_cpu.total_s()
        loop_lag = read_loop_lag(lag_path) if tool.loop_lag_env else None
        if result.timed_out:
            status, detail = TIMEOUT, f"killed after {self._policy.timeout_s:.0f} s"
        elif result.returncode != 0:
            tail = result.stderr_tail.strip().splitlines()[-3:]
            status, detail = FAILED, f"exit {result.returncode}: " + " | ".join(tail)
        else:
            problem = op.verify(tool, self._admin, stdout_path, scratch)
            status, detail = (MISMATCH, problem) if problem else (OK, "")
        op.after_sample(tool, self._admin, scratch)
        if op.writes_to_server and op.bytes_moved >= RECLAIM_AFTER_BYTES:
            self._backend.reclaim_space()
        server_cpu = (
            server_after - server_before
            if server_before is not None and server_after is not None
            else None
        )
        sample = Sample(
            tool=tool.name,
            op=op.name,
            index=cell.attempts,
            warmup=warmup,
            status=status,
            wall_s=result.wall_s,
            user_s=result.user_s,
            sys_s=result.sys_s,
            peak_rss_bytes=result.peak_rss_bytes,
            server_cpu_s=server_cpu,
            detail=detail[:500],
            loop_lag=loop_lag,
        )
        label = "warm-up" if warmup else f"#{cell.attempts + 1}"
        extra = f" — {detail}" if detail else ""
        if tool.loop_lag_env:
            extra = f" lag {format_loop_lag(loop_lag)}{extra}"
        self._log(
            f"   {op.name:<22} {tool.name:<9} {label:<8} {status:<8} {result.wall_s:8.3f} s "
            f"{result.peak_rss_bytes / 2**20:7.1f} MiB{extra}"
        )
        return sample


_LAG_FIELDS = ("p50_ms", "p99_ms", "max_ms", "samples")


def read_loop_lag(path: Path) -> dict[str, float] | None:
    """The figures a tool wrote, or None when the file is missing or not what it should be
    (a tool that crashed, an old build without the probe): "n/a", never a failed sample."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    values = {k: data.get(k) for k in _LAG_FIELDS}
    # type(), not isinstance(): JSON true/false are bools, which isinstance counts as ints.
    return values if all(type(v) in (int, float) for v in values.values()) else None


def format_loop_lag(lag: dict[str, float] | None) -> str:
    if lag is None:
        return "n/a"
    return f"p50 {lag['p50_ms']:.1f}/p99 {lag['p99_ms']:.1f}/max {lag['max_ms']:.0f} ms"
