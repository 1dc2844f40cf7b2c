"""The bandwidth limit from the window: Settings' "Bandwidth limit" becomes the engine's cap
(one token bucket for uploads and downloads), and the chart draws it as a dashed line."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import until

from s3z_gui.views.settings_dialog import SettingsDialog

LIMIT_MBPS = 4.0


@pytest.mark.asyncio
async def test_the_settings_limit_caps_transfers_and_shows_on_the_chart(
    session: Any, seaweed: Any, bucket: Any, tmp_path: Path
) -> None:
    name = bucket(seaweed)
    dialog = SettingsDialog(session.prefs, session.window)
    assert dialog.limit.value() == 0.0
    assert dialog.limit.text() == "No limit"
    dialog.limit.setValue(LIMIT_MBPS)
    chosen = dialog.preferences()
    assert chosen.limit_rate == 4_000_000
    old = session.bridge.engine
    session.set_preferences(chosen)
    await until(lambda: session.bridge.connected and session.bridge.engine is not old)
    assert session.bridge.engine.transfer_config.limit_rate == 4_000_000
    chart = session.window.chart
    assert chart.cap.isVisible()
    assert chart.cap.name() == "Limit 4.0 MB/s"
    assert [p.y() for p in chart.cap.points()] == [LIMIT_MBPS, LIMIT_MBPS]
    assert chart.y_axis.max() >= LIMIT_MBPS

    size = 12_000_000
    local = tmp_path / "capped.bin"
    local.write_bytes(b"z" * size)
    started = time.monotonic()
    result = await session.bridge.transfers.upload_paths([local], name, "")
    took = time.monotonic() - started
    assert result is not None
    assert result.files_done == 1
    ratio = size / took / chosen.limit_rate
    assert 0.6 < ratio < 1.15, f"{ratio:.2f} x the limit"

    capped = session.bridge.engine
    session.set_preferences(dataclasses.replace(chosen, limit_mbps=0.0))
    assert not chart.cap.isVisible()
    await until(lambda: session.bridge.connected and session.bridge.engine is not capped)
    assert session.bridge.engine.transfer_config.limit_rate is None
    dialog.deleteLater()
