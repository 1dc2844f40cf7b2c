"""``python -m bench compare OLD.json NEW.json``: per (tool, operation), is NEW faster,
slower or the same as OLD? A change counts only when Welch's t-test calls it significant
*and* it is larger than the noise floor, so run-to-run jitter is never reported as a win
or a regression."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.runner import OK
from bench.stats import mean, welch_t_test

IMPROVED = "improved"
REGRESSED = "regressed"
UNCHANGED = "unchanged"
BROKEN = "broken"  # NEW has no verified sample where OLD had some
INSUFFICIENT = "too few samples"
NEW_CELL = "new"
MISSING = "missing"

DEFAULT_ALPHA = 0.05
DEFAULT_NOISE_FLOOR = 0.05
DEFAULT_GATED_TOOLS = ("s3z-core",)


@dataclass(frozen=True, slots=True)
class Verdict:
    tool: str
    op: str
    verdict: str
    old_mean_s: float | None
    new_mean_s: float | None
    p_value: float | None

    @property
    def change(self) -> float | None:
        if self.old_mean_s and self.new_mean_s is not None:
            return self.new_mean_s / self.old_mean_s - 1.0
        return None


def _good_walls(record: dict[str, Any]) -> dict[tuple[str, str], list[float]]:
    cells: dict[tuple[str, str], list[float]] = {}
    for s in record["samples"]:
        if s["warmup"]:
            continue
        walls = cells.setdefault((s["tool"], s["op"]), [])
        if s["status"] == OK:
            walls.append(float(s["wall_s"]))
    return cells


def pair_tools(
    old: dict[str, Any], new: dict[str, Any], old_tool: str, new_tool: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """OLD's ``old_tool`` against NEW's ``new_tool``, both named ``new_tool``: what one
    feature costs, measured as two tools interleaved in one run (``s3z-core-nojournal``
    against ``s3z-core``: the journal's cost), so the same file can be OLD and NEW."""

    def only(record: dict[str, Any], tool: str) -> dict[str, Any]:
        kept = [dict(s, tool=new_tool) for s in record["samples"] if s["tool"] == tool]
        return dict(record, samples=kept)

    return only(old, old_tool), only(new, new_tool)


def compare_runs(
    old: dict[str, Any],
    new: dict[str, Any],
    *,
    alpha: float = DEFAULT_ALPHA,
    noise_floor: float = DEFAULT_NOISE_FLOOR,
) -> list[Verdict]:
    """One verdict per (tool, op) present in either run, in NEW's order then OLD's leftovers."""
    old_cells, new_cells = _good_walls(old), _good_walls(new)
    keys = list(new_cells) + [k for k in old_cells if k not in new_cells]
    verdicts: list[Verdict] = []
    for key in keys:
        before, after = old_cells.get(key), new_cells.get(key)
        old_mean = mean(before) if before else None
        new_mean = mean(after) if after else None
        p_value: float | None = None
        if before is None:
            verdict = NEW_CELL
        elif after is None:
            verdict = MISSING
        elif before and not after:
            verdict = BROKEN
        elif len(before) < 2 or len(after) < 2:
            verdict = INSUFFICIENT
        else:
            p_value = welch_t_test(before, after).p_value
            relative = mean(after) / mean(before) - 1.0
            if p_value < alpha and abs(relative) >= noise_floor:
                verdict = REGRESSED if relative > 0 else IMPROVED
            else:
                verdict = UNCHANGED
        verdicts.append(Verdict(key[0], key[1], verdict, old_mean, new_mean, p_value))
    return verdicts


def format_verdicts(verdicts: list[Verdict], alpha: float, noise_floor: float) -> str:
    lines = [
        f"Welch's t-test on wall time, significant at p < {alpha:g} and only when the mean "
        f"moved by at least {noise_floor:.0%} (noise floor)",
        f"{'tool':<9} {'operation':<24} {'old s':>8} {'new s':>8} {'change':>8} {'p':>8}  verdict",
    ]
    for v in verdicts:
        old = f"{v.old_mean_s:.3f}" if v.old_mean_s is not None else "—"
        new = f"{v.new_mean_s:.3f}" if v.new_mean_s is not None else "—"
        change = f"{v.change:+.1%}" if v.change is not None else "—"
        p_value = f"{v.p_value:.3g}" if v.p_value is not None else "—"
        lines.append(
            f"{v.tool:<9} {v.op:<24} {old:>8} {new:>8} {change:>8} {p_value:>8}  {v.verdict}"
        )
    return "\n".join(lines)


def gate_failures(verdicts: list[Verdict], gated_tools: tuple[str, ...]) -> list[Verdict]:
    """The verdicts that should fail CI: a gated tool got significantly slower or broke."""
    return [v for v in verdicts if v.tool in gated_tools and v.verdict in (REGRESSED, BROKEN)]
