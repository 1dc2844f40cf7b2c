"""Issue 15 bugs 3 and 4: a connection that fails says so and never leaves the old view;
a broken profile never takes over every start.

The sandbox is the shared SeaweedFS here (a stand-in with ``start``/``stop``), so the tests
are about the session's decisions, not about starting a server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import target_for
from PySide6.QtCore import QSettings

from s3z_gui.connection import ConnectionTarget
from s3z_gui.sandbox import SANDBOX_LABEL
from s3z_gui.session import SANDBOX_BANNER, AppSession
from s3z_gui.settings.profiles import Profile, ProfileStore


class SharedServerSandbox:
    """Stands in for ``Sandbox``: the 'local sandbox' is the shared test server."""

    def __init__(self, server: Any) -> None:
        self.target = target_for(server, SANDBOX_LABEL)
        self.running = False

    async def start(self) -> ConnectionTarget:
        self.running = True
        return self.target

    async def stop(self) -> None:
        self.running = False


def _session(qapp: Any, qsettings: QSettings, seaweed: Any) -> AppSession:
    qapp.setQuitOnLastWindowClosed(False)
    session = AppSession(qsettings, sandbox=SharedServerSandbox(seaweed))  # type: ignore[arg-type]
    session.window.show()
    return session


def _save_profile(qsettings: QSettings, name: str, endpoint: str) -> None:
    ProfileStore(qsettings).save(
        Profile(name=name, endpoint_url=endpoint, region="us-east-1", access_key="AKIA")
    )


@pytest.mark.asyncio
async def test_a_failed_connection_replaces_the_old_view(
    qapp: Any, qsettings: QSettings, seaweed: Any, bucket: Any, memory_keyring: Any
) -> None:
    """Bug 3: endpoint http://127.0.0.1:1 — the banner must not say "Local sandbox" and the
    sandbox's buckets must not stay listed."""
    name = bucket(seaweed)
    session = _session(qapp, qsettings, seaweed)
    try:
        await session.use_sandbox()
        assert name in session.window.browser.buckets.bucket_names()
        _save_profile(qsettings, "nowhere", "http://127.0.0.1:1")
        await session.secrets.save_async("nowhere", "secret", session_only=True)
        assert not await session.connect_profile("nowhere")
        banner = session.window.banner.text.text()
        assert banner.startswith("Could not connect to nowhere — "), banner
        assert "sandbox" not in banner.lower()
        assert session.window.banner.button.text() == "Edit nowhere…"
        assert session.window.browser.buckets.bucket_names() == []
        assert not session.bridge.connected
        assert session.bridge.target is None
        assert session.current == ""
        assert "Not connected" in session.window.connection_label.text()
        assert session.window.windowTitle() == "s3z"
    finally:
        session.window.close()
        await session.shutdown()


@pytest.mark.asyncio
async def test_a_broken_profile_does_not_take_over_every_start(
    qapp: Any, qsettings: QSettings, seaweed: Any, tmp_path: Path, memory_keyring: Any
) -> None:
    """Bug 4: "The secret key of broken is not available" at every start, even after
    switching back to the sandbox. Start with what last worked; say what failed."""
    _save_profile(qsettings, "broken", "http://127.0.0.1:1")
    ProfileStore(qsettings).set_last_used("broken")  # it worked once, on another computer
    first = _session(qapp, qsettings, seaweed)
    try:
        await first.start()
        assert first.dialog is None, "no dialog takes over the start"
        assert first.bridge.connected
        assert first.current == SANDBOX_LABEL
        banner = first.window.banner.text.text()
        assert "The secret key of broken is not available on this computer" in banner
        assert "Showing the local sandbox instead" in banner
        first.window.banner.button.click()  # "Edit broken…" opens that profile
        assert first.dialog is not None
        assert first.dialog.name.text() == "broken"
        first.dialog.reject()
    finally:
        first.window.close()
        await first.shutdown()

    second = _session(qapp, qsettings, seaweed)
    try:
        await second.start()  # the sandbox worked last: it opens, quietly
        assert second.current == SANDBOX_LABEL
        assert second.window.banner.text.text() == SANDBOX_BANNER
        assert second.dialog is None
    finally:
        second.window.close()
        await second.shutdown()


@pytest.mark.asyncio
async def test_a_remembered_profile_that_fails_now_falls_back_and_says_why(
    qapp: Any, qsettings: QSettings, seaweed: Any, memory_keyring: Any
) -> None:
    _save_profile(qsettings, "gone", "http://127.0.0.1:1")
    ProfileStore(qsettings).set_last_used("gone")
    session = _session(qapp, qsettings, seaweed)
    try:
        await session.secrets.save_async("gone", "secret", session_only=True)
        await session.start()
        assert session.current == SANDBOX_LABEL
        banner = session.window.banner.text.text()
        assert banner.startswith("Could not connect to gone — "), banner
        assert banner.endswith("Showing the local sandbox instead.")
    finally:
        session.window.close()
        await session.shutdown()
