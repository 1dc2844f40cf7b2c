"""The "Search bucket…" page of the browser: a query field, a live count with Cancel, and the
results as they arrive.

The search runs over the bucket and folder that were open when it started (shown above the
results). Double-clicking a result opens its folder in the browser and selects it; selected
results download like browser rows, keeping their folders below the searched prefix.
"""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from s3z_core.models import BatchResult
from s3z_gui.bridge import EngineBridge
from s3z_gui.icons import SP, standard
from s3z_gui.models.search_model import SearchResultsModel, SearchState, SortRole
from s3z_gui.views.object_view import ObjectView


class SearchPanel(QWidget):
    resultOpened = Signal(str, str)  # bucket, key: show it in the browser
    closeRequested = Signal()

    def __init__(self, bridge: EngineBridge) -> None:
        super().__init__()
        self.bridge = bridge
        self.bucket: str | None = None
        self.prefix = ""
        self.download_dir = ""
        self.last_task: asyncio.Task[int | None] | None = None
        self.model = SearchResultsModel()
        self.proxy = QSortFilterProxyModel()
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SortRole)

        self.field = QLineEdit()
        self.field.setPlaceholderText("Search bucket…  (text, or a glob such as *.jpg)")
        self.field.setClearButtonEnabled(True)
        self.field.returnPressed.connect(self.start)
        self.search_button = QPushButton(standard(SP.SP_FileDialogContentsView), "Search")
        self.search_button.clicked.connect(self.start)
        self.cancel_button = QPushButton(standard(SP.SP_BrowserStop), "Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = QPushButton("Back to folder")
        self.close_button.clicked.connect(self.closeRequested)
        self.scope = QLabel()
        self.status = QLabel()
        self.table = ObjectView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(False)  # a click on a header turns sorting on
        self.table.header().sectionClicked.connect(lambda _s: self.table.setSortingEnabled(True))
        header = self.table.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column, width in ((1, 260), (2, 110), (3, 150)):
            header.resizeSection(column, width)
        self.table.doubleClicked.connect(self._open_index)
        self.table.activated.connect(self._open_index)
        self.download_action = QAction(standard(SP.SP_ArrowDown), "Download…", self)
        self.download_action.setShortcut(QKeySequence("Ctrl+D"))
        self.download_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.download_action.triggered.connect(self.choose_download_folder)
        self.table.addAction(self.download_action)
        download_button = QPushButton(self.download_action.icon(), "Download…")
        download_button.clicked.connect(self.download_action.trigger)

        top = QHBoxLayout()
        top.setContentsMargins(4, 0, 4, 0)
        top.addWidget(self.field, 1)
        for button in (self.search_button, self.cancel_button, self.close_button):
            top.addWidget(button)
        line = QHBoxLayout()
        line.setContentsMargins(4, 0, 4, 0)
        line.addWidget(self.scope)
        line.addStretch(1)
        line.addWidget(self.status)
        line.addWidget(download_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addLayout(line)
        layout.addWidget(self.table, 1)
        self.model.stateChanged.connect(self._update_status)
        self._update_status()

    def set_scope(self, bucket: str | None, prefix: str) -> None:
        """Where the next search looks (the browser's folder); a running one keeps its own."""
        self.bucket, self.prefix = bucket, prefix
        self.scope.setText(f"in s3://{bucket}/{prefix}" if bucket else "Select a bucket first")
        self.search_button.setEnabled(bucket is not None)

    def focus_field(self) -> None:
        self.field.setFocus()
        self.field.selectAll()

    # commands -----------------------------------------------------------------------

    def start(self) -> asyncio.Task[int | None] | None:
        text = self.field.text().strip()
        if not text or self.bucket is None:
            return None
        self.table.setSortingEnabled(False)
        self.proxy.sort(-1)  # arrival order until the user asks for another
        self.last_task = self.bridge.search.start(self.model, self.bucket, self.prefix, text)
        return self.last_task

    def cancel(self) -> bool:
        return self.bridge.search.cancel(self.model)

    def _update_status(self) -> None:
        model = self.model
        count = f"{model.count:,} found"
        state = model.state
        if state is SearchState.SEARCHING:
            text = f"{count} — searching…"
        elif state is SearchState.CANCELLED:
            text = f"{count} — cancelled"
        elif state is SearchState.FAILED:
            text = f"{count} — failed: {model.error}"
        elif state is SearchState.DONE:
            text = count
        else:
            text = ""
        self.status.setText(text)
        self.cancel_button.setEnabled(state is SearchState.SEARCHING)
        if state is SearchState.SEARCHING:
            self.table.set_placeholder("Searching…")
        else:
            self.table.set_placeholder("Nothing found" if state is not SearchState.IDLE else "")

    # results ------------------------------------------------------------------------

    def selected_rows(self) -> list[int]:
        rows = self.table.selectionModel().selectedRows(0)
        return sorted(self.proxy.mapToSource(i).row() for i in rows)

    def select_rows(self, rows: list[int]) -> None:
        selection = self.table.selectionModel()
        flags = selection.SelectionFlag
        selection.clearSelection()
        for row in rows:
            index = self.proxy.mapFromSource(self.model.index(row, 0))
            selection.select(index, flags.Select | flags.Rows)

    def _open_index(self, index: QModelIndex) -> None:
        row = self.proxy.mapToSource(index).row()
        if 0 <= row < len(self.model.results):
            self.resultOpened.emit(self.model.bucket, self.model.results[row].key)

    def choose_download_folder(self) -> None:
        if not self.selected_rows():
            self.bridge.notice.emit("Select results to download")
            return
        dialog = QFileDialog(self, "Download to folder", self.download_dir)
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(self.download_selection_to)
        dialog.open()

    def download_selection_to(self, folder: str) -> asyncio.Task[BatchResult | None] | None:
        """As the browser downloads rows: keys keep their folders below the searched prefix."""
        entries = [self.model.entry(row) for row in self.selected_rows()]
        if not entries or not self.model.bucket:
            return None
        return self.bridge.transfers.download_entries(
            self.model.bucket, entries, folder, strip_prefix=self.model.prefix
        )
