"""The transfer queue as a Qt table: a thin adapter over ``TransferStore``.

A ~100 ms timer asks the store what changed and emits one ``dataChanged`` per row for
just the changed columns (vorta's pattern), plus ``rowsInserted`` for new transfers.
Engine events never touch Qt directly, so the cost per tick is flat.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)

from s3z_core.events import TransferEvent
from s3z_gui.icons import SP, standard
from s3z_gui.models.transfer_store import (
    Column,
    Status,
    TickChanges,
    TransferRow,
    TransferStore,
)
from s3z_gui.units import format_duration, format_rate, format_size

TICK_MS = 100

TransferIdRole = Qt.ItemDataRole.UserRole + 1
FractionRole = Qt.ItemDataRole.UserRole + 2  # 0.0–1.0, for the progress delegate
StatusRole = Qt.ItemDataRole.UserRole + 3  # a ``Status`` value
RowRole = Qt.ItemDataRole.UserRole + 4  # the ``TransferRow`` itself

HEADERS = {
    Column.NAME: "Name",
    Column.DIRECTION: "",
    Column.SIZE: "Size",
    Column.PROGRESS: "Progress",
    Column.SPEED: "Speed",
    Column.ETA: "ETA",
    Column.STATUS: "Status",
}

_ROLES_CHANGED = [
    int(Qt.ItemDataRole.DisplayRole),
    int(Qt.ItemDataRole.ToolTipRole),
    int(FractionRole),
    int(StatusRole),
]

Index = QModelIndex | QPersistentModelIndex


class TransferQueueModel(QAbstractTableModel):
    """Rows appear and change on the tick, never per event."""

    ticked = Signal(object)  # TickChanges, after the view was updated (chart, status bar)

    def __init__(
        self, store: TransferStore | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.store = store or TransferStore()
        self._clock = clock
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self.tick)

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def apply(self, event: TransferEvent) -> None:
        """Record an engine event (cheap: no Qt signal until the next tick)."""
        self.store.apply(event, self._clock())

    def tick(self) -> TickChanges:
        changes = self.store.tick(self._clock())
        if changes.new_row_count:
            first = changes.first_new_row
            self.beginInsertRows(QModelIndex(), first, first + changes.new_row_count - 1)
            self.store.publish(changes)
            self.endInsertRows()
        for row, columns in sorted(changes.changed.items()):
            left, right = min(columns), max(columns)
            self.dataChanged.emit(self.index(row, left), self.index(row, right), _ROLES_CHANGED)
        self.ticked.emit(changes)
        return changes

    def remove_finished(self) -> int:
        # Publish pending rows first so the store and the view agree on the row count.
        self.tick()
        removed = 0
        for first, last in self.store.finished_ranges():
            self.beginRemoveRows(QModelIndex(), first, last)
            self.store.remove_rows(first, last)
            self.endRemoveRows()
            removed += last - first + 1
        return removed

    def row_at(self, row: int) -> TransferRow:
        return self.store.rows[row]

    # Qt interface -------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.store.published_rows

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Column):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[Column(section)]
        if role == Qt.ItemDataRole.TextAlignmentRole and section in (
            Column.SIZE,
            Column.SPEED,
            Column.ETA,
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < self.store.published_rows:
            return None
        row = self.store.rows[index.row()]
        column = Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return _display(row, column)
        if role == TransferIdRole:
            return row.transfer_id
        if role == FractionRole:
            return row.fraction
        if role == StatusRole:
            return row.status
        if role == RowRole:
            return row
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == Column.STATUS:
                text = row.error or row.status_text
                return f"{text}\n{row.retry_refusal}" if row.retry_refusal else text
            if column == Column.NAME:
                return f"{row.source}\n→ {row.destination}"
            return None
        if role == Qt.ItemDataRole.DecorationRole and column == Column.DIRECTION:
            return standard(SP.SP_ArrowUp if row.direction == "upload" else SP.SP_ArrowDown)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (
            Column.SIZE,
            Column.SPEED,
            Column.ETA,
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def _display(row: TransferRow, column: Column) -> str:
    if column == Column.NAME:
        return row.name
    if column == Column.DIRECTION:
        return ""
    if column == Column.SIZE:
        return format_size(row.size)
    if column == Column.PROGRESS:
        return f"{row.fraction * 100:.0f}%"
    if column == Column.SPEED:
        return format_rate(row.rate_bps) if row.status == Status.RUNNING else ""
    if column == Column.ETA:
        return format_duration(row.eta_s)
    return row.status_text
