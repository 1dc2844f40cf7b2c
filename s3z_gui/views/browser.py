"""The bucket browser: buckets on the left, one prefix's objects on the right.

Navigation keeps a back/forward history of (bucket, prefix) locations; the address bar
accepts ``s3://bucket/prefix/`` or ``bucket/prefix``. Every S3 call goes through the
bridge; dialogs use ``open()`` (never ``exec()``, which would nest a Qt loop inside
qasync's).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListView,
    QMessageBox,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from s3z_core.models import BatchResult, BucketInfo
from s3z_gui.bridge import EngineBridge
from s3z_gui.icons import SP, standard
from s3z_gui.models.bucket_model import BucketListModel, BucketNameRole
from s3z_gui.models.listing import Entry, parent_prefix
from s3z_gui.models.object_model import EntryRole, ObjectFilterProxy, ObjectTableModel
from s3z_gui.views.object_view import ObjectView


@dataclass(frozen=True, slots=True)
class Location:
    bucket: str | None
    prefix: str = ""

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.bucket else ""


def parse_location(text: str) -> Location | None:
    """``s3://b/p``, ``b/p/`` or ``b`` → Location(b, "p/"); None for nonsense."""
    text = text.strip()
    if text.startswith("s3://"):
        text = text[len("s3://") :]
    text = text.lstrip("/")
    if not text:
        return None
    bucket, _, prefix = text.partition("/")
    if not bucket or " " in bucket:
        return None
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return Location(bucket, prefix)


def _tool(icon: SP, tip: str) -> QToolButton:
    button = QToolButton()
    button.setIcon(standard(icon))
    button.setToolTip(tip)
    button.setAutoRaise(True)
    return button


class BrowserView(QWidget):
    """Composes the bucket list, the navigation bar and the object table."""

    locationChanged = Signal(str)  # the s3:// URL shown

    def __init__(self, bridge: EngineBridge, *, confirm_deletes: bool = True) -> None:
        super().__init__()
        self.bridge = bridge
        self.confirm_deletes = confirm_deletes
        self.download_dir = ""
        self.location = Location(None)
        self._back: list[Location] = []
        self._forward: list[Location] = []
        self.last_task: asyncio.Task[int | None] | None = None

        self.buckets = BucketListModel()
        self.objects = ObjectTableModel()
        self.proxy = ObjectFilterProxy()
        self.proxy.setSourceModel(self.objects)

        self.bucket_list = QListView()
        self.bucket_list.setModel(self.buckets)
        self.bucket_list.setUniformItemSizes(True)
        self.bucket_list.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.bucket_list.clicked.connect(self._bucket_clicked)
        self.bucket_list.activated.connect(self._bucket_clicked)

        self.table = ObjectView()
        self.table.setModel(self.proxy)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.size_columns()
        self.table.doubleClicked.connect(self._open_index)
        self.table.activated.connect(self._open_index)
        self.table.pathsDropped.connect(self.upload)

        self.back_button = _tool(SP.SP_ArrowBack, "Back (Alt+Left)")
        self.forward_button = _tool(SP.SP_ArrowForward, "Forward (Alt+Right)")
        self.up_button = _tool(SP.SP_FileDialogToParent, "Up (Backspace, Alt+Up)")
        self.refresh_button = _tool(SP.SP_BrowserReload, "Refresh (F5)")
        self.back_button.clicked.connect(self.go_back)
        self.forward_button.clicked.connect(self.go_forward)
        self.up_button.clicked.connect(self.go_up)
        self.refresh_button.clicked.connect(self.refresh)
        self.address = QLineEdit()
        self.address.setPlaceholderText("s3://bucket/prefix/")
        self.address.setClearButtonEnabled(False)
        self.address.returnPressed.connect(self._address_entered)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter this folder")
        self.filter.setClearButtonEnabled(True)
        self.filter.setMaximumWidth(240)
        self.filter.textChanged.connect(self.proxy.set_filter_text)

        self._build_actions()
        self._build_layout()

        bridge.bucketsLoaded.connect(self._buckets_loaded)
        self.objects.moreRequested.connect(lambda g: bridge.fetch_more(self.objects, g))
        self.objects.loadingChanged.connect(lambda _loading: self._update_placeholder())
        self.objects.modelReset.connect(self._update_placeholder)
        self._update_navigation()

    # construction ---------------------------------------------------------------------

    def _action(
        self,
        text: str,
        icon: SP | None,
        slot: Callable[[], object],
        shortcut: QKeySequence | list[QKeySequence] | None = None,
    ) -> QAction:
        action = QAction(text, self)
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

    def _build_actions(self) -> None:
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
            "Properties", SP.SP_FileDialogInfoView, self._properties_requested, key("Alt+Return")
        )
        self.refresh_action = self._action("Refresh", SP.SP_BrowserReload, self.refresh, key("F5"))
        self.address_action = self._action("Go to address", None, self.focus_address, key("Ctrl+L"))
        self.up_action = self._action(
            "Up", SP.SP_FileDialogToParent, self.go_up, [key("Backspace"), key("Alt+Up")]
        )
        self.back_action = self._action("Back", SP.SP_ArrowBack, self.go_back, key("Alt+Left"))
        self.forward_action = self._action(
            "Forward", SP.SP_ArrowForward, self.go_forward, key("Alt+Right")
        )
        self.new_bucket_action = self._action("New bucket…", None, self.ask_new_bucket)
        self.delete_bucket_action = self._action("Delete bucket…", None, self.ask_delete_bucket)
        for action in (
            self.download_action,
            self.copy_url_action,
            self.copy_presigned_action,
            self.properties_action,
            self.new_folder_action,
            self.delete_action,
        ):
            self.table.addAction(action)
        self.bucket_list.addAction(self.new_bucket_action)
        self.bucket_list.addAction(self.delete_bucket_action)
        for action in (self.refresh_action, self.address_action, self.back_action):
            self.addAction(action)
        self.addAction(self.forward_action)
        self.table.addAction(self.up_action)  # Backspace only where it cannot eat typing

    def _build_layout(self) -> None:
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.setSpacing(4)
        header = QHBoxLayout()
        title = QLabel("Buckets")
        font = title.font()
        font.setBold(True)
        title.setFont(font)
        header.addWidget(title)
        header.addStretch(1)
        for action, icon in (
            (self.new_bucket_action, SP.SP_FileDialogNewFolder),
            (self.delete_bucket_action, SP.SP_TrashIcon),
        ):
            button = _tool(icon, action.text().rstrip("…"))
            button.clicked.connect(action.trigger)
            header.addWidget(button)
        side_layout.addLayout(header)
        side_layout.addWidget(self.bucket_list)

        main = QWidget()
        main_layout = QVBoxLayout(main)
        main_layout.setContentsMargins(0, 0, 0, 0)
        main_layout.setSpacing(4)
        nav = QHBoxLayout()
        nav.setSpacing(2)
        for button in (self.back_button, self.forward_button, self.up_button, self.refresh_button):
            nav.addWidget(button)
        nav.addWidget(self.address, 1)
        nav.addSpacing(6)
        nav.addWidget(self.filter)
        main_layout.addLayout(nav)
        main_layout.addWidget(self.table, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(side)
        self.splitter.addWidget(main)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([220, 1000])
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.addWidget(self.splitter)

    # buckets --------------------------------------------------------------------------

    def _buckets_loaded(self, buckets: list[BucketInfo]) -> None:
        self.buckets.set_buckets(buckets)
        names = self.buckets.bucket_names()
        if self.location.bucket in names:
            self._select_bucket_row(self.location.bucket)
        else:
            self.navigate(Location(names[0]) if names else Location(None), remember=False)

    def _select_bucket_row(self, bucket: str | None) -> None:
        row = self.buckets.row_of(bucket) if bucket else -1
        selection = self.bucket_list.selectionModel()
        if row < 0:
            selection.clearSelection()
            return
        selection.setCurrentIndex(
            self.buckets.index(row), QItemSelectionModel.SelectionFlag.ClearAndSelect
        )

    def _bucket_clicked(self, index: QModelIndex) -> None:
        name = index.data(BucketNameRole)
        if isinstance(name, str) and name != self.location.bucket:
            self.navigate(Location(name))

    # navigation -----------------------------------------------------------------------

    def navigate(self, location: Location, *, remember: bool = True) -> asyncio.Task[int | None]:
        if remember and location != self.location and self.location.bucket is not None:
            self._back.append(self.location)
            self._forward.clear()
        self.location = location
        self.filter.clear()
        self.address.setText(location.url)
        self._select_bucket_row(location.bucket)
        self._update_navigation()
        self.locationChanged.emit(location.url)
        if not self.bridge.connected:
            self.objects.reset_location(None)
            return self.bridge.open_location(self.objects, None)
        task = self.bridge.open_location(self.objects, location.bucket, location.prefix)
        self.last_task = task
        return task

    def refresh(self) -> asyncio.Task[int | None]:
        self.bridge.refresh_buckets()
        return self.navigate(self.location, remember=False)

    def go_back(self) -> None:
        if self._back:
            self._forward.append(self.location)
            self.navigate(self._back.pop(), remember=False)

    def go_forward(self) -> None:
        if self._forward:
            self._back.append(self.location)
            self.navigate(self._forward.pop(), remember=False)

    def go_up(self) -> None:
        if self.location.bucket and self.location.prefix:
            self.navigate(Location(self.location.bucket, parent_prefix(self.location.prefix)))

    def focus_address(self) -> None:
        self.address.setFocus()
        self.address.selectAll()

    def _address_entered(self) -> None:
        location = parse_location(self.address.text())
        if location is None:
            self.bridge.failed.emit(f"Not an S3 address: {self.address.text()!r}")
            self.address.setText(self.location.url)
            return
        self.navigate(location)
        self.table.setFocus()

    def _open_index(self, index: QModelIndex) -> None:
        entry = (
            index.data(EntryRole)
            if index.column() == 0
            else index.siblingAtColumn(0).data(EntryRole)
        )
        if isinstance(entry, Entry) and entry.is_folder and self.location.bucket:
            self.navigate(Location(self.location.bucket, entry.key))
        elif isinstance(entry, Entry):
            self._properties_requested()

    def _update_navigation(self) -> None:
        self.back_button.setEnabled(bool(self._back))
        self.forward_button.setEnabled(bool(self._forward))
        self.up_button.setEnabled(bool(self.location.prefix))
        opened = self.location.bucket is not None
        self.table.drop_enabled = opened
        for action in (self.upload_files_action, self.upload_folder_action, self.new_folder_action):
            action.setEnabled(opened)

    def _update_placeholder(self) -> None:
        if not self.bridge.connected:
            text = "Not connected"
        elif self.location.bucket is None:
            text = (
                "Create a bucket to get started"
                if not self.buckets.rowCount()
                else ("Select a bucket")
            )
        elif self.objects.loading:
            text = "Loading…"
        elif self.objects.error:
            text = f"Could not list this folder\n{self.objects.error}"
        else:
            text = "This folder is empty\nDrop files here to upload"
        self.table.set_placeholder(text)

    # selection ------------------------------------------------------------------------

    def selected_entries(self) -> list[Entry]:
        rows = self.table.selectionModel().selectedRows(0)
        entries = [index.data(EntryRole) for index in rows]
        return [e for e in entries if isinstance(e, Entry)]

    def select_names(self, names: set[str]) -> None:
        """Select rows by name (tests and "select after create" use it)."""
        selection = self.table.selectionModel()
        selection.clearSelection()
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            entry = index.data(EntryRole)
            if isinstance(entry, Entry) and entry.name in names:
                selection.select(
                    index,
                    QItemSelectionModel.SelectionFlag.Select
                    | QItemSelectionModel.SelectionFlag.Rows,
                )

    # commands -------------------------------------------------------------------------

    def upload(self, paths: list[str]) -> asyncio.Task[BatchResult | None] | None:
        bucket = self.location.bucket
        if not bucket or not paths:
            return None
        task = self.bridge.upload_paths(paths, bucket, self.location.prefix)
        location = self.location
        task.add_done_callback(lambda _t: self._refresh_if_at(location))
        return task

    def _refresh_if_at(self, location: Location) -> None:
        if self.location == location:
            self.navigate(location, remember=False)

    def choose_upload_files(self) -> None:
        dialog = QFileDialog(self, "Upload files")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.filesSelected.connect(self.upload)
        dialog.open()

    def choose_upload_folder(self) -> None:
        dialog = QFileDialog(self, "Upload folder")
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(lambda path: self.upload([path]))
        dialog.open()

    def choose_download_folder(self) -> None:
        if not self.selected_entries():
            self.bridge.notice.emit("Select files or folders to download")
            return
        dialog = QFileDialog(self, "Download to folder", self.download_dir)
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(self.download_selection_to)
        dialog.open()

    def download_selection_to(self, folder: str) -> asyncio.Task[BatchResult | None] | None:
        entries = self.selected_entries()
        if not entries or not self.location.bucket:
            return None
        return self.bridge.download_entries(
            self.location.bucket, entries, folder, strip_prefix=self.location.prefix
        )

    def ask_new_folder(self) -> None:
        if not self.location.bucket:
            return
        dialog = QInputDialog(self)
        dialog.setWindowTitle("New folder")
        dialog.setLabelText(f"Folder name in {self.location.url}")
        dialog.textValueSelected.connect(self.new_folder)
        dialog.open()

    def new_folder(self, name: str) -> asyncio.Task[str | None] | None:
        bucket = self.location.bucket
        if not bucket:
            return None
        task = self.bridge.new_folder(bucket, self.location.prefix, name)
        location = self.location
        task.add_done_callback(lambda _t: self._refresh_if_at(location))
        return task

    def ask_delete_selection(self) -> None:
        entries = self.selected_entries()
        if not entries:
            return
        if not self.confirm_deletes:
            self.delete_selection()
            return
        folders = sum(1 for e in entries if e.is_folder)
        what = entries[0].name if len(entries) == 1 else f"{len(entries)} items"
        extra = " Folders are deleted with everything inside them." if folders else ""
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Delete",
            f"Delete {what} from {self.location.url}? This cannot be undone.{extra}",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.buttonClicked.connect(lambda button: button is delete and self.delete_selection())
        box.open()

    def delete_selection(self) -> asyncio.Task[int | None] | None:
        entries = self.selected_entries()
        bucket = self.location.bucket
        if not entries or not bucket:
            return None
        task = self.bridge.delete_entries(bucket, entries)
        location = self.location
        task.add_done_callback(lambda _t: self._refresh_if_at(location))
        return task

    def ask_new_bucket(self) -> None:
        dialog = QInputDialog(self)
        dialog.setWindowTitle("New bucket")
        dialog.setLabelText("Bucket name (lowercase letters, digits, hyphens)")
        dialog.textValueSelected.connect(
            lambda name: name.strip() and self.bridge.create_bucket(name.strip())
        )
        dialog.open()

    def ask_delete_bucket(self) -> None:
        index = self.bucket_list.currentIndex()
        name = index.data(BucketNameRole) if index.isValid() else self.location.bucket
        if not isinstance(name, str):
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Delete bucket",
            f"Delete the bucket {name} and every object in it? This cannot be undone.",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        delete = box.addButton("Delete bucket", QMessageBox.ButtonRole.DestructiveRole)
        box.buttonClicked.connect(
            lambda button: button is delete and self.bridge.delete_bucket(name, force=True)
        )
        box.open()

    def _url_of_selection(self) -> str:
        entries = self.selected_entries()
        if entries and self.location.bucket:
            return "\n".join(f"s3://{self.location.bucket}/{e.key}" for e in entries)
        return self.location.url

    def copy_url(self) -> None:
        text = self._url_of_selection()
        if text:
            QGuiApplication.clipboard().setText(text)
            self.bridge.notice.emit("Copied " + text.splitlines()[0])

    def copy_presigned(self) -> None:
        files = [e for e in self.selected_entries() if not e.is_folder]
        if not files or not self.location.bucket:
            self.bridge.notice.emit("Select a file to share")
            return
        url = self.bridge.presign(self.location.bucket, files[0].key)
        if url:
            QGuiApplication.clipboard().setText(url)
            self.bridge.notice.emit(f"Copied a link to {files[0].name}, valid for 1 hour")

    propertiesRequested = Signal(str, str)  # bucket, key

    def _properties_requested(self) -> None:
        files = [e for e in self.selected_entries() if not e.is_folder]
        if files and self.location.bucket:
            self.propertiesRequested.emit(self.location.bucket, files[0].key)
