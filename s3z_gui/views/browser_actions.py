"""The browser's actions: menu entries, shortcuts and the small dialogs that precede a command.

Each dialog is opened with ``open()`` (never ``exec()``, which would nest a Qt loop inside
qasync's) and hands its answer to a command of the browser view, which calls the bridge.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from s3z_gui.icons import SP, standard
from s3z_gui.models.bucket_model import BucketNameRole
from s3z_gui.units import format_size
from s3z_gui.views.bucket_dialog import NewBucketDialog
from s3z_gui.views.object_actions import ObjectActions

if TYPE_CHECKING:
    from s3z_gui.bridge import Tally
    from s3z_gui.views.browser import BrowserView


class BrowserActions(QObject):
    def __init__(self, browser: BrowserView) -> None:
        super().__init__(browser)
        self.browser = browser
        key = QKeySequence
        self.upload_files_action = self._action(
            "Upload files…", SP.SP_ArrowUp, self.choose_upload_files, key("Ctrl+U")
        )
        self.upload_folder_action = self._action(
            "Upload folder…", SP.SP_DirIcon, self.choose_upload_folder
        )
        self.download_action = self._action(
            "Download…", SP.SP_ArrowDown, self.choose_download_folder, key("Ctrl+D")
        )
        self.new_folder_action = self._action(
            "New folder…", SP.SP_FileDialogNewFolder, self.ask_new_folder, key("Ctrl+Shift+N")
        )
        self.delete_action = self._action(
            "Delete", SP.SP_TrashIcon, self.ask_delete_selection, key(key.StandardKey.Delete)
        )
        self.copy_url_action = self._action("Copy s3:// URL", None, self.copy_url, key("Ctrl+C"))
        self.copy_presigned_action = self._action(
            "Copy presigned URL (1 hour)", None, self.copy_presigned, key("Ctrl+Shift+C")
        )
        self.properties_action = self._action(
            "Properties", SP.SP_FileDialogInfoView, browser.request_properties, key("Alt+Return")
        )
        self.refresh_action = self._action(
            "Refresh", SP.SP_BrowserReload, browser.refresh, key("F5")
        )
        self.address_action = self._action(
            "Go to address", None, browser.focus_address, key("Ctrl+L")
        )
        self.up_action = self._action(
            "Up", SP.SP_FileDialogToParent, browser.go_up, [key("Backspace"), key("Alt+Up")]
        )
        self.back_action = self._action("Back", SP.SP_ArrowBack, browser.go_back, key("Alt+Left"))
        self.forward_action = self._action(
            "Forward", SP.SP_ArrowForward, browser.go_forward, key("Alt+Right")
        )
        self.new_bucket_action = self._action("New bucket…", None, self.ask_new_bucket)
        self.delete_bucket_action = self._action("Delete bucket…", None, self.ask_delete_bucket)
        self.bucket_dialog: NewBucketDialog | None = None
        self.object_actions = ObjectActions(browser)  # preview, upload with options
        self.delete_bucket_box: QMessageBox | None = None

    def _action(
        self,
        text: str,
        icon: SP | None,
        slot: Callable[[], object],
        shortcut: QKeySequence | list[QKeySequence] | None = None,
    ) -> QAction:
        action = QAction(text, self.browser)
        if icon is not None:
            action.setIcon(standard(icon))
        if shortcut is not None:
            if isinstance(shortcut, list):
                action.setShortcuts(shortcut)
            else:
                action.setShortcut(shortcut)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(slot)
        return action

    def attach(self) -> None:
        """Put the actions where their shortcuts belong (the table, the bucket list, the view)."""
        b = self.browser
        for action in (
            self.download_action,
            self.copy_url_action,
            self.copy_presigned_action,
            self.properties_action,
            self.new_folder_action,
            self.delete_action,
        ):
            b.table.addAction(action)
        b.bucket_list.addAction(self.new_bucket_action)
        b.bucket_list.addAction(self.delete_bucket_action)
        for action in (
            # Ctrl+U works wherever the browser has focus, not only through the File menu
            # (a WidgetWithChildren shortcut fires only from the widgets it is added to).
            self.upload_files_action,
            self.upload_folder_action,
            self.refresh_action,
            self.address_action,
            self.back_action,
            self.forward_action,
        ):
            b.addAction(action)
        b.table.addAction(self.up_action)  # Backspace only where it cannot eat typing

    def set_folder_open(self, opened: bool) -> None:
        for action in (self.upload_files_action, self.upload_folder_action, self.new_folder_action):
            action.setEnabled(opened)
        self.object_actions.set_folder_open(opened)

    # dialogs ------------------------------------------------------------------------

    def choose_upload_files(self) -> None:
        dialog = QFileDialog(self.browser, "Upload files")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.filesSelected.connect(self.browser.upload)
        dialog.open()

    def choose_upload_folder(self) -> None:
        dialog = QFileDialog(self.browser, "Upload folder")
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(lambda path: self.browser.upload([path]))
        dialog.open()

    def choose_download_folder(self) -> None:
        b = self.browser
        if not b.selected_entries():
            b.bridge.notice.emit("Select files or folders to download")
            return
        dialog = QFileDialog(b, "Download to folder", b.download_dir)
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(b.download_selection_to)
        dialog.open()

    def ask_new_folder(self) -> None:
        b = self.browser
        if not b.location.bucket:
            return
        dialog = QInputDialog(b)
        dialog.setWindowTitle("New folder")
        dialog.setLabelText(f"Folder name in {b.location.url}")
        dialog.textValueSelected.connect(b.new_folder)
        dialog.open()

    def ask_delete_selection(self) -> None:
        b = self.browser
        entries = b.selected_entries()
        if not entries:
            return
        if not b.confirm_deletes:
            b.delete_selection()
            return
        folders = sum(1 for e in entries if e.is_folder)
        what = entries[0].name if len(entries) == 1 else f"{len(entries)} items"
        extra = " Folders are deleted with everything inside them." if folders else ""
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Delete",
            f"Delete {what} from {b.location.url}? This cannot be undone.{extra}",
            QMessageBox.StandardButton.Cancel,
            b,
        )
        delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.buttonClicked.connect(lambda button: button is delete and b.delete_selection())
        box.open()

    def ask_new_bucket(self) -> NewBucketDialog:
        """Names are checked as typed; a name the server still refuses reopens the dialog
        with it, so nothing typed is lost."""
        return self._open_bucket_dialog("")

    def _open_bucket_dialog(self, name: str) -> NewBucketDialog:
        dialog = NewBucketDialog(self.browser, name)
        dialog.nameChosen.connect(self._create_bucket)
        self.bucket_dialog = dialog
        dialog.open()
        return dialog

    def _create_bucket(self, name: str) -> None:
        task = self.browser.bridge.create_bucket(name)

        def done(_task: object) -> None:
            if not task.cancelled() and task.result() is None:  # refused: the bar says why
                self._open_bucket_dialog(name)

        task.add_done_callback(done)

    def ask_delete_bucket(self) -> None:
        b = self.browser
        index = b.bucket_list.currentIndex()
        name = index.data(BucketNameRole) if index.isValid() else b.location.bucket
        if not isinstance(name, str):
            return
        # Count first (issue 15, bug 14): the question says what would go.
        task = b.bridge.count_objects(name)
        task.add_done_callback(
            lambda _t: (
                None if task.cancelled() else self._confirm_delete_bucket(name, task.result())
            )
        )

    def _confirm_delete_bucket(self, name: str, tally: Tally | None) -> QMessageBox | None:
        b = self.browser
        if tally is None:  # the listing failed: the status bar says why; nothing is deleted
            return None
        if tally.objects == 0:
            what = f"Delete the empty bucket {name}?"
        else:
            many = f"{tally.objects:,}" if tally.complete else f"at least {tally.objects:,}"
            what = (
                f"Delete the bucket {name} and its {many} object(s) "
                f"({format_size(tally.size)})? This cannot be undone."
            )
        box = QMessageBox(
            QMessageBox.Icon.Warning, "Delete bucket", what, QMessageBox.StandardButton.Cancel, b
        )
        delete = box.addButton("Delete bucket", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.buttonClicked.connect(
            lambda button: button is delete and b.bridge.delete_bucket(name, force=True)
        )
        self.delete_bucket_box = box
        box.open()
        return box

    # clipboard ----------------------------------------------------------------------

    def _url_of_selection(self) -> str:
        b = self.browser
        entries = b.selected_entries()
        if entries and b.location.bucket:
            return "\n".join(f"s3://{b.location.bucket}/{e.key}" for e in entries)
        return b.location.url

    def copy_url(self) -> None:
        text = self._url_of_selection()
        if text:
            QGuiApplication.clipboard().setText(text)
            self.browser.bridge.notice.emit("Copied " + text.splitlines()[0])

    def copy_presigned(self) -> None:
        b = self.browser
        files = [e for e in b.selected_entries() if not e.is_folder]
        if not files or not b.location.bucket:
            b.bridge.notice.emit("Select a file to share")
            return
        url = b.bridge.presign(b.location.bucket, files[0].key)
        if url:
            QGuiApplication.clipboard().setText(url)
            b.bridge.notice.emit(f"Copied a link to {files[0].name}, valid for 1 hour")
