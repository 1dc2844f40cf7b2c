"""The bench's statistics and its regression gate (``python -m bench compare``), checked
against published t-distribution values and against wall times recorded on this machine."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.__main__ import EXIT_OK, EXIT_REGRESSION, EXIT_USAGE, main
from bench.compare import (
    BROKEN,
    IMPROVED,
    INSUFFICIENT,
    REGRESSED,
    UNCHANGED,
    compare_runs,
    gate_failures,
)
from bench.report import SCHEMA
from bench.stats import (
    median,
    median_interval,
    regularized_incomplete_beta,
    student_t_two_sided_p,
    welch_t_test,
)

REPO = Path(__file__).resolve().parent.parent
RECORDED = json.loads((REPO / "bench" / "testdata" / "recorded_download_samples.json").read_text())


# Two-sided p-values of Student's t from standard tables (critical values t_{0.975, df}).
@pytest.mark.parametrize(
    ("t", "df", "p"),
    [(12.706, 1, 0.05), (2.228, 10, 0.05), (2.086, 20, 0.05), (3.169, 10, 0.01), (1.96, 1e7, 0.05)],
)
def test_student_t_matches_tables(t: float, df: float, p: float) -> None:
    assert student_t_two_sided_p(t, df) == pytest.approx(p, abs=2e-4)


def test_incomplete_beta_closed_forms() -> None:
    # I_x(1, 1) = x and I_x(a, 1) = x^a.
    assert regularized_incomplete_beta(1, 1, 0.3) == pytest.approx(0.3)
    assert regularized_incomplete_beta(3, 1, 0.5) == pytest.approx(0.125)
    assert regularized_incomplete_beta(2, 5, 0.0) == 0.0
    assert regularized_incomplete_beta(2, 5, 1.0) == 1.0


def test_welch_matches_hand_computation() -> None:
    old, new = [1.0, 2.0, 3.0, 4.0], [2.0, 3.0, 4.0, 5.0, 9.0]
    result = welch_t_test(old, new)
    se = math.sqrt((5 / 3) / 4 + 7.3 / 5)
    assert result.t == pytest.approx(2.1 / se)
    assert result.df == pytest.approx(5.9615, abs=1e-3)
    assert 0.17 < result.p_value < 0.18


def test_welch_zero_variance_edges() -> None:
    assert welch_t_test([1.0, 1.0], [1.0, 1.0]).p_value == 1.0
    assert welch_t_test([1.0, 1.0], [2.0, 2.0]).p_value == 0.0
    with pytest.raises(ValueError, match="two samples"):
        welch_t_test([1.0], [1.0, 2.0])


def test_median_interval_uses_order_statistics() -> None:
    assert median([3.0, 1.0, 2.0, 10.0]) == 2.5
    five = median_interval([5.0, 1.0, 4.0, 2.0, 3.0])
    assert (five.low, five.high) == (1.0, 5.0)  # n = 5 cannot reach 95 %: min..max
    assert five.coverage == pytest.approx(1 - 2 / 32)
    fifteen = median_interval([float(i) for i in range(15)])
    assert (fifteen.low, fifteen.high) == (3.0, 11.0)
    assert fifteen.coverage >= 0.95


def _run(walls: list[float], tool: str = "s3z-core", op: str = RECORDED["op"]) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "samples": [
            {"tool": tool, "op": op, "warmup": False, "status": "ok", "wall_s": w} for w in walls
        ],
    }


def test_same_build_is_unchanged() -> None:
    verdicts = compare_runs(_run(RECORDED["normal_a"]), _run(RECORDED["normal_b"]))
    assert [v.verdict for v in verdicts] == [UNCHANGED]
    assert gate_failures(verdicts, ("s3z-core",)) == []


def test_slower_build_is_a_regression_and_faster_an_improvement() -> None:
    slower = compare_runs(_run(RECORDED["normal_a"]), _run(RECORDED["slowed_150ms"]))
    assert [v.verdict for v in slower] == [REGRESSED]
    assert slower[0].p_value is not None
    assert slower[0].p_value < 0.05
    assert gate_failures(slower, ("s3z-core",)) == slower
    faster = compare_runs(_run(RECORDED["slowed_150ms"]), _run(RECORDED["normal_b"]))
    assert [v.verdict for v in faster] == [IMPROVED]
    assert gate_failures(faster, ("s3z-core",)) == []


def test_noise_floor_hides_significant_but_tiny_changes() -> None:
    old = [1.000, 1.001, 1.002, 1.000, 1.001, 1.002]
    new = [w * 1.03 for w in old]  # 3 %: significant, but below the 5 % floor
    assert compare_runs(_run(old), _run(new))[0].verdict == UNCHANGED
    assert compare_runs(_run(old), _run(new), noise_floor=0.01)[0].verdict == REGRESSED


def test_a_peer_regression_does_not_fail_the_gate() -> None:
    verdicts = compare_runs(
        _run(RECORDED["normal_a"], tool="s5cmd"), _run(RECORDED["slowed_150ms"], tool="s5cmd")
    )
    assert verdicts[0].verdict == REGRESSED
    assert gate_failures(verdicts, ("s3z-core",)) == []


def test_broken_and_thin_cells() -> None:
    failed = _run([1.0, 1.1])
    for s in failed["samples"]:
        s["status"] = "mismatch"
    verdicts = compare_runs(_run([1.0, 1.1, 1.2]), failed)
    assert verdicts[0].verdict == BROKEN
    assert gate_failures(verdicts, ("s3z-core",)) == verdicts
    assert compare_runs(_run([1.0]), _run([5.0]))[0].verdict == INSUFFICIENT


def _write(path: Path, record: dict[str, Any]) -> Path:
    path.write_text(json.dumps(record))
    return path


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = _write(tmp_path / "a.json", _run(RECORDED["normal_a"]))
    b = _write(tmp_path / "b.json", _run(RECORDED["normal_b"]))
    slow = _write(tmp_path / "slow.json", _run(RECORDED["slowed_150ms"]))
    assert main(["compare", str(a), str(b)]) == EXIT_OK
    assert "unchanged" in capsys.readouterr().out
    assert main(["compare", str(a), str(slow)]) == EXIT_REGRESSION
    captured = capsys.readouterr()
    assert "regressed" in captured.out
    assert "REGRESSION: s3z-core" in captured.err


def test_two_tools_of_one_run_are_compared_as_old_and_new(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What a feature costs, as two tools interleaved in one run (the journal's cost)."""

    def one_run(name: str, without: list[float], with_it: list[float]) -> Path:
        samples = _run(without, tool="s3z-core-nojournal")["samples"] + _run(with_it)["samples"]
        return _write(tmp_path / name, {"schema": SCHEMA, "samples": samples})

    same = one_run("same.json", RECORDED["normal_a"], RECORDED["normal_b"])
    costly = one_run("costly.json", RECORDED["normal_a"], RECORDED["slowed_150ms"])
    pair = ["--tools", "s3z-core-nojournal", "s3z-core"]
    assert main(["compare", str(same), str(same), *pair]) == EXIT_OK
    out = capsys.readouterr().out
    assert "unchanged" in out
    assert "s3z-core-nojournal" not in out  # one cell, named after the tool under test
    assert main(["compare", str(costly), str(costly), *pair]) == EXIT_REGRESSION
    assert "REGRESSION: s3z-core" in capsys.readouterr().err
    # without --tools the same file compares each tool with itself: nothing moved
    assert main(["compare", str(costly), str(costly)]) == EXIT_OK
    capsys.readouterr()
    missing = ["--tools", "s3z-core-nojournal", "obstore"]
    assert main(["compare", str(same), str(same), *missing]) == EXIT_USAGE
    assert "no sample of tool 'obstore'" in capsys.readouterr().err


def test_cli_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    good = _write(tmp_path / "a.json", _run(RECORDED["normal_a"]))
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "compare", str(junk), str(good)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == EXIT_USAGE
    assert "cannot read bench run" in proc.stderr
    assert "Traceback" not in proc.stderr
