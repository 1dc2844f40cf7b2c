"""Two more README scenes for ``screenshots.py``: the versions page and search results.

Run inside the screenshot scenario's real session (its sandbox SeaweedFS keeps versions):
a versioned bucket gets a few revisions and a deleted file, the versions page is grabbed
with an older version selected, then a search over it, each in the light and dark palette.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QWidget

from s3z_gui.models.history import Location

if TYPE_CHECKING:
    from s3z_core.engine import Engine
    from s3z_gui.main_window import MainWindow

Save = Callable[[QWidget, str], Path]

REVISIONS = {
    "contract.pdf": (182_000, 184_500, 191_200),
    "budget-2026.xlsx": (48_000, 52_300),
    "reports/2025/q1-report.pdf": (1_200_000,),
    "reports/2025/q2-report.pdf": (1_350_000, 1_390_000),
    "archive/2019/report-final.docx": (88_000,),
    "team/report-notes.txt": (2_100, 2_400),
    "team/offsite-photos.zip": (7_400_000,),
}


async def versions_and_search(
    window: MainWindow, engine: Engine, save: Save, dark: Callable[[], QPalette]
) -> None:
    bucket = "documents"
    await engine.create_bucket(bucket)
    await engine.set_bucket_versioning(bucket, True)
    for key, sizes in REVISIONS.items():
        for size in sizes:
            await engine.put_bytes(bucket, key, os.urandom(size))
    await engine.put_bytes(bucket, "draft-proposal.md", os.urandom(9_400))
    await engine.delete_objects(bucket, ["draft-proposal.md"])  # leaves a delete marker
    await window.bridge.refresh_buckets()
    browser = window.browser
    await browser.navigate(Location(bucket))
    modes = browser.modes

    modes.show_versions_action.setChecked(True)
    if modes.versions.last_task is not None:
        await modes.versions.last_task
    model = modes.versions.model
    older = [r for r in model.rows if r.key == "contract.pdf" and not r.is_latest]
    if older:
        modes.versions.select_version(older[0].key, older[0].version_id)
    await _both_palettes(window, save, dark, "versions-view")

    modes.show_search()
    modes.search.field.setText("report")
    task = modes.search.start()
    if task is not None:
        await task
    modes.search.select_rows([0])
    await _both_palettes(window, save, dark, "search-results")
    modes.show_objects()


async def _both_palettes(
    window: MainWindow, save: Save, dark: Callable[[], QPalette], name: str
) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    await asyncio.sleep(0.4)  # the views lay out and paint their rows
    save(window, f"{name}.png")
    light = app.palette()
    app.setPalette(dark())
    await asyncio.sleep(0.4)  # palette-change events reach every widget
    window.chart.redraw()
    save(window, f"{name}-dark.png")
    app.setPalette(light)
    await asyncio.sleep(0.2)
