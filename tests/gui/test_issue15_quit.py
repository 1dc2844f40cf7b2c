"""Issue 15 bug 2: quitting with transfers running asks first, then quits promptly.

The question offers "Keep for later" (issue 14: tested in test_issue14_resume.py), "Cancel
transfers and quit" and "Keep the window open". Quitting aborts the multipart upload, logs no
``RuntimeError: Session is closed`` and waits for no stage's timeout.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import app_session, target_for, until
from PySide6.QtCore import QSettings
from servers import boto3_client

from s3z_core.journal import Journal
from s3z_gui.bridge import CLOSE_TIMEOUT_S
from s3z_gui.models.transfer_store import Status


@pytest.mark.asyncio
async def test_quitting_mid_upload_asks_then_quits_promptly(
    qapp: Any,
    qsettings: QSettings,
    seaweed: Any,
    bucket: Any,
    tmp_path: Path,
    memory_keyring: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    name = bucket(seaweed)
    big = tmp_path / "big.bin"
    with big.open("wb") as handle:
        handle.truncate(2 * 1024**3)  # sparse: in flight long enough, costs no disk
    caplog.set_level(logging.DEBUG)
    async with app_session(qapp, qsettings, tmp_path, target_for(seaweed)) as session:
        window = session.window
        closed: list[bool] = []
        window.closed.connect(lambda: closed.append(True))
        upload = session.bridge.transfers.upload_paths([big], name, "")
        store = session.queue_model.store
        await until(lambda: store.rows and store.rows[0].done_bytes > 0, what="upload running")
        assert [j.key for j in await session.journal.jobs()] == ["big.bin"]  # what is at stake

        window.close()  # the close button
        assert window.isVisible(), "the window stays until the user answers"
        box = window.quit_box
        assert box is not None
        assert box.isVisible()
        labels = {b.text() for b in box.buttons()}
        assert labels == {"Keep for later", "Cancel transfers and quit", "Keep the window open"}
        keep = next(b for b in box.buttons() if b.text() == "Keep the window open")
        keep.click()
        await asyncio.sleep(0.3)
        assert window.isVisible()
        assert closed == []
        assert store.rows[0].status == Status.RUNNING

        window.close()
        box = window.quit_box
        assert box is not None
        quit_button = next(b for b in box.buttons() if b.text() == "Cancel transfers and quit")
        quit_button.click()
        await until(lambda: closed == [True], what="the window to close")
        assert not window.isVisible()
        started = time.monotonic()
        await session.shutdown()
        took = time.monotonic() - started
        await asyncio.wait([upload], timeout=5)
    assert upload.done()
    assert store.rows[0].status == Status.CANCELLED
    assert "Session is closed" not in caplog.text
    assert "Traceback" not in caplog.text
    # No stage waited for its timeout (a generous band, not a speed test).
    assert took < CLOSE_TIMEOUT_S, f"shutdown took {took:.1f} s"
    client = boto3_client(seaweed)
    assert client.list_multipart_uploads(Bucket=name).get("Uploads", []) == []
    # Cancelled, not kept for later: the journal forgot the upload it had recorded.
    journal = Journal()
    try:
        assert await journal.jobs() == []
    finally:
        journal.close()
