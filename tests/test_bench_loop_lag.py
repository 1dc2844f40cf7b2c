"""The bench's side of the loop-lag figures: a tool's file is read when it is right and is
"n/a" when it is missing or garbled (never a crash, never a failed sample); the report
summarises them per shape and judges p99 ≤ 20 ms on the worst sample. And the listing
shapes: ``--list-keys`` takes several counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.__main__ import EXIT_USAGE, _list_key_counts, main
from bench.operations import DEFAULT_LIST_KEYS, DEFAULT_SIZES, Listing, build_operations
from bench.report import loop_lag_table, markdown_table, summarise
from bench.runner import format_loop_lag, read_loop_lag
from bench.tools import ALL_TOOLS


def test_a_right_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "lag.json"
    path.write_text('{"p50_ms": 0.4, "p99_ms": 12.5, "max_ms": 30, "samples": 812}\n')
    lag = read_loop_lag(path)
    assert lag == {"p50_ms": 0.4, "p99_ms": 12.5, "max_ms": 30, "samples": 812}
    assert format_loop_lag(lag) == "p50 0.4/p99 12.5/max 30 ms"


@pytest.mark.parametrize(
    "content",
    [
        None,
        "",
        "{not json",
        "[1, 2]",
        '{"p50_ms": 1}',
        '{"p50_ms": "1", "p99_ms": 1, "max_ms": 1, "samples": 1}',
        '{"p50_ms": true, "p99_ms": 1, "max_ms": 1, "samples": 1}',
    ],
)
def test_a_missing_or_garbled_file_is_na(tmp_path: Path, content: str | None) -> None:
    path = tmp_path / "lag.json"
    if content is not None:
        path.write_text(content)
    assert read_loop_lag(path) is None
    assert format_loop_lag(None) == "n/a"


def _sample(op: str, tool: str, lag: dict[str, float] | None, status: str = "ok") -> dict[str, Any]:
    return {
        "tool": tool,
        "op": op,
        "warmup": False,
        "status": status,
        "wall_s": 1.0,
        "user_s": 0.1,
        "sys_s": 0.1,
        "peak_rss_bytes": 40 << 20,
        "server_cpu_s": None,
        "loop_lag": lag,
    }


def _lag(p50: float, p99: float, peak: float) -> dict[str, float]:
    return {"p50_ms": p50, "p99_ms": p99, "max_ms": peak, "samples": 100}


def _record(samples: list[dict[str, Any]], loop_lag_tools: list[str]) -> dict[str, Any]:
    ops = sorted({s["op"] for s in samples})
    return {
        "run_id": "t",
        "machine": {
            "cpu_model": "cpu",
            "logical_cores": 2,
            "memory_bytes": 1 << 30,
            "os": "Linux",
            "kernel": "6",
            "python": "3.11",
            "git_commit": "abc",
        },
        "backend": {"description": "test"},
        "measurement": "wait4",
        "settings": {"sampling": "1"},
        "tools": {"s3z-core": "0.1", "s5cmd": "2.3"},
        "loop_lag_tools": loop_lag_tools,
        "operations": [{"name": op, "kind": op.split()[0], "bytes": 0, "items": 1} for op in ops],
        "samples": samples,
    }


def test_report_summarises_lag_per_shape_and_judges_the_worst_p99() -> None:
    up, ls = "upload 1x8MiB", "list 200 keys"
    record = _record(
        [
            _sample(up, "s3z-core", _lag(0.5, 4.0, 9.0)),
            _sample(up, "s3z-core", _lag(0.7, 6.0, 15.0)),
            _sample(up, "s3z-core", _lag(0.6, 25.0, 40.0)),
            _sample(up, "s3z-core", _lag(99.0, 99.0, 999.0), status="failed"),  # not counted
            _sample(up, "s5cmd", None),
            _sample(ls, "s3z-core", None),  # an old build: no figures
        ],
        ["s3z-core"],
    )
    cells = {(s.tool, s.op): s for s in summarise(record)}
    ours = cells[("s3z-core", up)]
    assert (ours.lag_p50_ms, ours.lag_p99_ms) == (0.6, 6.0)
    assert (ours.lag_worst_p99_ms, ours.lag_max_ms, ours.lag_n) == (25.0, 40.0, 3)
    assert cells[("s5cmd", up)].lag_n == 0
    table = loop_lag_table(record)
    assert f"| {up} | s3z-core | 0.60 | 6.0 | 25.0 | 40 | **missed** (25.0 ms) | 3 of 3 |" in table
    assert f"| {ls} | s3z-core | n/a | n/a | n/a | n/a | n/a | 0 of 1 |" in table
    assert "s5cmd" not in table  # no probe, no row
    assert table in markdown_table(record)


def test_report_without_probed_tools_has_no_lag_table() -> None:
    record = _record([_sample("upload 1x8MiB", "s5cmd", None)], [])
    assert loop_lag_table(record) == ""
    del record["loop_lag_tools"]  # a run recorded before the probe existed
    assert "Event-loop lag" not in markdown_table(record)


def test_s3z_core_tools_ask_for_loop_lag_and_peers_do_not() -> None:
    probed = {cls.name for cls in ALL_TOOLS if cls.loop_lag_env}
    assert probed == {"s3z-core", "s3z-core-nocheck", "s3z-core-nojournal"}
    assert "obstore" in {cls.name for cls in ALL_TOOLS}


def test_default_shapes_include_small_files_and_a_big_listing() -> None:
    assert "10000x4KiB" in DEFAULT_SIZES
    assert DEFAULT_LIST_KEYS == (10_000, 100_000)
    ops = build_operations([], [10_000, 100_000], ("upload", "download", "list"), False)
    assert [op.name for op in ops] == ["list 10000 keys", "list 100000 keys"]
    assert all(isinstance(op, Listing) for op in ops)


def test_list_keys_takes_several_counts() -> None:
    assert _list_key_counts(None, quick=True) == [200]
    assert _list_key_counts(None, quick=False) == [10_000, 100_000]
    assert _list_key_counts("100000,10000,10000", quick=False) == [10_000, 100_000]
    assert _list_key_counts("0", quick=False) == []
    with pytest.raises(ValueError, match="whole numbers"):
        _list_key_counts("10k", quick=False)
    with pytest.raises(ValueError, match="between 0 and 999999"):
        _list_key_counts("1000000", quick=False)


def test_bad_list_keys_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--quick", "--list-keys", "ten", "--data-dir", str(tmp_path)])
    assert code == EXIT_USAGE
    assert "error: --list-keys takes whole numbers" in capsys.readouterr().err
