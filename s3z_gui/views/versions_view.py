"""The "Show versions" page of the browser: every version and delete marker of the folder.

Rows stay in the server's order (newest first within a key), so the table is not sortable:
a header click would re-sort 100,000 rows and fight the paging. Delete markers are italic
with a trash icon and say "Delete marker" where a size would be; the latest entry of a key
is bold. Dialogs open with ``open()`` (never ``exec()`` under qasync).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from s3z_core.models import BatchResult
from s3z_gui.bridge import EngineBridge
from s3z_gui.icons import SP, standard
from s3z_gui.models.version_model import VersionRole, VersionRow, VersionTableModel
from s3z_gui.views.object_view import ObjectView

T = TypeVar("T")


class VersionsView(QWidget):
    folderOpened = Signal(str)  # the key of a folder row the user opened

    def __init__(self, bridge: EngineBridge, confirm: Callable[[], bool]) -> None:
        super().__init__()
        self.bridge = bridge
        self._confirm = confirm  # the browser's "confirm deletes" setting, read when asked
        self.download_dir = ""
        self.model = VersionTableModel()
        self.last_task: asyncio.Task[int | None] | None = None
        self.delete_box: QMessageBox | None = None

        self.table = ObjectView()
        self.table.setSortingEnabled(False)
        self.table.setModel(self.model)
        header = self.table.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column, width in ((1, 250), (2, 110), (3, 150), (4, 70)):
            header.resizeSection(column, width)
        self.table.doubleClicked.connect(self._open_index)
        self.table.activated.connect(self._open_index)
        self.title = QLabel()

        self.download_action = self._action(
            "Download version…", SP.SP_ArrowDown, self.choose_download_folder, "Ctrl+D"
        )
        self.restore_action = self._action(
            "Restore as latest", SP.SP_BrowserReload, self.restore_selection, "Ctrl+R"
        )
        self.delete_action = self._action(
            "Delete version…", SP.SP_TrashIcon, self.ask_delete_selection, "Delete"
        )
        buttons = QHBoxLayout()
        buttons.setContentsMargins(4, 0, 4, 0)
        buttons.addWidget(self.title, 1)
        for action in (self.download_action, self.restore_action, self.delete_action):
            button = QPushButton(action.icon(), action.text())
            button.clicked.connect(action.trigger)
            buttons.addWidget(button)
            self.table.addAction(action)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)

        self.model.moreRequested.connect(lambda g: bridge.versions.fetch_more(self.model, g))
        self.model.loadingChanged.connect(lambda _loading: self._update_placeholder())
        self.model.modelReset.connect(self._update_placeholder)
        self.table.selectionModel().selectionChanged.connect(self._update_actions)
        self.model.modelReset.connect(self._update_actions)
        self._update_actions()

    def _action(self, text: str, icon: SP, slot: Callable[[], object], key: str) -> QAction:
        action = QAction(standard(icon), text, self)
        action.setShortcut(QKeySequence(key))
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(slot)
        return action

    # location -----------------------------------------------------------------------

    def show_location(self, bucket: str | None, prefix: str) -> asyncio.Task[int | None]:
        if not self.bridge.connected:
            bucket = None  # nothing to list; the placeholder says so
        self.title.setText(f"Versions of s3://{bucket}/{prefix}" if bucket else "Versions")
        self.last_task = self.bridge.versions.open_location(self.model, bucket, prefix)
        return self.last_task

    def reload(self) -> asyncio.Task[int | None]:
        return self.show_location(self.model.bucket or None, self.model.prefix)

    def _update_placeholder(self) -> None:
        if not self.bridge.connected:
            text = "Not connected"
        elif not self.model.bucket:
            text = "Select a bucket"
        elif self.model.loading:
            text = "Loading versions…"
        elif self.model.error:
            text = f"Could not list the versions\n{self.model.error}"
        else:
            text = "No versions here"
        self.table.set_placeholder(text)

    def _update_actions(self) -> None:
        rows = self.selected_rows()
        files = [r for r in rows if not r.is_folder]
        self.download_action.setEnabled(any(not r.delete_marker for r in files))
        self.restore_action.setEnabled(
            len(files) == 1 and not files[0].delete_marker and not files[0].is_latest
        )
        self.delete_action.setEnabled(bool(files))

    def _open_index(self, index: QModelIndex) -> None:
        row = index.siblingAtColumn(0).data(VersionRole)
        if isinstance(row, VersionRow) and row.is_folder:
            self.folderOpened.emit(row.key)

    # selection ----------------------------------------------------------------------

    def selected_rows(self) -> list[VersionRow]:
        rows = [i.data(VersionRole) for i in self.table.selectionModel().selectedRows(0)]
        return [r for r in rows if isinstance(r, VersionRow)]

    def select_version(self, key: str, version_id: str) -> bool:
        row = self.model.row_of(key, version_id)
        if row < 0:
            return False
        index = self.model.index(row, 0)
        flags = self.table.selectionModel().SelectionFlag
        self.table.selectionModel().select(index, flags.ClearAndSelect | flags.Rows)
        return True

    # commands -----------------------------------------------------------------------

    def choose_download_folder(self) -> None:
        if not self.download_action.isEnabled():
            return
        dialog = QFileDialog(self, "Download version to folder", self.download_dir)
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(self.download_selection_to)
        dialog.open()

    def download_selection_to(self, folder: str) -> asyncio.Task[BatchResult | None] | None:
        if not self.model.bucket:
            return None
        return self.bridge.versions.download(self.model.bucket, self.selected_rows(), folder)

    def restore_selection(self) -> asyncio.Task[str | None] | None:
        files = [r for r in self.selected_rows() if not r.is_folder and not r.delete_marker]
        if len(files) != 1 or not self.model.bucket:
            return None
        task = self.bridge.versions.restore(self.model.bucket, files[0])
        return self.bridge.commands.spawn(self._then_reload(task), "Restoring")

    def ask_delete_selection(self) -> QMessageBox | None:
        rows = [r for r in self.selected_rows() if not r.is_folder]
        if not rows:
            return None
        if not self._confirm():
            self.delete_selection()
            return None
        markers = sum(1 for r in rows if r.delete_marker)
        if len(rows) == 1:
            one = rows[0]
            what = f"the delete marker of {one.name}" if markers else f"version {one.version_id}"
            what += "" if markers else f" of {one.name}"
        else:
            what = f"{len(rows)} versions and delete markers"
        back = " The key comes back as its newest remaining version." if markers else ""
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Delete version",
            f"Delete {what} for good? This cannot be undone.{back}",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.buttonClicked.connect(lambda button: button is delete and self.delete_selection())
        self.delete_box = box
        box.open()
        return box

    def delete_selection(self) -> asyncio.Task[int | None] | None:
        rows = [r for r in self.selected_rows() if not r.is_folder]
        if not rows or not self.model.bucket:
            return None
        task = self.bridge.versions.delete(self.model.bucket, rows)
        return self.bridge.commands.spawn(self._then_reload(task), "Deleting versions")

    async def _then_reload(self, task: asyncio.Task[T | None]) -> T | None:
        """The command, then the listing again (the latest flags moved), in one awaitable."""
        result = await task
        await self.reload()
        return result
