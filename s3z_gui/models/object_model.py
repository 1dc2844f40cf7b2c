"""The object table: one prefix, paged in from the engine as the user scrolls.

``canFetchMore``/``fetchMore`` let the view pull the next ``ListObjectsV2`` page only
when it needs rows, so a 100,000-key prefix costs one page at a time. The model never
calls the engine: ``fetchMore`` emits ``moreRequested`` and the bridge answers with
``append_page``. A generation number drops pages that arrive for an old location.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)

from s3z_core.models import ListPage
from s3z_gui.file_icons import icon_for_name
from s3z_gui.icons import folder_icon
from s3z_gui.models.listing import Entry, Listing
from s3z_gui.models.table_header import ROW_FLAGS, header_cell
from s3z_gui.units import format_size

EntryRole = Qt.ItemDataRole.UserRole + 1
SortRole = Qt.ItemDataRole.UserRole + 2

HEADERS = ("Name", "Size", "Modified", "Storage class")
NAME, SIZE, MODIFIED, STORAGE = range(4)

Index = QModelIndex | QPersistentModelIndex


class ObjectTableModel(QAbstractTableModel):
    """Rows of a ``Listing``; append-only between ``reset_location`` calls."""

    moreRequested = Signal(int)  # generation
    loadingChanged = Signal(bool)

    def __init__(self) -> None:
        super().__init__()
        self._listing: Listing | None = None
        self.generation = 0
        self.loading = False
        self.error = ""

    @property
    def bucket(self) -> str:
        return self._listing.bucket if self._listing else ""

    @property
    def prefix(self) -> str:
        return self._listing.prefix if self._listing else ""

    @property
    def entries(self) -> list[Entry]:
        return self._listing.entries if self._listing else []

    def reset_location(self, bucket: str | None, prefix: str = "") -> int:
        """Empty the table for a new location; returns the generation pages must carry."""
        self.beginResetModel()
        self.generation += 1
        self._listing = Listing(bucket, prefix) if bucket else None
        self.error = ""
        self.endResetModel()
        self._set_loading(bucket is not None)
        return self.generation

    def append_page(self, generation: int, page: ListPage) -> int:
        """Add a server page if it belongs to the current location; returns rows added."""
        if generation != self.generation or self._listing is None:
            return 0
        first = len(self._listing.entries)
        # Fold first, then announce exactly the rows that were added.
        added = self._listing.fold(page)
        if added:
            self.beginInsertRows(QModelIndex(), first, first + len(added) - 1)
            self._listing.entries.extend(added)
            self.endInsertRows()
        self._set_loading(False)
        return len(added)

    def fail(self, generation: int, message: str) -> None:
        if generation != self.generation or self._listing is None:
            return
        self.error = message
        self._listing.has_more = False
        self._set_loading(False)

    def _set_loading(self, loading: bool) -> None:
        if loading != self.loading:
            self.loading = loading
            self.loadingChanged.emit(loading)

    def entry(self, row: int) -> Entry:
        return self.entries[row]

    # Qt interface -------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.entries)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def canFetchMore(self, parent: Index) -> bool:
        if parent.isValid() or self._listing is None:
            return False
        return self._listing.has_more and not self.loading

    def fetchMore(self, parent: Index) -> None:
        if self.canFetchMore(parent):
            self._set_loading(True)
            self.moreRequested.emit(self.generation)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        return header_cell(HEADERS, SIZE, section, orientation, role)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled
        return ROW_FLAGS

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self.entries):
            return None
        entry = self.entries[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return _display(entry, column)
        if role == EntryRole:
            return entry
        if role == SortRole:
            return _sort_key(entry, column)
        if role == Qt.ItemDataRole.DecorationRole and column == NAME:
            return folder_icon() if entry.is_folder else icon_for_name(entry.name)
        if role == Qt.ItemDataRole.TextAlignmentRole and column == SIZE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and column == NAME:
            return f"s3://{self.bucket}/{entry.key}"
        return None


def _display(entry: Entry, column: int) -> str:
    if column == NAME:
        return entry.name
    if entry.is_folder:
        return "Folder" if column == SIZE else ""
    if column == SIZE:
        return format_size(entry.size)
    if column == MODIFIED:
        return _local_time(entry.modified)
    if column == STORAGE:
        return _storage_label(entry.storage_class)
    return ""


def _local_time(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def _storage_label(storage_class: str) -> str:
    return storage_class.replace("_", " ").title() if storage_class else "Standard"


def _sort_key(entry: Entry, column: int) -> str | int | float:
    if column == SIZE:
        return -1 if entry.size is None else entry.size
    if column == MODIFIED:
        return entry.modified.timestamp() if entry.modified else 0.0
    if column == STORAGE:
        return entry.storage_class
    return entry.name.casefold()


class ObjectFilterProxy(QSortFilterProxyModel):
    """Folders first in either sort order, then the column's value; filter on the name."""

    def __init__(self) -> None:
        super().__init__()
        self.setSortRole(SortRole)
        self.setFilterKeyColumn(NAME)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setDynamicSortFilter(True)

    def set_filter_text(self, text: str) -> None:
        self.setFilterFixedString(text.strip())

    def lessThan(self, left: Index, right: Index) -> bool:
        source = self.sourceModel()
        left_entry = source.data(source.index(left.row(), NAME), EntryRole)
        right_entry = source.data(source.index(right.row(), NAME), EntryRole)
        if isinstance(left_entry, Entry) and isinstance(right_entry, Entry):
            if left_entry.is_folder != right_entry.is_folder:
                ascending = self.sortOrder() == Qt.SortOrder.AscendingOrder
                return left_entry.is_folder if ascending else right_entry.is_folder
            left_key = _sort_key(left_entry, left.column())
            right_key = _sort_key(right_entry, right.column())
            if left_key != right_key:
                return bool(left_key < right_key)  # type: ignore[operator]
            return left_entry.name.casefold() < right_entry.name.casefold()
        return super().lessThan(left, right)
