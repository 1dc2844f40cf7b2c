"""Issue 15's small bugs, each as its user met it: Ctrl+U (6), cancelled reported as failed
(8), paused counted as running (9), raw ``mtime`` in Properties (13)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import until
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog

from s3z_core.events import TransferEvent, TransferPaused, TransferQueued, TransferStarted
from s3z_core.models import ObjectHead
from s3z_gui.models.history import Location
from s3z_gui.models.transfer_store import Status, TransferStore
from s3z_gui.views.properties_dialog import PropertiesDialog
from s3z_gui.views.queue import totals_text


@pytest.mark.asyncio
async def test_ctrl_u_opens_the_upload_dialog_from_the_browser(
    session: Any, seaweed: Any, bucket: Any
) -> None:
    """Bug 6: the menu lists Ctrl+U; pressing it in the browser must open the file chooser."""
    name = bucket(seaweed)
    await session.bridge.refresh_buckets()
    browser = session.window.browser
    await browser.navigate(Location(name, ""))
    session.window.activateWindow()
    browser.table.setFocus()
    await until(lambda: QApplication.focusWidget() is browser.table, what="focus on the table")
    fired: list[bool] = []
    browser.browser_actions.upload_files_action.triggered.connect(lambda: fired.append(True))
    QTest.keyClick(browser.table, Qt.Key.Key_U, Qt.KeyboardModifier.ControlModifier)
    assert fired == [True]
    dialogs = [d for d in browser.findChildren(QFileDialog) if d.isVisible()]
    assert [d.windowTitle() for d in dialogs] == ["Upload files"]
    for dialog in dialogs:
        dialog.reject()


@pytest.mark.asyncio
async def test_a_cancelled_upload_is_reported_as_cancelled_not_failed(
    session: Any, seaweed: Any, bucket: Any, tmp_path: Path
) -> None:
    """Bug 8: "Uploaded 0 file(s); 1 failed — …: …: cancelled" (path twice) is wrong."""
    name = bucket(seaweed)
    local = tmp_path / "one.txt"
    local.write_bytes(b"x" * 1000)
    model = session.queue_model
    original = model.apply
    loop = asyncio.get_running_loop()

    def apply(event: TransferEvent) -> None:
        original(event)
        if isinstance(event, TransferQueued):  # the user presses Cancel at once
            loop.call_soon(session.bridge.transfers.cancel, [event.transfer_id])

    model.apply = apply
    failures: list[str] = []
    notices: list[str] = []
    session.bridge.failed.connect(failures.append)
    session.bridge.notice.connect(notices.append)
    result = await session.bridge.transfers.upload_paths([local], name, "")
    assert result is not None
    assert result.files_done == 0
    assert failures == []
    assert notices == ["Uploaded 0 file(s); 1 cancelled"]
    await until(lambda: model.store.rows and model.store.rows[0].status.finished)
    assert model.store.rows[0].status == Status.CANCELLED
    assert totals_text(model.store.totals()) == "1 cancelled"


def test_paused_transfers_are_not_counted_as_running() -> None:
    """Bug 9."""
    store = TransferStore()
    for tid in (1, 2, 3):
        store.apply(TransferQueued(tid, "upload", f"/f{tid}", f"s3://b/f{tid}", 10), 0.0)
    store.apply(TransferStarted(1, 10, 1), 0.0)
    store.apply(TransferStarted(2, 10, 1), 0.0)
    store.apply(TransferPaused(2), 0.1)
    store.tick(0.2)
    totals = store.totals()
    assert (totals.active, totals.paused, totals.queued) == (1, 1, 1)
    assert totals_text(totals).startswith("1 running, 1 paused, 1 queued")


def test_properties_show_the_stored_file_time_as_a_time(qapp: Any) -> None:
    """Bug 13: ``mtime`` "1796159494.476341" is a date, not a number to decode."""
    raw = "1796159494.476341"
    head = ObjectHead(
        key="docs/a.txt",
        size=5,
        etag='"e"',
        last_modified=datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
        content_type="text/plain",
        metadata={"mtime": raw, "owner": "ann"},
    )
    dialog = PropertiesDialog("b", head)
    table = dialog.metadata
    shown = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}
    expected = datetime.fromtimestamp(float(raw), UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    assert shown["owner"] == "ann"
    (mtime_label,) = [k for k in shown if "mtime" in k]
    assert shown[mtime_label].startswith(expected)
    assert raw not in shown.values()
    dialog.deleteLater()
