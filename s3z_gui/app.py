"""The ``s3z`` console script: checks for a display, then runs the window on a qasync loop.

SIGTERM, SIGINT and SIGHUP close the app as the window's close button does (transfers
aborted, temp files removed, the sandbox stopped) and exit with 128 + the signal's number; a
second signal while closing exits at once (the sandbox's warden still stops the server).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import traceback
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

if TYPE_CHECKING:
    from s3z_gui.session import AppSession

log = logging.getLogger("s3z_gui")

#: Signals that close the app like its close button.
CLOSING_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)

#: A scripted user (the soak run, the lifecycle tests): runs as a task of the session.
Automation = Callable[["AppSession"], Coroutine[Any, Any, None]]

ORGANIZATION = "s3z"
APPLICATION = "s3z"

NO_DISPLAY_MESSAGE = """\
s3z: no display found (DISPLAY and WAYLAND_DISPLAY are not set).
The desktop app needs a graphical session. On a server, use the command line instead:
    s3z-core --help
or run the app in a virtual display:
    xvfb-run -a s3z
"""


def has_display(env: dict[str, str] | None = None) -> bool:
    env = dict(os.environ) if env is None else env
    if sys.platform in ("win32", "darwin"):
        return True
    return any(env.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def install_excepthook() -> None:
    """Uncaught errors (qasync routes slot exceptions here) are logged and shown, not lost."""

    def hook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, error, tb)
            return
        log.error("unexpected error", exc_info=(kind, error, tb))
        app = QApplication.instance()
        if not isinstance(app, QApplication):
            return
        box = QMessageBox(QMessageBox.Icon.Critical, "s3z — unexpected error", "")
        box.setText("Something went wrong inside s3z. Your transfers keep running.")
        box.setInformativeText(f"{kind.__name__}: {error}")
        box.setDetailedText("".join(traceback.format_exception(kind, error, tb)))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()  # never exec(): a nested loop would stall the asyncio loop

    sys.excepthook = hook


def app_settings() -> QSettings:
    return QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION
    )


def close_on_signals(
    loop: asyncio.AbstractEventLoop, close: Callable[[], None], received: list[int]
) -> None:
    """``close`` on the first closing signal; exit at once on the second."""

    def on_signal(signum: int) -> None:
        if received:
            log.warning("%s while closing: exiting now", signal.Signals(signum).name)
            os._exit(128 + signum)
        received.append(signum)
        log.info("%s: closing", signal.Signals(signum).name)
        close()

    for signum in CLOSING_SIGNALS:
        loop.add_signal_handler(signum, on_signal, signum)


async def main_async(automation: Automation | None = None) -> int:
    from s3z_core.collector import settle_collection
    from s3z_core.engine import WORK_MODULES, prepare
    from s3z_gui.desktop_offer import offer_once
    from s3z_gui.session import AppSession

    loop = asyncio.get_running_loop()
    session = AppSession(app_settings())
    prepare(*WORK_MODULES)  # the app runs every kind of work: its code loads with the window's
    settle_collection()  # the window's modules are in: see s3z_core/collector.py
    closed = asyncio.Event()
    received: list[int] = []

    def close() -> None:
        session.window.quit_now()  # what the close button does, without asking …
        closed.set()  # … even if the window never got to be shown

    close_on_signals(loop, close, received)
    session.window.closed.connect(closed.set)
    session.window.show()
    log.info("window shown")
    session.launch()
    offer = asyncio.ensure_future(offer_once(session.window, session.settings))
    if automation is not None:
        session.spawn(automation(session))
    await closed.wait()
    offer.cancel()
    await session.shutdown()
    for signum in CLOSING_SIGNALS:
        loop.remove_signal_handler(signum)
    return 128 + received[0] if received else 0


def main(automation: Automation | None = None) -> int:
    from s3z_gui.command_line import run_without_window

    answered = run_without_window(sys.argv[1:])
    if answered is not None:  # --version, --help, the menu entry: no window, no display needed
        return answered
    if not has_display():
        sys.stderr.write(NO_DISPLAY_MESSAGE)
        return 1
    from s3z_core.collector import pause_collection

    pause_collection()  # until the session's imports are done (s3z_core/collector.py)
    import qasync

    from s3z_gui.icons import app_icon

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("s3z")
    app.setDesktopFileName("s3z")
    app.setWindowIcon(app_icon())
    app.setQuitOnLastWindowClosed(False)  # main_async decides when to stop, after cleanup
    install_excepthook()
    try:
        result: int = qasync.run(main_async(automation))
    except KeyboardInterrupt:
        return 130
    return result


if __name__ == "__main__":
    sys.exit(main())
