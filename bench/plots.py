"""PNG plots of a run (matplotlib, Agg backend, no display needed): time per tool per
operation with every verified sample shown, and median peak RSS per tool."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from bench.report import MIB, summarise
from bench.runner import OK


def write_plots(record: dict[str, Any], out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples = [s for s in record["samples"] if not s["warmup"]]
    ops = [o["name"] for o in record["operations"]]
    tools = list(record["tools"])
    title = (
        f"{record['run_id']} — {record['backend']['name']} — "
        f"{record['machine']['cpu_model']}, {record['machine']['logical_cores']} cores"
    )
    written: list[Path] = []

    cols = min(3, max(1, len(ops)))
    rows = math.ceil(len(ops) / cols) if ops else 1
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.4 * rows), squeeze=False)
    for i, op in enumerate(ops):
        ax = axes[i // cols][i % cols]
        # Only the tools that took part in this operation (a variant may join only some).
        present = [t for t in tools if any(s["op"] == op and s["tool"] == t for s in samples)]
        for x, tool in enumerate(present):
            good = [
                s["wall_s"]
                for s in samples
                if s["op"] == op and s["tool"] == tool and s["status"] == OK
            ]
            bad = [
                s["wall_s"]
                for s in samples
                if s["op"] == op and s["tool"] == tool and s["status"] != OK
            ]
            if good:
                ax.boxplot([good], positions=[x], widths=0.5, showfliers=False)
                ax.scatter([x] * len(good), good, s=10, alpha=0.6, color="tab:blue", zorder=3)
            if bad:
                ax.scatter([x] * len(bad), bad, s=24, marker="x", color="tab:red", zorder=4)
        ax.set_title(op, fontsize=9)
        ax.set_xticks(range(len(present)))
        ax.set_xticklabels(present, fontsize=8, rotation=20)
        ax.set_ylabel("seconds", fontsize=8)
        ax.set_ylim(bottom=0)
        ax.tick_params(axis="y", labelsize=8)
    for j in range(len(ops), rows * cols):
        axes[j // cols][j % cols].set_visible(False)
    fig.suptitle(
        f"Wall time per sample (box = spread; red x = failed or wrong)\n{title}", fontsize=9
    )
    fig.tight_layout()
    path = out_dir / "time.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)

    summaries = {(s.tool, s.op): s for s in summarise(record)}
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(ops)), 3.8))
    width = 0.8 / max(1, len(tools))
    for t, tool in enumerate(tools):
        heights = []
        for op in ops:
            cell = summaries.get((tool, op))
            rss = cell.peak_rss_bytes if cell else None
            heights.append(rss / MIB if rss is not None else 0.0)
        positions = [o + (t - (len(tools) - 1) / 2) * width for o in range(len(ops))]
        ax.bar(positions, heights, width=width, label=tool)
    ax.set_xticks(range(len(ops)))
    ax.set_xticklabels(ops, fontsize=8, rotation=15)
    ax.set_ylabel("median peak RSS, MiB", fontsize=8)
    ax.legend(fontsize=8)
    ax.set_title(f"Peak RSS of the client process tree\n{title}", fontsize=9)
    fig.tight_layout()
    path = out_dir / "rss.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)
    return written
