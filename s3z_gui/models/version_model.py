"""The versions table: every version and delete marker of one prefix, paged in as the user
scrolls (ListObjectVersions, one folder level).

Like the object table, the model never calls the engine: ``fetchMore`` emits
``moreRequested`` and the controller answers with ``append_page``. Rows are kept in the
server's order (by key, newest first within a key) and only ever appended, so a prefix with
100,000+ versions costs one page at a time and never a re-sort of everything seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFont

from s3z_core.models import VersionPage
from s3z_gui.file_icons import icon_for_name
from s3z_gui.icons import SP, folder_icon, standard
from s3z_gui.units import format_size

VersionRole = Qt.ItemDataRole.UserRole + 11

HEADERS = ("Name", "Version", "Size", "Modified", "Latest")
NAME, VERSION, SIZE, MODIFIED, LATEST = range(5)

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True, slots=True)
class VersionRow:
    """One row: a version, a delete marker, or a folder (a common prefix) to open."""

    name: str  # below the listed prefix
    key: str
    version_id: str = ""
    is_latest: bool = False
    delete_marker: bool = False
    size: int = 0
    etag: str = ""
    modified: datetime | None = None
    is_folder: bool = False


class VersionTableModel(QAbstractTableModel):
    """Append-only rows of one ``bucket``/``prefix`` between ``reset_location`` calls."""

    moreRequested = Signal(int)  # generation
    loadingChanged = Signal(bool)

    def __init__(self) -> None:
        super().__init__()
        self.bucket = ""
        self.prefix = ""
        self.rows: list[VersionRow] = []
        self.generation = 0
        self.loading = False
        self.has_more = False
        self.error = ""
        self._folders: set[str] = set()

    def reset_location(self, bucket: str | None, prefix: str = "") -> int:
        """Empty the table for a new location; returns the generation pages must carry."""
        self.beginResetModel()
        self.generation += 1
        self.bucket, self.prefix = bucket or "", prefix
        self.rows = []
        self._folders = set()
        self.has_more = bucket is not None
        self.error = ""
        self.endResetModel()
        self._set_loading(bucket is not None)
        return self.generation

    def append_page(self, generation: int, page: VersionPage) -> int:
        """Add a server page if it belongs to the current location; returns rows added."""
        if generation != self.generation or not self.bucket:
            return 0
        added = self._fold(page)
        if added:
            first = len(self.rows)
            self.beginInsertRows(QModelIndex(), first, first + len(added) - 1)
            self.rows.extend(added)
            self.endInsertRows()
        self.has_more = page.is_truncated
        self._set_loading(False)
        return len(added)

    def _fold(self, page: VersionPage) -> list[VersionRow]:
        cut = len(self.prefix)
        fresh: list[VersionRow] = []
        for common in page.common_prefixes:
            if common not in self._folders:  # a folder spans pages: show it once
                self._folders.add(common)
                fresh.append(VersionRow(common[cut:].rstrip("/"), common, is_folder=True))
        for v in page.versions:
            fresh.append(
                VersionRow(
                    v.key[cut:] or v.key,
                    v.key,
                    v.version_id,
                    v.is_latest,
                    v.delete_marker,
                    v.size,
                    v.etag,
                    v.last_modified,
                )
            )
        return fresh

    def fail(self, generation: int, message: str) -> None:
        if generation != self.generation:
            return
        self.error = message
        self.has_more = False
        self._set_loading(False)

    def _set_loading(self, loading: bool) -> None:
        if loading != self.loading:
            self.loading = loading
            self.loadingChanged.emit(loading)

    def row_of(self, key: str, version_id: str) -> int:
        for row, entry in enumerate(self.rows):
            if entry.key == key and entry.version_id == version_id:
                return row
        return -1

    # Qt interface -------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def canFetchMore(self, parent: Index) -> bool:
        return not parent.isValid() and self.has_more and not self.loading

    def fetchMore(self, parent: Index) -> None:
        if self.canFetchMore(parent):
            self._set_loading(True)
            self.moreRequested.emit(self.generation)

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
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return _display(row, column)
        if role == VersionRole:
            return row
        if role == Qt.ItemDataRole.FontRole and (row.delete_marker or row.is_latest):
            font = QFont()
            font.setItalic(row.delete_marker)  # a marker has no bytes: it reads differently
            font.setBold(row.is_latest and not row.delete_marker)
            return font
        if role == Qt.ItemDataRole.DecorationRole and column == NAME:
            if row.is_folder:
                return folder_icon()
            return standard(SP.SP_TrashIcon) if row.delete_marker else icon_for_name(row.name)
        if role == Qt.ItemDataRole.TextAlignmentRole and column == SIZE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(self.bucket, row)
        return None


def _display(row: VersionRow, column: int) -> str:
    if column == NAME:
        return row.name
    if row.is_folder:
        return "Folder" if column == SIZE else ""
    if column == VERSION:
        return row.version_id
    if column == SIZE:
        return "Delete marker" if row.delete_marker else format_size(row.size)
    if column == MODIFIED:
        return row.modified.astimezone().strftime("%Y-%m-%d %H:%M:%S") if row.modified else ""
    if column == LATEST:
        return "Latest" if row.is_latest else ""
    return ""


def _tooltip(bucket: str, row: VersionRow) -> str:
    url = f"s3://{bucket}/{row.key}"
    if row.is_folder:
        return url
    what = "delete marker" if row.delete_marker else "version"
    latest = " (latest)" if row.is_latest else ""
    return f"{url}\n{what} {row.version_id}{latest}"
