"""Search results: the keys a bucket search found, appended as the listing finds them.

A search's matches arrive one object at a time from the parallel listing (in no key order);
announcing each as its own row insert would cost the view one layout per key on a big
bucket, and waiting for the end would show nothing for a minute. So matches wait in a small
buffer that is flushed as one insert when it holds ``FLUSH_ROWS`` or, at the latest, a
moment after the first of them arrived (a single-shot timer). Rows are never re-sorted
here: the view sorts through a proxy only if the user clicks a header.
"""

from __future__ import annotations

from enum import Enum

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)

from s3z_core.models import ObjectInfo
from s3z_gui.file_icons import icon_for_name
from s3z_gui.models.listing import Entry, parent_prefix
from s3z_gui.units import format_size

ResultRole = Qt.ItemDataRole.UserRole + 21
SortRole = Qt.ItemDataRole.UserRole + 22

HEADERS = ("Name", "Folder", "Size", "Modified")
NAME, FOLDER, SIZE, MODIFIED = range(4)
FLUSH_ROWS = 256
FLUSH_DELAY_MS = 50

Index = QModelIndex | QPersistentModelIndex


class SearchState(Enum):
    IDLE = "idle"
    SEARCHING = "searching"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"


class SearchResultsModel(QAbstractTableModel):
    stateChanged = Signal()  # state or count: the panel's line changes

    def __init__(self) -> None:
        super().__init__()
        self.bucket = ""
        self.prefix = ""
        self.text = ""
        self.results: list[ObjectInfo] = []
        self.generation = 0
        self.state = SearchState.IDLE
        self.error = ""
        self._pending: list[ObjectInfo] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FLUSH_DELAY_MS)
        self._timer.timeout.connect(self.flush)

    @property
    def count(self) -> int:
        return len(self.results) + len(self._pending)

    def begin(self, bucket: str, prefix: str, text: str) -> int:
        """Empty the table for a new search; returns the generation results must carry."""
        self.beginResetModel()
        self.generation += 1
        self.bucket, self.prefix, self.text = bucket, prefix, text
        self.results, self._pending = [], []
        self.error = ""
        self.state = SearchState.SEARCHING
        self.endResetModel()
        self._timer.stop()
        self.stateChanged.emit()
        return self.generation

    def add(self, generation: int, found: ObjectInfo) -> None:
        if generation != self.generation or self.state is not SearchState.SEARCHING:
            return  # a late match of a search that was replaced or cancelled
        self._pending.append(found)
        if len(self._pending) >= FLUSH_ROWS:
            self.flush()
        elif not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        self._timer.stop()
        if not self._pending:
            return
        first = len(self.results)
        self.beginInsertRows(QModelIndex(), first, first + len(self._pending) - 1)
        self.results.extend(self._pending)
        self._pending = []
        self.endInsertRows()
        self.stateChanged.emit()

    def finish(self, generation: int, state: SearchState, error: str = "") -> None:
        if generation != self.generation or self.state is not SearchState.SEARCHING:
            return
        self.flush()
        self.state, self.error = state, error
        self.stateChanged.emit()

    def entry(self, row: int) -> Entry:
        """A result as a browser row, so it downloads the way browser rows do."""
        found = self.results[row]
        return Entry(
            name=found.key.rsplit("/", 1)[-1],
            key=found.key,
            is_folder=False,
            size=found.size,
            modified=found.last_modified,
            storage_class=found.storage_class,
            etag=found.etag,
        )

    # Qt interface -------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.results)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(HEADERS):
            if role == Qt.ItemDataRole.DisplayRole:
                return HEADERS[section]
            if role == Qt.ItemDataRole.TextAlignmentRole and section == SIZE:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self.results):
            return None
        found = self.results[index.row()]
        column = index.column()
        name = found.key.rsplit("/", 1)[-1]
        if role == Qt.ItemDataRole.DisplayRole:
            if column == NAME:
                return name
            if column == FOLDER:
                return parent_prefix(found.key)[len(self.prefix) :] or "/"
            if column == SIZE:
                return format_size(found.size)
            if column == MODIFIED and found.last_modified is not None:
                return found.last_modified.astimezone().strftime("%Y-%m-%d %H:%M")
            return ""
        if role == ResultRole:
            return found
        if role == SortRole:
            if column == SIZE:
                return found.size
            if column == MODIFIED:
                return found.last_modified.timestamp() if found.last_modified else 0.0
            return found.key.casefold() if column == FOLDER else name.casefold()
        if role == Qt.ItemDataRole.DecorationRole and column == NAME:
            return icon_for_name(name)
        if role == Qt.ItemDataRole.TextAlignmentRole and column == SIZE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"s3://{self.bucket}/{found.key}"
        return None
