"""The transfer queue as a Qt tree: a thin adapter over ``TransferStore``.

A ~100 ms timer asks the store what changed and emits one ``dataChanged`` per row for
just the changed columns (vorta's pattern), plus ``rowsInserted`` for new transfers. A
folder transfer is one top-level row with totals; its files are its children (issue 15,
bug 14).
Engine events never touch Qt directly, so the cost per tick is flat.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import (
    QAbstractItemModel,
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
    TransferGroup,
    TransferRow,
    TransferStore,
)
from s3z_gui.units import count_of, format_duration, format_rate, format_size

TICK_MS = 100

TransferIdRole = Qt.ItemDataRole.UserRole + 1
FractionRole = Qt.ItemDataRole.UserRole + 2  # 0.0–1.0, for the progress delegate
StatusRole = Qt.ItemDataRole.UserRole + 3  # a ``Status`` value
RowRole = Qt.ItemDataRole.UserRole + 4  # the ``TransferRow`` itself
GroupRole = Qt.ItemDataRole.UserRole + 5  # a folder's ``TransferGroup`` (its top-level row)

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


class TransferQueueModel(QAbstractItemModel):
    """Rows appear and change on the tick, never per event.

    A tree of depth one: top-level items are single transfers and folder groups; a group's
    files are its children. Indexes carry 0 (top level) or the group's id as internal id.
    """

    ticked = Signal(object)  # TickChanges, after the view was updated (chart, status bar)

    def __init__(
        self, store: TransferStore | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.store = store or TransferStore()
        self._clock = clock
        self._top: list[TransferRow | TransferGroup] = []
        self._top_position: dict[int, int] = {}  # transfer id or -group id -> top position
        self._groups: dict[int, TransferGroup] = {}  # shown groups by id
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

    @staticmethod
    def _key(item: TransferRow | TransferGroup) -> int:
        return -item.group_id if isinstance(item, TransferGroup) else item.transfer_id

    def tick(self) -> TickChanges:
        changes = self.store.tick(self._clock())
        new = self.store.rows[changes.first_new_row : changes.first_new_row + changes.new_row_count]
        self.store.publish(changes)
        fresh: list[TransferRow | TransferGroup] = []
        for row in new:
            group = row.group
            if group is None:
                fresh.append(row)
            elif group.group_id not in self._groups and group not in fresh:
                fresh.append(group)
        if fresh:
            first = len(self._top)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            for item in fresh:
                self._top_position[self._key(item)] = len(self._top)
                self._top.append(item)
                if isinstance(item, TransferGroup):
                    self._groups[item.group_id] = item
            self.endInsertRows()
        for group in self._groups.values():
            if group.published < len(group.children):
                parent = self._group_index(group)
                self.beginInsertRows(parent, group.published, len(group.children) - 1)
                group.published = len(group.children)
                self.endInsertRows()
        touched: set[int] = set()
        for position, columns in sorted(changes.changed.items()):
            row = self.store.rows[position]
            left, right = min(columns), max(columns)
            index = self.index_of(row.transfer_id)
            if index.isValid():
                self.dataChanged.emit(
                    index.siblingAtColumn(left), index.siblingAtColumn(right), _ROLES_CHANGED
                )
            if row.group is not None:
                touched.add(row.group.group_id)
        for group_id in sorted(touched):  # a group's totals follow its files
            if (group := self._groups.get(group_id)) is not None:
                top = self._group_index(group)
                self.dataChanged.emit(top, top.siblingAtColumn(len(Column) - 1), _ROLES_CHANGED)
        self.ticked.emit(changes)
        return changes

    def remove_finished(self) -> int:
        """Drop finished single rows and finished groups (with their files)."""
        self.tick()  # publish pending rows first so the store and the view agree
        removed = 0
        position = len(self._top) - 1
        while position >= 0:
            if not self._top[position].status.finished:
                position -= 1
                continue
            last = position
            while position - 1 >= 0 and self._top[position - 1].status.finished:
                position -= 1
            self.beginRemoveRows(QModelIndex(), position, last)
            gone = self._top[position : last + 1]
            del self._top[position : last + 1]
            ids: set[int] = set()
            for item in gone:
                if isinstance(item, TransferGroup):
                    ids.update(row.transfer_id for row in item.children)
                    self._groups.pop(item.group_id, None)
                    item.open = False
                else:
                    ids.add(item.transfer_id)
            self.store.remove_transfers(ids)
            self._top_position = {self._key(item): i for i, item in enumerate(self._top)}
            self.endRemoveRows()
            removed += len(ids)
            position -= 1
        return removed

    def row_at(self, row: int) -> TransferRow | TransferGroup:
        return self._top[row]

    def item(self, index: Index) -> TransferRow | TransferGroup | None:
        if not index.isValid():
            return None
        group_id = index.internalId()
        if group_id == 0:
            return self._top[index.row()] if 0 <= index.row() < len(self._top) else None
        group = self._groups.get(group_id)
        if group is None or not 0 <= index.row() < group.published:
            return None
        return group.children[index.row()]

    def _group_index(self, group: TransferGroup) -> QModelIndex:
        return self.createIndex(self._top_position[-group.group_id], 0, 0)

    def index_of(self, transfer_id: int) -> QModelIndex:
        """Where a transfer's row is shown (a group's child, or top level); invalid if not."""
        row = self.store.row_for(transfer_id)
        if row is None:
            return QModelIndex()
        group = row.group
        if group is not None and group.group_id in self._groups:
            position = group.positions.get(transfer_id)
            if position is None or position >= group.published:
                return QModelIndex()
            return self.createIndex(position, 0, group.group_id)
        top = self._top_position.get(transfer_id)
        return QModelIndex() if top is None else self.createIndex(top, 0, 0)

    # Qt interface -------------------------------------------------------------------

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, 0)
        group = self.item(parent)
        if not isinstance(group, TransferGroup):
            return QModelIndex()
        return self.createIndex(row, column, group.group_id)

    def parent(self, child: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not child.isValid() or child.internalId() == 0:
            return QModelIndex()
        group = self._groups.get(child.internalId())
        return QModelIndex() if group is None else self._group_index(group)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self._top)
        if parent.column() != 0 or parent.internalId() != 0:
            return 0
        item = self.item(parent)
        return item.published if isinstance(item, TransferGroup) else 0

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return len(Column)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Column):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[Column(section)]
        if role == Qt.ItemDataRole.TextAlignmentRole and section in _RIGHT:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        item = self.item(index)
        if item is None:
            return None
        column = Column(index.column())
        if isinstance(item, TransferGroup):
            return _group_data(item, column, role)
        return _row_data(item, column, role)


_RIGHT = (Column.SIZE, Column.SPEED, Column.ETA)


def _common(item: TransferRow | TransferGroup, column: Column, role: int) -> object:
    if role == FractionRole:
        return item.fraction
    if role == StatusRole:
        return item.status
    if role == Qt.ItemDataRole.DecorationRole and column == Column.DIRECTION:
        return standard(SP.SP_ArrowUp if item.direction == "upload" else SP.SP_ArrowDown)
    if role == Qt.ItemDataRole.TextAlignmentRole and column in _RIGHT:
        return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return None


def _row_data(row: TransferRow, column: Column, role: int) -> object:
    if role == Qt.ItemDataRole.DisplayRole:
        return _display(row, column)
    if role == TransferIdRole:
        return row.transfer_id
    if role == RowRole:
        return row
    if role == Qt.ItemDataRole.ToolTipRole:
        if column == Column.STATUS:
            text = row.error or row.status_text
            return f"{text}\n{row.retry_refusal}" if row.retry_refusal else text
        if column == Column.NAME:
            return f"{row.source}\n→ {row.destination}"
        return None
    return _common(row, column, role)


def _group_data(group: TransferGroup, column: Column, role: int) -> object:
    if role == Qt.ItemDataRole.DisplayRole:
        if column == Column.NAME:
            return f"{group.name} ({count_of(len(group.children), 'file')})"
        if column == Column.SIZE:
            return format_size(group.size)
        if column == Column.PROGRESS:
            return f"{group.fraction * 100:.0f}%"
        if column == Column.SPEED:
            return format_rate(group.rate_bps) if group.status == Status.RUNNING else ""
        if column == Column.ETA:
            return format_duration(group.eta_s) if group.status == Status.RUNNING else ""
        if column == Column.STATUS:
            return group.status_text
        return ""
    if role == GroupRole:
        return group
    if role == Qt.ItemDataRole.ToolTipRole and column == Column.NAME:
        return f"{group.source}\n→ {group.destination}"
    if role == Qt.ItemDataRole.DecorationRole and column == Column.NAME:
        return standard(SP.SP_DirIcon)
    return _common(group, column, role)


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
