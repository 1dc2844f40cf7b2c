"""Renders the README screenshots from a real session: ``python -m s3z_gui.screenshots``.

A sandbox SeaweedFS in a temporary folder gets buckets, folders and files; real transfers
run (completed, paused mid-way, running, failed against a missing bucket) so the queue
and the chart show genuine data. The window is grabbed at 1280×800 offscreen, in the
default palette and a dark one, plus the connection dialog, the versions page and search
results (``screenshot_scenes.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QWidget

OUT_DIR = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
MiB = 1024 * 1024


def dark_palette() -> QPalette:
    p = QPalette()
    roles = QPalette.ColorRole
    for role, colour in (
        (roles.Window, "#2b2d31"),
        (roles.WindowText, "#e6e6e6"),
        (roles.Base, "#1e1f22"),
        (roles.AlternateBase, "#26282c"),
        (roles.ToolTipBase, "#2b2d31"),
        (roles.ToolTipText, "#e6e6e6"),
        (roles.Text, "#e6e6e6"),
        (roles.Button, "#35373c"),
        (roles.ButtonText, "#e6e6e6"),
        (roles.BrightText, "#ff6b6b"),
        (roles.Highlight, "#3b82f6"),
        (roles.HighlightedText, "#ffffff"),
        (roles.Link, "#60a5fa"),
        (roles.Mid, "#4a4d55"),
        (roles.PlaceholderText, "#8a8d93"),
    ):
        p.setColor(role, QColor(colour))
    p.setColor(QPalette.ColorGroup.Disabled, roles.Text, QColor("#7a7d83"))
    p.setColor(QPalette.ColorGroup.Disabled, roles.WindowText, QColor("#7a7d83"))
    p.setColor(QPalette.ColorGroup.Disabled, roles.ButtonText, QColor("#7a7d83"))
    return p


async def _sleep_pumping(seconds: float) -> None:
    await asyncio.sleep(seconds)


def _sparse(path: Path, size: int) -> Path:
    with path.open("wb") as handle:
        handle.truncate(size)
    return path


def _save(widget: QWidget, name: str) -> Path:
    # No processEvents() here: it would run asyncio callbacks inside the running task.
    target = OUT_DIR / name
    widget.grab().save(str(target))
    print(f"saved {target}")
    return target


async def scenario(work: Path) -> None:
    from s3z_core.errors import S3zError
    from s3z_gui.models.listing import Entry
    from s3z_gui.sandbox import Sandbox
    from s3z_gui.session import AppSession
    from s3z_gui.views.profile_dialog import ProfileDialog

    settings = QSettings(str(work / "s3z.ini"), QSettings.Format.IniFormat)
    session = AppSession(settings, sandbox=Sandbox(work / "sandbox"), state=work / "state")
    window = session.window
    window.resize(1280, 800)
    window.show()
    try:
        await session.start()
        bridge = session.bridge
        engine = bridge.engine
        for name in ("backups", "datasets", "website-assets"):
            await engine.create_bucket(name)
        seed = {
            "raw/2024-03/sensor-a.parquet": 3_400_000,
            "raw/2024-03/sensor-b.parquet": 2_900_000,
            "processed/summary.csv": 48_213,
            "models/checkpoint-0420.pt": 9_800_000,
            "notebooks/explore.ipynb": 182_400,
            "README.md": 4_210,
            "LICENSE": 1_067,
            "index.json": 12_808,
            "schema.sql": 7_934,
            "train-manifest.jsonl": 1_250_000,
            "thumbnails.tar": 6_700_000,
        }
        for key, size in seed.items():
            await engine.put_bytes("datasets", key, os.urandom(size))
        await engine.put_bytes("datasets", "archive/", b"")

        await bridge.refresh_buckets()
        browser = window.browser
        await browser.navigate(browser.location.__class__("datasets"))

        files = work / "files"
        files.mkdir()
        done = files / "quarterly-report.pdf"
        done.write_bytes(os.urandom(24 * MiB))
        photos = files / "holiday-photos"
        photos.mkdir()
        for i in range(4):
            (photos / f"IMG_{4100 + i}.jpg").write_bytes(os.urandom((3 + i) * MiB))
        big = _sparse(files / "vm-disk-image.qcow2", 3 * 1024 * MiB)
        paused = _sparse(files / "video-project.mov", 1536 * MiB)

        first = browser.upload([str(done), str(photos)])
        assert first is not None
        await first
        await bridge.transfers.download_entries(
            "datasets",
            [Entry(name="models", key="models/", is_folder=True)],
            work / "downloads",
            strip_prefix="",
        )
        # A failed row: the key does not exist (the S3 error code shows in the row).
        failing = engine.download_file(
            "datasets", "reports/2019-annual.pdf", work / "2019-annual.pdf"
        )
        pausing = bridge.transfers.upload_paths([paused], "datasets", "")
        running = bridge.transfers.upload_paths([big], "backups", "")
        await _sleep_pumping(4.0)
        rows = session.queue_model.store.rows
        paused_ids = [r.transfer_id for r in rows if r.name == "video-project.mov"]
        bridge.transfers.pause(paused_ids)
        await _sleep_pumping(6.0)
        if paused_ids:
            window.queue.select_transfer(paused_ids[0])
        browser.select_names({"thumbnails.tar"})
        await _sleep_pumping(0.5)
        _save(window, "main-window.png")

        app = QApplication.instance()
        assert isinstance(app, QApplication)
        light = app.palette()
        app.setPalette(dark_palette())
        await _sleep_pumping(0.5)  # palette-change events reach every widget (the chart too)
        window.chart.redraw()
        _save(window, "main-window-dark.png")
        app.setPalette(light)
        await _sleep_pumping(0.3)

        from s3z_gui.screenshot_scenes import versions_and_search

        await versions_and_search(window, engine, _save, dark_palette)

        dialog = ProfileDialog(bridge, session.profiles, session.secrets, None, window)
        await dialog.ready  # the keyring warning (if any) is part of the picture
        dialog.name.setText("Production (eu-central)")
        dialog.endpoint.setText("https://s3.eu-central-1.amazonaws.com")
        dialog.region.setText("eu-central-1")
        dialog.access_key.setText("AKIAIOSFODNN7EXAMPLE")
        dialog.secret.setText("not-a-real-secret-just-for-the-picture")
        dialog.status.setText("✓ Connected — 4 bucket(s) visible")
        dialog.resize(560, dialog.sizeHint().height())
        dialog.show()
        await _sleep_pumping(0.3)
        _save(dialog, "profile-dialog.png")
        dialog.close()

        await sync_plan_scene(session, work)
        await conflict_scene(session, files / "quarterly-report.pdf")

        bridge.transfers.cancel([r.transfer_id for r in rows if not r.status.finished])
        for handle in (pausing, running):
            await handle
        with contextlib.suppress(S3zError):
            await failing.result()
    finally:
        window.close()
        await session.shutdown()


async def sync_plan_scene(session: Any, work: Path) -> None:
    """The Sync dialog's plan table (light and dark): a site folder against its bucket, with
    a new, a resized and a newer file, an unchanged one, and an extraneous object to delete."""
    from s3z_gui.models.history import Location

    engine, browser = session.bridge.engine, session.window.browser
    site = work / "website"
    pages = {
        "index.html": 18_204,
        "about/team.html": 9_411,
        "css/site.css": 24_870,
        "img/hero.webp": 412_330,
        "img/logo.svg": 3_902,
        "js/app.js": 88_154,
    }
    for rel, size in pages.items():
        path = site / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(size))
    await engine.put_bytes("website-assets", "css/site.css", os.urandom(21_002))  # resized
    await engine.put_bytes("website-assets", "img/logo.svg", (site / "img/logo.svg").read_bytes())
    await engine.put_bytes("website-assets", "js/app.js", os.urandom(88_154))  # newer here
    await engine.put_bytes("website-assets", "old/landing-2023.html", os.urandom(14_770))
    old = time.time() - 86_400
    os.utime(site / "img/logo.svg", (old, old))
    soon = time.time() + 600
    os.utime(site / "js/app.js", (soon, soon))
    await browser.navigate(Location("website-assets"))
    dialog = session.window.sync.open()
    dialog.folder.setText(str(site))
    dialog.delete.setChecked(True)
    dialog.excludes.setText("*.tmp, .DS_Store")
    await dialog.plan()
    model = dialog.model
    hero = next(r for r, row in enumerate(model.rows) if row.name == "img/hero.webp")
    # One row unticked, as a user would: the totals say "1 left out".
    model.setData(model.index(hero, 0), Qt.CheckState.Unchecked, Qt.ItemDataRole.CheckStateRole)
    dialog.resize(820, 520)
    await _sleep_pumping(0.3)
    _save(dialog, "sync-plan.png")
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    light = app.palette()
    app.setPalette(dark_palette())
    await _sleep_pumping(0.5)
    _save(dialog, "sync-plan-dark.png")
    app.setPalette(light)
    dialog.reject()
    await browser.navigate(Location("datasets"))


async def conflict_scene(session: Any, path: Path) -> None:
    """The question the app asks when an upload's key exists (light and dark): the report
    uploaded a second time over itself with Settings' "Ask", answered Skip."""
    import dataclasses

    from s3z_gui.models.conflicts import ConflictChoice, ConflictPolicy

    before = session.prefs
    session.set_preferences(dataclasses.replace(before, on_conflict=ConflictPolicy.ASK))
    dialogs = session.conflict_dialogs
    task = session.bridge.transfers.upload_paths([path], "datasets", "")
    for _ in range(100):
        if dialogs:
            break
        await _sleep_pumping(0.1)
    if not dialogs:
        raise RuntimeError("the upload over an existing key asked nothing within 10 s")
    dialog = dialogs[0]
    await _sleep_pumping(0.3)
    _save(dialog, "conflict-dialog.png")
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    light = app.palette()
    app.setPalette(dark_palette())
    await _sleep_pumping(0.5)
    _save(dialog, "conflict-dialog-dark.png")
    app.setPalette(light)
    dialog.choice_buttons[ConflictChoice.SKIP].click()
    await task
    session.set_preferences(before)


def main() -> int:
    import qasync

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("s3z")
    app.setQuitOnLastWindowClosed(False)  # the scenario closes the window before cleanup
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="s3z-shots-") as tmp:
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(scenario(Path(tmp)))
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
    print(f"screenshots done in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
