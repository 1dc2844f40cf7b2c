"""The loop-lag probe runs on the GUI's loop too: under qasync the loop is the Qt thread, and
the status bar will show this figure."""

from __future__ import annotations

import asyncio

import pytest

from s3z_core.loop_lag import LoopLagProbe


@pytest.mark.asyncio
async def test_probe_beats_on_a_qasync_loop() -> None:
    loop = asyncio.get_running_loop()
    assert type(loop).__module__.startswith("qasync")
    probe = LoopLagProbe()
    probe.start(loop)
    await asyncio.sleep(0.3)
    probe.stop()
    stats = probe.stats()
    assert stats.samples >= 5  # ~30 beats of 10 ms fit in 300 ms
    assert probe.stats().samples == stats.samples  # stopped means stopped
    await asyncio.sleep(0.05)
    assert probe.stats().samples == stats.samples
