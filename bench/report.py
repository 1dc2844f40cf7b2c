"""Turning raw samples into the run's outputs: the JSON record and the Markdown table of
medians, with every ratio taken against s5cmd measured in the same run."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.runner import OK
from bench.stats import median, median_interval
from bench.tools import REFERENCE_TOOL

SCHEMA = "s3z-bench/1"
MIB = float(1 << 20)


@dataclass(frozen=True, slots=True)
class CellSummary:
    """Medians of the good (verified) samples of one (tool, operation)."""

    tool: str
    op: str
    n_ok: int
    n_bad: int
    bad_statuses: tuple[str, ...]
    wall_s: float | None
    ci_low_s: float | None
    ci_high_s: float | None
    peak_rss_bytes: float | None
    cpu_s: float | None
    server_cpu_s: float | None
    # Event-loop lag of tools with a probe: medians of each sample's p50 and p99, the worst
    # sample's p99, the largest max; ``lag_n`` = verified samples that brought figures.
    lag_p50_ms: float | None = None
    lag_p99_ms: float | None = None
    lag_worst_p99_ms: float | None = None
    lag_max_ms: float | None = None
    lag_n: int = 0

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


def summarise(record: dict[str, Any]) -> list[CellSummary]:
    """One summary per (tool, op), ordered by operation then tool; warm-ups are left out."""
    cells: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for s in record["samples"]:
        if not s["warmup"]:
            cells.setdefault((s["tool"], s["op"]), []).append(s)
    op_rank = {o["name"]: i for i, o in enumerate(record["operations"])}
    tool_rank = {t: i for i, t in enumerate(record["tools"])}
    order = sorted(cells, key=lambda k: (op_rank.get(k[1], 999), tool_rank.get(k[0], 999), k))
    out: list[CellSummary] = []
    for tool, op in order:
        group = cells[(tool, op)]
        good = [s for s in group if s["status"] == OK]
        bad = sorted({s["status"] for s in group if s["status"] != OK})
        walls = [s["wall_s"] for s in good]
        interval = median_interval(walls) if walls else None
        servers = [s["server_cpu_s"] for s in good if s["server_cpu_s"] is not None]
        lags = [s["loop_lag"] for s in good if s.get("loop_lag")]
        out.append(
            CellSummary(
                tool=tool,
                op=op,
                n_ok=len(good),
                n_bad=len(group) - len(good),
                bad_statuses=tuple(bad),
                wall_s=median(walls) if walls else None,
                ci_low_s=interval.low if interval else None,
                ci_high_s=interval.high if interval else None,
                peak_rss_bytes=median([s["peak_rss_bytes"] for s in good]) if good else None,
                cpu_s=median([s["user_s"] + s["sys_s"] for s in good]) if good else None,
                server_cpu_s=median(servers) if servers else None,
                lag_p50_ms=median([g["p50_ms"] for g in lags]) if lags else None,
                lag_p99_ms=median([g["p99_ms"] for g in lags]) if lags else None,
                lag_worst_p99_ms=max(g["p99_ms"] for g in lags) if lags else None,
                lag_max_ms=max(g["max_ms"] for g in lags) if lags else None,
                lag_n=len(lags),
            )
        )
    return out


def write_json(path: Path, record: dict[str, Any]) -> None:
    path.write_text(json.dumps(record, indent=1, sort_keys=False) + "\n")


def load_run(path: Path) -> dict[str, Any]:
    """Read a run record; raises ValueError with a readable message when it isn't one."""
    try:
        record = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read bench run {path}: {exc}") from exc
    if not isinstance(record, dict) or record.get("schema") != SCHEMA:
        raise ValueError(f"{path} is not a bench run record (schema {SCHEMA})")
    return record


def _fmt(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def markdown_table(record: dict[str, Any]) -> str:
    """The human summary: medians per (op, tool), time ratio to s5cmd, RSS, CPU."""
    summaries = summarise(record)
    ops = {o["name"]: o for o in record["operations"]}
    reference = {s.op: s for s in summaries if s.tool == REFERENCE_TOOL}
    machine = record["machine"]
    lines = [
        f"# Bench run {record['run_id']}",
        "",
        f"- machine: {machine['cpu_model']}, {machine['logical_cores']} cores, "
        f"{machine['memory_bytes'] / 2**30:.0f} GiB, {machine['os']} {machine['kernel']}, "
        f"Python {machine['python']}, commit {machine['git_commit']}",
        f"- backend: {record['backend']['description']}",
        f"- measurement: {record['measurement']}",
        f"- sampling: {record['settings']['sampling']}",
        "- tools: " + "; ".join(f"{k} = {v}" for k, v in record["tools"].items()),
    ]
    lines.extend(f"- skipped: {k} ({v})" for k, v in record.get("skipped_tools", {}).items())
    lines += [
        "",
        "Medians of verified samples. `× s5cmd` is time relative to s5cmd in this run "
        "(below 1.0 is faster). CI is the 95 % order-statistics interval of the median. "
        "CPU is user+sys of the client process tree; server CPU is measured only when the "
        "bench started the server.",
        "",
        "| operation | tool | time s | 95 % CI | MiB/s | × s5cmd | peak RSS MiB | CPU s "
        "| server CPU s | samples |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for s in summaries:
        op = ops.get(s.op, {})
        throughput = op.get("bytes", 0) / MIB / s.wall_s if s.wall_s and op.get("bytes") else None
        ref = reference.get(s.op)
        ratio = s.wall_s / ref.wall_s if s.wall_s and ref and ref.wall_s else None
        ci = (
            f"{s.ci_low_s:.3f}–{s.ci_high_s:.3f}"
            if s.ci_low_s is not None and s.ci_high_s is not None
            else "—"
        )
        samples = f"{s.n_ok}"
        if s.n_bad:
            samples += f" (+{s.n_bad} **{'/'.join(s.bad_statuses)}**)"
        lines.append(
            f"| {s.op} | {s.tool} | {_fmt(s.wall_s, '.3f')} | {ci} | {_fmt(throughput, '.0f')} "
            f"| {_fmt(ratio, '.2f')} | "
            f"{_fmt(s.peak_rss_bytes / MIB if s.peak_rss_bytes is not None else None, '.0f')} "
            f"| {_fmt(s.cpu_s, '.2f')} | {_fmt(s.server_cpu_s, '.2f')} | {samples} |"
        )
    return (
        "\n".join(lines)
        + "\n"
        + loop_lag_table(record)
        + targets_table(record)
        + rate_limit_table(record)
    )


LOOP_LAG_P99_CEILING_MS = 20.0


def loop_lag_table(record: dict[str, Any]) -> str:
    """Issue 12's figure: how late the event loop of each tool with a probe ran, per shape,
    judged against p99 ≤ 20 ms on the worst sample. A cell without figures (a build without
    the probe, a crashed sample) says n/a. Empty when no tool in the run has a probe."""
    probed = set(record.get("loop_lag_tools", []))
    cells = [s for s in summarise(record) if s.tool in probed]
    if not cells:
        return ""
    lines = [
        "",
        "## Event-loop lag (a 10 ms heartbeat inside the process; how late it ran)",
        "",
        "p50 and p99: medians over the samples of each sample's own percentile; worst p99 and "
        "max: the worst sample. Under the GUI this is how long the window could not repaint.",
        "",
        f"| operation | tool | p50 ms | p99 ms | worst p99 ms | max ms "
        f"| p99 ≤ {LOOP_LAG_P99_CEILING_MS:.0f} ms | samples with figures |",
        "|---|---|---:|---:|---:|---:|---|---|",
    ]
    for s in cells:
        if s.lag_worst_p99_ms is None:
            lines.append(f"| {s.op} | {s.tool} | n/a | n/a | n/a | n/a | n/a | 0 of {s.n_ok} |")
            continue
        verdict = _verdict(
            s.lag_worst_p99_ms <= LOOP_LAG_P99_CEILING_MS, f"{s.lag_worst_p99_ms:.1f} ms"
        )
        lines.append(
            f"| {s.op} | {s.tool} | {_fmt(s.lag_p50_ms, '.2f')} | {_fmt(s.lag_p99_ms, '.1f')} "
            f"| {_fmt(s.lag_worst_p99_ms, '.1f')} | {_fmt(s.lag_max_ms, '.0f')} | {verdict} "
            f"| {s.lag_n} of {s.n_ok} |"
        )
    return "\n".join(lines) + "\n"


OURS = "s3z-core"
RSS_CEILING_MIB = 80.0
SMALL_FILE_BYTES = 1 << 20


def _verdict(ok: bool, text: str) -> str:
    return f"{'met' if ok else '**missed**'} ({text})"


def targets_table(record: dict[str, Any]) -> str:
    """Issue 6's targets for s3z-core, each judged from this run's medians: time ≤ 1.0 × s5cmd
    everywhere; ≤ 0.5 × aws on downloads and small files; peak RSS ≤ 80 MiB; client CPU ≤
    s5cmd's for the same bytes. Empty when s3z-core is not in the run."""
    cells = {(s.tool, s.op): s for s in summarise(record)}
    ops = record["operations"]
    if not any(tool == OURS for tool, _ in cells):
        return ""
    lines: list[str] = []
    for op in ops:
        ours = cells.get((OURS, op["name"]))
        if ours is None or op["kind"] == "limit":  # judged against its cap, not its peers
            continue
        if ours.wall_s is None:
            lines.append(f"| {op['name']} | **no verified sample** | | | |")
            continue
        ref = cells.get((REFERENCE_TOOL, op["name"]))
        aws = cells.get(("aws", op["name"]))
        per_file = op["bytes"] // op["items"] if op.get("items") else 0
        wants_aws = op["kind"] == "download" or (0 < per_file <= SMALL_FILE_BYTES)
        col_ref = col_aws = col_cpu = "—"
        if ref and ref.wall_s:
            ratio = ours.wall_s / ref.wall_s
            col_ref = _verdict(ratio <= 1.0, f"{ratio:.2f}×")
            if ours.cpu_s is not None and ref.cpu_s is not None and op["bytes"]:
                col_cpu = _verdict(
                    ours.cpu_s <= ref.cpu_s, f"{ours.cpu_s:.2f} vs {ref.cpu_s:.2f} s"
                )
        if wants_aws and aws and aws.wall_s:
            ratio = ours.wall_s / aws.wall_s
            col_aws = _verdict(ratio <= 0.5, f"{ratio:.2f}×")
        rss = (ours.peak_rss_bytes or 0) / MIB
        col_rss = _verdict(rss <= RSS_CEILING_MIB, f"{rss:.0f} MiB")
        lines.append(f"| {op['name']} | {col_ref} | {col_aws} | {col_rss} | {col_cpu} |")
    if not lines:  # only capped operations: judged in their own table
        return ""
    head = [
        "",
        f"## Targets for {OURS} (from this run's medians)",
        "",
        "| operation | time ≤ 1.0 × s5cmd | time ≤ 0.5 × aws | peak RSS ≤ 80 MiB | CPU ≤ s5cmd |",
        "|---|---|---|---|---|",
    ]
    return "\n".join(head + lines) + "\n"


RATE_TOLERANCE = 0.10


def rate_limit_table(record: dict[str, Any]) -> str:
    """Issue 15's figure: ``--limit-rate`` holds throughput within ±10 % of the cap. The
    achieved rate is bytes over the median wall time of the whole command (start-up, the
    first request and the last included): what a user waits for, so it errs low, never
    high. Empty when the run has no capped operation."""
    ops = {o["name"]: o for o in record["operations"] if o.get("kind") == "limit"}
    cells = [s for s in summarise(record) if s.op in ops]
    if not cells:
        return ""
    lines = [
        "",
        "## Bandwidth cap (`--limit-rate`: achieved rate against the cap)",
        "",
        "Rate = bytes / median wall time of the whole command. The cap is read as the CLI "
        "reads it: `20M` is 20 MiB/s (K/M/G alone are binary).",
        "",
        f"| operation | tool | cap MiB/s | achieved MiB/s | of the cap "
        f"| within ±{RATE_TOLERANCE:.0%} | samples |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for s in cells:
        op = ops[s.op]
        cap = op["rate_bps"] / MIB
        if not s.wall_s:
            lines.append(f"| {s.op} | {s.tool} | {cap:.1f} | — | — | **no verified sample** | 0 |")
            continue
        achieved = op["bytes"] / MIB / s.wall_s
        share = achieved / cap
        verdict = _verdict(abs(share - 1.0) <= RATE_TOLERANCE, f"{share - 1.0:+.1%}")
        lines.append(
            f"| {s.op} | {s.tool} | {cap:.1f} | {achieved:.2f} | {share:.1%} | {verdict} "
            f"| {s.n_ok} |"
        )
    return "\n".join(lines) + "\n"
