"""The first-run offer to add s3z to the applications menu: asked once, never modal.

Offered only on Linux (XDG menus), only when no s3z entry exists in any data dir (a
distribution package's or an earlier install's), and only until the user answers; the answer
is kept in QSettings, and ``s3z --install-desktop-entry`` stays available. The checks and the
install touch the file system, so they run in a worker thread; the question is a non-modal
box (``show()``, never ``exec()``: a nested loop would stall asyncio under qasync).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QAbstractButton, QMainWindow, QMessageBox, QWidget

from s3z_gui import desktop_entry

log = logging.getLogger(__name__)

OFFERED_KEY = "desktop_entry/offered"
ADDED_MESSAGE = "s3z was added to the applications menu"


def _program_to_offer() -> Path | None:
    """The installed ``s3z`` when the menu has no entry yet; None when there is nothing to do."""
    if desktop_entry.entry_present():
        return None
    try:
        return desktop_entry.installed_executable()
    except desktop_entry.DesktopEntryError:
        return None  # run as `python -m s3z_gui.app`: no command to point a menu at


class DesktopEntryOffer:
    """One offer: ``await run()`` asks (if it should) and installs on "Add to menu"."""

    def __init__(self, parent: QWidget, settings: QSettings, *, platform: str | None = None):
        self.parent = parent
        self.settings = settings
        self.platform = sys.platform if platform is None else platform
        self.box: QMessageBox | None = None
        self.add_button: QAbstractButton | None = None

    def already_answered(self) -> bool:
        return str(self.settings.value(OFFERED_KEY, "false")).lower() == "true"

    async def run(self) -> str | None:
        """What happened, for the status bar (None when nothing was asked)."""
        if not self.platform.startswith("linux") or self.already_answered():
            return None
        program = await asyncio.to_thread(_program_to_offer)
        if program is None:
            return None
        accepted = await self._ask(program)
        self.settings.setValue(OFFERED_KEY, "true")
        if not accepted:
            return None
        try:
            await asyncio.to_thread(desktop_entry.install, program)
        except desktop_entry.DesktopEntryError as exc:
            log.warning("desktop entry not installed: %s", exc)
            return f"Could not add s3z to the applications menu: {exc}"
        log.info("desktop entry installed for %s", program)
        return ADDED_MESSAGE

    async def _ask(self, program: Path) -> bool:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Add s3z to the applications menu?",
            "Add s3z to your applications menu, so you can start it like any other app?",
            QMessageBox.StandardButton.NoButton,
            self.parent,
        )
        box.setInformativeText(
            f"The menu entry will start {program}. You can remove it later with "
            "s3z --uninstall-desktop-entry."
        )
        self.add_button = box.addButton("Add to menu", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Not now", QMessageBox.ButtonRole.RejectRole)
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        answered: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def clicked(button: QAbstractButton) -> None:
            if not answered.done():
                answered.set_result(button is self.add_button)

        def closed(_result: int) -> None:  # Esc or the title bar: "not now"
            if not answered.done():
                answered.set_result(False)

        box.buttonClicked.connect(clicked)
        box.finished.connect(closed)
        self.box = box
        box.show()
        try:
            return await answered
        finally:
            self.box = None


async def offer_once(window: QMainWindow, settings: QSettings) -> None:
    """The app's first-run step: ask, and say in the status bar what came of it."""
    message = await DesktopEntryOffer(window, settings).run()
    if message:
        window.statusBar().showMessage(message, 10000)
