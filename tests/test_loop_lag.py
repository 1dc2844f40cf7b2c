"""The loop-lag probe measures what it claims: a slow file-system call on the loop thread
shows up as lag and stops the heartbeat; the same call in a worker thread does neither. And
the CLI writes the figures where ``S3Z_LOOP_LAG_FILE`` says, also when the command fails.

No speed is judged here (the bench does that): the thresholds only tell "the loop stood
still for 300 ms" from "the loop kept beating", with wide margins for a loaded 2-core box.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest

from s3z_core.loop_lag import ENV_FILE, LagHistogram, LoopLagProbe, LoopLagStats
from tests.cli import clirun

SLOW_S = 0.3


def test_histogram_percentiles_are_within_two_percent_and_max_is_exact() -> None:
    hist = LagHistogram()
    assert hist.stats() == LoopLagStats(0.0, 0.0, 0.0, 0)
    for value in range(1, 1001):  # 0.1 ms .. 100 ms in 0.1 ms steps
        hist.record(value / 10)
    stats = hist.stats()
    assert stats.samples == 1000
    assert stats.max_ms == 100.0
    assert 50.0 <= stats.p50_ms <= 50.0 * 1.02
    assert 99.0 <= stats.p99_ms <= 99.0 * 1.02
    hist.record(0.0)
    hist.record(3_600_000.0)  # an hour: beyond the last bucket, still counted
    assert hist.stats().max_ms == 3_600_000.0
    assert hist.stats().samples == 1002


def test_probe_rejects_a_non_positive_interval() -> None:
    with pytest.raises(ValueError, match="positive"):
        LoopLagProbe(interval_s=0)


def _slow_os_open(monkeypatch: pytest.MonkeyPatch) -> None:
    """A file system that takes 300 ms for every open (a stalled NFS mount, a slow disk)."""
    import time

    real_open = os.open

    def slow_open(*args: object, **kwargs: object) -> int:
        time.sleep(SLOW_S)
        return real_open(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", slow_open)


def _touch(path: Path) -> None:
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o644))


async def _beats_around_slow_open(path: Path, *, in_thread: bool) -> tuple[int, LoopLagStats]:
    """Beats counted while the slow open ran, and the probe's figures over the whole run."""
    probe = LoopLagProbe()
    probe.start(asyncio.get_running_loop())
    await asyncio.sleep(0.1)
    before = probe.stats().samples
    if in_thread:
        await asyncio.to_thread(_touch, path)
    else:
        _touch(path)
    during = probe.stats().samples - before
    await asyncio.sleep(0.05)
    probe.stop()
    assert not probe.running
    return during, probe.stats()


def test_slow_open_on_the_loop_stalls_the_heartbeat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _slow_os_open(monkeypatch)
    during, stats = asyncio.run(_beats_around_slow_open(tmp_path / "f", in_thread=False))
    assert during == 0
    assert stats.max_ms >= (SLOW_S - 0.05) * 1000


def test_slow_open_in_a_worker_thread_does_not_stop_the_heartbeat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _slow_os_open(monkeypatch)
    during, stats = asyncio.run(_beats_around_slow_open(tmp_path / "f", in_thread=True))
    # ~30 beats of 10 ms fit in 300 ms; 5 means the loop kept running, with room for a
    # loaded box. A stalled loop gets none (test above).
    assert during >= 5
    assert stats.max_ms < (SLOW_S - 0.1) * 1000
    assert (tmp_path / "f").exists()


def test_cli_writes_loop_lag_for_a_command(seaweed: Any, bucket: Any, tmp_path: Path) -> None:
    """A command that surely outlives a 10 ms beat: 64 MiB through the server takes well over
    100 ms here (a bare ``ls`` of buckets once finished before the first beat: 0 samples)."""
    lag_file = tmp_path / "lag.json"
    name = bucket(seaweed)
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(64 * 1024 * 1024))
    clirun.run(
        seaweed, tmp_path, "cp", str(src), f"s3://{name}/big.bin", **{ENV_FILE: str(lag_file)}
    )
    figures = json.loads(lag_file.read_text())
    assert set(figures) == {"p50_ms", "p99_ms", "max_ms", "samples"}
    assert figures["samples"] >= 1
    assert 0 <= figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"]
    assert not (tmp_path / "lag.json.tmp").exists()


def test_cli_writes_loop_lag_after_a_failed_command(tmp_path: Path) -> None:
    """No credentials: exit 2 as always, and the figures are still written."""
    lag_file = tmp_path / "lag.json"
    proc = clirun.run(
        None,
        tmp_path,
        "--endpoint-url",
        "http://127.0.0.1:9",
        "ls",
        "s3://b/",
        check=2,
        **{ENV_FILE: str(lag_file)},
    )
    assert "no credentials" in proc.stderr
    # It fails within a beat or two, so there may be no sample yet: the file is what counts.
    assert set(json.loads(lag_file.read_text())) == {"p50_ms", "p99_ms", "max_ms", "samples"}


def test_cli_warns_when_the_loop_lag_file_cannot_be_written(tmp_path: Path) -> None:
    lag_file = tmp_path / "missing-dir" / "lag.json"
    proc = clirun.run(
        None,
        tmp_path,
        "--endpoint-url",
        "http://127.0.0.1:9",
        "ls",
        "s3://b/",
        check=2,  # the command's own outcome, not the measurement's
        **{ENV_FILE: str(lag_file)},
    )
    assert f"warning: cannot write loop lag to {lag_file}" in proc.stderr
    assert not lag_file.exists()


def test_cli_without_the_variable_writes_nothing(tmp_path: Path) -> None:
    clirun.run(None, tmp_path, "--version")
    clirun.run(None, tmp_path, "--endpoint-url", "http://127.0.0.1:9", "ls", "s3://b/", check=2)
    assert list(tmp_path.iterdir()) == []
