"""First start with no profile: the embedded sandbox starts and the window connects to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import until
from PySide6.QtCore import QSettings

from s3z_gui.sandbox import SANDBOX_LABEL, Sandbox
from s3z_gui.session import FIRST_BUCKET, SANDBOX_BANNER, AppSession


@pytest.mark.asyncio
async def test_no_profile_starts_the_sandbox_and_connects(
    qapp: Any, qsettings: QSettings, tmp_path: Path, memory_keyring: object
) -> None:
    qapp.setQuitOnLastWindowClosed(False)
    sandbox = Sandbox(tmp_path / "sandbox")
    session = AppSession(qsettings, sandbox=sandbox)
    session.window.show()
    try:
        await session.start()
        assert sandbox.running
        assert session.bridge.connected
        assert session.current == SANDBOX_LABEL
        assert session.window.banner.text.text() == SANDBOX_BANNER
        assert session.window.banner.isVisible()
        browser = session.window.browser
        assert browser.buckets.bucket_names() == [FIRST_BUCKET]
        await until(lambda: browser.location.bucket == FIRST_BUCKET and not browser.objects.loading)
        assert "Drop files here" in browser.table.placeholder
        assert session.bridge.target is not None
        assert session.bridge.target.endpoint_url is not None
        assert session.bridge.target.endpoint_url.startswith("http://127.0.0.1:")
        assert (tmp_path / "sandbox" / "data").is_dir()  # data kept in the given folder
        assert "Local sandbox" in session.window.windowTitle()
    finally:
        session.window.close()
        await session.shutdown()
    assert not sandbox.running
