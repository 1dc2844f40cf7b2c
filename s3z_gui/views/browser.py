"""The bucket browser: buckets on the left, one prefix's objects on the right.

The view composes the widgets and runs the commands a user gives it; where it is and has been
is a ``NavigationHistory`` (Qt-free, ``models/history.py``), and its menu entries, shortcuts
and confirmation dialogs are ``BrowserActions``. Every S3 call goes through the bridge.
"""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from s3z_core.models import BatchResult, BucketInfo
from s3z_gui.bridge import EngineBridge
from s3z_gui.icons import SP, standard
from s3z_gui.models.bucket_model import BucketListModel, BucketNameRole
from s3z_gui.models.history import Location, NavigationHistory, parse_location
from s3z_gui.models.listing import Entry
from s3z_gui.models.object_model import EntryRole, ObjectFilterProxy, ObjectTableModel
from s3z_gui.views.breadcrumbs import Breadcrumbs
from s3z_gui.views.browser_actions import BrowserActions
from s3z_gui.views.browser_modes import BrowserModes
from s3z_gui.views.object_view import ObjectView

__all__ = ["BrowserView", "Location", "parse_location"]


def _tool(icon: SP, tip: str) -> QToolButton:
    button = QToolButton()
    button.setIcon(standard(icon))
    button.setToolTip(tip)
    button.setAutoRaise(True)
    return button


class BrowserView(QWidget):
    """Composes the bucket list, the navigation bar and the object table."""

    locationChanged = Signal(str)  # the s3:// URL shown
    propertiesRequested = Signal(str, str)  # bucket, key

    def __init__(self, bridge: EngineBridge, *, confirm_deletes: bool = True) -> None:
        super().__init__()
        self.bridge = bridge
        self.confirm_deletes = confirm_deletes
        self.download_dir = ""
        self.history = NavigationHistory()
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
        self.address.editingFinished.connect(self._show_breadcrumbs)
        self.breadcrumbs = Breadcrumbs()
        self.breadcrumbs.segmentClicked.connect(self._segment_clicked)
        self.breadcrumbs.editRequested.connect(self.focus_address)
        self.path_bar = QStackedWidget()  # breadcrumbs, or the field while typing
        self.path_bar.addWidget(self.breadcrumbs)
        self.path_bar.addWidget(self.address)
        self.path_bar.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter this folder")
        self.filter.setClearButtonEnabled(True)
        self.filter.setMaximumWidth(240)
        self.filter.textChanged.connect(self.proxy.set_filter_text)

        self.browser_actions = BrowserActions(self)
        self.browser_actions.attach()
        self.modes = BrowserModes(self)  # objects, versions or search results
        self._build_layout()

        bridge.bucketsLoaded.connect(self._buckets_loaded)
        self.objects.moreRequested.connect(lambda g: bridge.listing.fetch_more(self.objects, g))
        self.objects.loadingChanged.connect(lambda _loading: self._update_placeholder())
        self.objects.modelReset.connect(self._update_placeholder)
        self._update_navigation()

    @property
    def location(self) -> Location:
        return self.history.current

    # construction ---------------------------------------------------------------------

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
            (self.browser_actions.new_bucket_action, SP.SP_FileDialogNewFolder),
            (self.browser_actions.delete_bucket_action, SP.SP_TrashIcon),
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
        nav.addWidget(self.path_bar, 1)
        nav.addSpacing(6)
        nav.addWidget(self.filter)
        main_layout.addLayout(nav)
        main_layout.addWidget(self.modes.stack, 1)

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
        self.history.visit(location, remember=remember)
        return self._show_current()

    def _show_current(self) -> asyncio.Task[int | None]:
        location = self.location
        self.filter.clear()
        self.address.setText(location.url)
        self.breadcrumbs.set_location(location)
        self._select_bucket_row(location.bucket)
        self._update_navigation()
        self.locationChanged.emit(location.url)
        listing = self.bridge.listing
        if not self.bridge.connected:
            self.objects.reset_location(None)
            return listing.open_location(self.objects, None)
        task = listing.open_location(self.objects, location.bucket, location.prefix)
        self.last_task = task
        return task

    def refresh(self) -> asyncio.Task[int | None]:
        self.bridge.refresh_buckets()
        return self.navigate(self.location, remember=False)

    def go_back(self) -> None:
        if self.history.back() is not None:
            self._show_current()

    def go_forward(self) -> None:
        if self.history.forward() is not None:
            self._show_current()

    def go_up(self) -> None:
        if self.history.up() is not None:
            self._show_current()

    def focus_address(self) -> None:
        self.path_bar.setCurrentWidget(self.address)
        self.address.setFocus()
        self.address.selectAll()

    def _show_breadcrumbs(self) -> None:
        self.address.setText(self.location.url)
        self.path_bar.setCurrentWidget(self.breadcrumbs)

    def _segment_clicked(self, location: Location) -> None:
        if location == self.location:
            self.refresh()
        else:
            self.navigate(location)

    def _address_entered(self) -> None:
        location = parse_location(self.address.text())
        if location is None:
            self.bridge.failed.emit(f"Not an S3 address: {self.address.text()!r}")
            self.address.setText(self.location.url)
            return
        self.navigate(location)
        self.path_bar.setCurrentWidget(self.breadcrumbs)
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
            self.request_properties()

    def _update_navigation(self) -> None:
        self.back_button.setEnabled(self.history.can_go_back)
        self.forward_button.setEnabled(self.history.can_go_forward)
        self.up_button.setEnabled(self.history.can_go_up)
        opened = self.location.bucket is not None
        self.table.drop_enabled = opened
        self.browser_actions.set_folder_open(opened)

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
        task = self.bridge.transfers.upload_paths(paths, bucket, self.location.prefix)
        location = self.location
        task.add_done_callback(lambda _t: self._refresh_if_at(location))
        return task

    def _refresh_if_at(self, location: Location) -> None:
        if self.location == location:
            self.navigate(location, remember=False)

    def download_selection_to(self, folder: str) -> asyncio.Task[BatchResult | None] | None:
        entries = self.selected_entries()
        if not entries or not self.location.bucket:
            return None
        return self.bridge.transfers.download_entries(
            self.location.bucket, entries, folder, strip_prefix=self.location.prefix
        )

    def new_folder(self, name: str) -> asyncio.Task[str | None] | None:
        bucket = self.location.bucket
        if not bucket:
            return None
        task = self.bridge.new_folder(bucket, self.location.prefix, name)
        location = self.location
        task.add_done_callback(lambda _t: self._refresh_if_at(location))
        return task

    def delete_selection(self) -> asyncio.Task[int | None] | None:
        entries = self.selected_entries()
        bucket = self.location.bucket
        if not entries or not bucket:
            return None
        task = self.bridge.delete_entries(bucket, entries)
        location = self.location
        task.add_done_callback(lambda _t: self._refresh_if_at(location))
        return task

    def request_properties(self) -> None:
        files = [e for e in self.selected_entries() if not e.is_folder]
        if files and self.location.bucket:
            self.propertiesRequested.emit(self.location.bucket, files[0].key)
