"""The browser's actions on one object's content: the quick look (space bar) and "Upload with
options…". Kept beside ``BrowserActions`` (which creates them) so the browser's own module
stays about navigation and the common commands."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog

from s3z_core.specs import UploadOptions
from s3z_gui.icons import SP, standard
from s3z_gui.views.preview_dialog import PreviewDialog
from s3z_gui.views.upload_options_dialog import UploadOptionsDialog

if TYPE_CHECKING:
    from s3z_gui.views.browser import BrowserView


class ObjectActions(QObject):
    def __init__(self, browser: BrowserView) -> None:
        super().__init__(browser)
        self.browser = browser
        self.preview_action = QAction("Preview", browser)
        self.preview_action.setIcon(standard(SP.SP_FileDialogContentsView))
        self.preview_action.setShortcut(QKeySequence(Qt.Key.Key_Space))
        self.preview_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.preview_action.triggered.connect(self.preview_selection)
        self.upload_with_options_action = QAction("Upload with options…", browser)
        self.upload_with_options_action.triggered.connect(self.choose_upload_with_options)
        self.preview_dialog: PreviewDialog | None = None
        self.options_dialog: UploadOptionsDialog | None = None
        browser.table.addAction(self.preview_action)
        browser.addAction(self.upload_with_options_action)
        #: What "Upload with options…" starts from (the Settings default Content-Type).
        self.defaults = UploadOptions()

    def set_folder_open(self, opened: bool) -> None:
        self.upload_with_options_action.setEnabled(opened)

    def preview_selection(self) -> PreviewDialog | None:
        b = self.browser
        files = [e for e in b.selected_entries() if not e.is_folder]
        if not files or not b.location.bucket:
            b.bridge.notice.emit("Select a file to preview")
            return None
        if self.preview_dialog is not None:
            self.preview_dialog.close()
        entry, details = files[0], b.bridge.details
        dialog = PreviewDialog(
            lambda bucket, key: details.preview(bucket, key, entry.size),
            b.location.bucket,
            entry.key,
            b,
        )
        self.preview_dialog = dialog
        dialog.open()
        return dialog

    def choose_upload_with_options(self) -> None:
        dialog = QFileDialog(self.browser, "Upload with options")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.filesSelected.connect(self.ask_options)
        dialog.open()

    def ask_options(self, paths: list[str]) -> UploadOptionsDialog | None:
        b = self.browser
        if not paths or not b.location.bucket:
            return None
        dialog = UploadOptionsDialog(paths, b.location.url, b, defaults=self.defaults)
        dialog.optionsChosen.connect(b.upload)
        self.options_dialog = dialog
        dialog.open()
        return dialog
