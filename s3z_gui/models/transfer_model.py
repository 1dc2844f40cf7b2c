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
    QByteArray,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)

from s3z_core.events import TransferEvent
from s3z_gui.models.transfer_cells import (
    HEADERS,
    RIGHT_ALIGNED,
    FractionRole,
    GroupRole,
    RowRole,
    StatusRole,
    TransferIdRole,
    group_data,
    row_data,
)
from s3z_gui.models.transfer_store import (
    Column,
    Priority,
    TickChanges,
    TransferGroup,
    TransferRow,
    TransferStore,
)

TICK_MS = 100
ROWS_MIME = "application/x-s3z-queue-rows"  # top-level rows dragged within the queue

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
    orderChanged = Signal()  # rows were reordered or their priority changed

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

    def ordered_rows(self) -> list[TransferRow]:
        """Every transfer in the order shown (a folder's files in their group's place);
        rows not yet published follow in arrival order."""
        rows: list[TransferRow] = []
        for item in self._top:
            rows.extend(item.children if isinstance(item, TransferGroup) else [item])
        rows.extend(self.store.rows[self.store.published_rows :])
        return rows

    # order and priority -------------------------------------------------------------

    def set_priority(self, rows: list[TransferRow], priority: Priority) -> None:
        for row in rows:
            row.priority = priority
            index = self.index_of(row.transfer_id)
            if index.isValid():
                last = index.siblingAtColumn(len(Column) - 1)
                self.dataChanged.emit(index, last, _ROLES_CHANGED)
        self.orderChanged.emit()

    def move_items(self, keys: list[int], dest: int) -> bool:
        """Move these top-level items (``_key``s) to before position ``dest``, keeping
        their order; selections and expanded folders follow them."""
        moving = [self._top[self._top_position[k]] for k in keys if k in self._top_position]
        moved = {self._key(item) for item in moving}
        if not moving:
            return False
        before = sum(1 for item in self._top[:dest] if self._key(item) in moved)
        rest = [item for item in self._top if self._key(item) not in moved]
        at = max(0, min(len(rest), dest - before))
        new = rest[:at] + moving + rest[at:]
        if [self._key(i) for i in new] == [self._key(i) for i in self._top]:
            return False
        self.layoutAboutToBeChanged.emit()
        old, positions = self._top, {self._key(item): i for i, item in enumerate(new)}
        self._top, self._top_position = new, positions
        before_indexes = self.persistentIndexList()
        after_indexes = [
            self.createIndex(positions[self._key(old[i.row()])], i.column(), 0)
            if i.internalId() == 0 and 0 <= i.row() < len(old)
            else i
            for i in before_indexes
        ]
        self.changePersistentIndexList(before_indexes, after_indexes)
        self.layoutChanged.emit()
        self.orderChanged.emit()
        return True

    def top_key(self, index: Index) -> int | None:
        """The top-level item an index belongs to (a folder's file: its folder)."""
        if not index.isValid():
            return None
        if index.internalId() != 0:
            group = self._groups.get(index.internalId())
            return None if group is None else -group.group_id
        item = self.item(index)
        return None if item is None else self._key(item)

    # drag and drop (top-level rows only, within the queue) ----------------------------

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if not index.isValid():
            return flags | Qt.ItemFlag.ItemIsDropEnabled
        if index.internalId() == 0:
            flags |= Qt.ItemFlag.ItemIsDragEnabled
        return flags

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [ROWS_MIME]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:  # type: ignore[override]
        keys: list[int] = []
        for index in sorted(indexes, key=lambda i: i.row()):
            key = self.top_key(index)
            if key is not None and key not in keys:
                keys.append(key)
        data = QMimeData()
        data.setData(ROWS_MIME, QByteArray(",".join(map(str, keys)).encode()))
        return data

    def dropMimeData(
        self,
        data: QMimeData,
        action: Qt.DropAction,
        row: int,
        column: int,
        parent: Index,
    ) -> bool:
        """The move itself happens here; the view's own "remove the dragged rows" then
        finds nothing to remove (``removeRows`` is not supported), so nothing is lost."""
        if action != Qt.DropAction.MoveAction or not data.hasFormat(ROWS_MIME):
            return False
        text = bytes(data.data(ROWS_MIME).data()).decode()
        keys = [int(k) for k in text.split(",") if k.strip().lstrip("-").isdigit()]
        if parent.isValid():  # onto (or inside) an item: before its top-level row
            key = self.top_key(parent)
            dest = self._top_position.get(key, len(self._top)) if key is not None else row
        else:
            dest = len(self._top) if row < 0 else row
        return self.move_items(keys, dest)

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
        if role == Qt.ItemDataRole.TextAlignmentRole and section in RIGHT_ALIGNED:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        item = self.item(index)
        if item is None:
            return None
        column = Column(index.column())
        if isinstance(item, TransferGroup):
            return group_data(item, column, role)
        return row_data(item, column, role)


__all__ = [
    "FractionRole",
    "GroupRole",
    "RowRole",
    "StatusRole",
    "TransferIdRole",
    "TransferQueueModel",
]
