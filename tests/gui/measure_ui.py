"""Measures (not a test): cold time to window shown, and UI stalls during a 1 GiB upload.

    .venv/bin/python tests/gui/measure_ui.py

1. Launches a fresh interpreter that builds the real window (AppSession, no connection)
   and reports the wall time from process spawn until the window is shown and painted.
2. In this process: a LocalS3Server (temp folder), the real session connected to it, a
   10 ms heartbeat QTimer, and a 1 GiB sparse-file upload through the bridge (the same
   path as a drop). Reports the longest gap between heartbeats and percentiles.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

CHILD = r"""
import os, sys, time, tempfile
from PySide6.QtWidgets import QApplication
from PySide6.QtCore import QSettings
app = QApplication(sys.argv)
from s3z_gui.session import AppSession
from s3z_gui.sandbox import Sandbox
tmp = tempfile.mkdtemp()
s = AppSession(QSettings(os.path.join(tmp, "s.ini"), QSettings.Format.IniFormat), sandbox=Sandbox())
s.window.show()
s.window.repaint()
app.processEvents()
print("SHOWN", flush=True)
"""


def cold_start_s(runs: int = 3) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("SHOWN"):
                times.append(time.perf_counter() - start)
                break
        proc.wait(timeout=60)
    return times


async def heartbeat_during_upload(work: Path) -> dict[str, float]:
    from PySide6.QtCore import QSettings, QTimer

    from s3z_core.credentials import Credentials
    from s3z_core.local_server import LocalS3Server
    from s3z_gui.connection import ConnectionTarget
    from s3z_gui.models.history import Location
    from s3z_gui.sandbox import Sandbox
    from s3z_gui.session import AppSession

    server = await asyncio.to_thread(LocalS3Server(data_dir=work / "server").start)
    session = AppSession(
        QSettings(str(work / "s.ini"), QSettings.Format.IniFormat), sandbox=Sandbox(work / "sb")
    )
    session.window.resize(1280, 800)
    session.window.show()
    session.queue_model.start()
    try:
        target = ConnectionTarget(
            "measure",
            server.endpoint_url,
            server.region,
            "path",
            Credentials(server.access_key, server.secret_key),
        )
        await session.bridge.connect_to(target)
        await session.bridge.engine.create_bucket("measure")
        await session.bridge.refresh_buckets()
        await session.window.browser.navigate(Location("measure"))
        big = work / "1gib.img"
        with big.open("wb") as handle:
            handle.truncate(1024 * 1024 * 1024)
        beats: list[float] = []
        timer = QTimer()
        timer.setInterval(10)
        timer.timeout.connect(lambda: beats.append(time.perf_counter()))
        timer.start()
        started = time.perf_counter()
        task = session.window.browser.upload([str(big)])
        assert task is not None
        result = await task
        elapsed = time.perf_counter() - started
        timer.stop()
        assert result is not None
        assert result.ok, result.failed
        gaps = [b - a for a, b in itertools.pairwise(beats)]
        gaps.sort()
        return {
            "upload_s": elapsed,
            "MB_per_s": 1024 / elapsed * 1.048576,
            "beats": len(beats),
            "max_gap_ms": gaps[-1] * 1000,
            "p99_gap_ms": gaps[int(len(gaps) * 0.99)] * 1000,
            "median_gap_ms": statistics.median(gaps) * 1000,
        }
    finally:
        session.window.close()
        await session.shutdown()
        await asyncio.to_thread(server.stop)


def main() -> int:
    import qasync
    from PySide6.QtWidgets import QApplication

    cold = cold_start_s()
    print("cold start to window shown (s):", ", ".join(f"{t:.2f}" for t in cold))
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory(prefix="s3z-measure-") as tmp:
        try:
            numbers = loop.run_until_complete(heartbeat_during_upload(Path(tmp)))
        finally:
            loop.close()
    for key, value in numbers.items():
        print(f"{key}: {value:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
