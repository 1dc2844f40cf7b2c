"""The Sync dialog's plan as a table: one checkable row per copy or delete the core planned.

The rows are the core's ``PlannedSync`` as it is (``s3z_core.sync``), never a plan of the
GUI's own: an upload, download or delete with its name, size and the planner's reason.
Unticking a row leaves that file out of the run (``ticked_names`` → ``PlannedSync.only``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from s3z_core.sync import PlannedSync
from s3z_gui.units import format_size

#: What a reason of ``sync_plan`` means to a user; a delete's reason is always "extraneous".
REASONS = {
    "new": "new",
    "size": "size differs",
    "newer": "newer",
    "changed": "changed since last sync",
}
EXTRANEOUS = "extraneous"

Index = QModelIndex | QPersistentModelIndex


class SyncColumn(IntEnum):
    ACTION = 0
    NAME = 1
    SIZE = 2
    REASON = 3


HEADERS = {
    SyncColumn.ACTION: "Action",
    SyncColumn.NAME: "Path / key",
    SyncColumn.SIZE: "Size",
    SyncColumn.REASON: "Reason",
}


@dataclass(slots=True)
class SyncRow:
    action: str  # "upload", "download", "copy" or "delete"
    name: str  # relative to the synced folder and prefix
    size: int
    reason: str
    source: str  # where it comes from ("" for a delete)
    target: str  # what it writes or removes
    ticked: bool = True

    @property
    def is_delete(self) -> bool:
        return self.action == "delete"


@dataclass(frozen=True, slots=True)
class SyncTotals:
    copies: int = 0
    copy_bytes: int = 0
    deletes: int = 0
    delete_bytes: int = 0
    left_out: int = 0  # unticked rows

    @property
    def empty(self) -> bool:
        return not (self.copies or self.deletes)


def rows_of(planned: PlannedSync) -> list[SyncRow]:
    """Copies first (in the planner's name order), then deletes."""
    src, dst, verb = planned.source, planned.destination, planned.direction
    rows = [
        SyncRow(
            verb,
            a.source.name,
            a.source.size,
            REASONS[a.reason],
            src.name_of(a.source.name),
            dst.name_of(a.source.name),
        )
        for a in planned.plan.copies
    ]
    rows += [
        SyncRow("delete", e.name, e.size, EXTRANEOUS, "", dst.name_of(e.name))
        for e in planned.plan.deletes
    ]
    return rows


def totals_of(rows: list[SyncRow]) -> SyncTotals:
    copies = [r for r in rows if r.ticked and not r.is_delete]
    deletes = [r for r in rows if r.ticked and r.is_delete]
    return SyncTotals(
        len(copies),
        sum(r.size for r in copies),
        len(deletes),
        sum(r.size for r in deletes),
        sum(1 for r in rows if not r.ticked),
    )


def describe_totals(totals: SyncTotals, verb: str, unchanged: int) -> str:
    parts = [f"{totals.copies} to {verb} ({format_size(totals.copy_bytes)})"]
    if totals.deletes:
        parts.append(f"{totals.deletes} to delete ({format_size(totals.delete_bytes)})")
    if totals.left_out:
        parts.append(f"{totals.left_out} left out")
    parts.append(f"{unchanged} unchanged")
    return ", ".join(parts)


class SyncPlanModel(QAbstractTableModel):
    totalsChanged = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.planned: PlannedSync | None = None
        self.rows: list[SyncRow] = []

    def set_plan(self, planned: PlannedSync | None) -> None:
        self.beginResetModel()
        self.planned = planned
        self.rows = rows_of(planned) if planned is not None else []
        self.endResetModel()
        self.totalsChanged.emit()

    def totals(self) -> SyncTotals:
        return totals_of(self.rows)

    def ticked_names(self) -> tuple[set[str], set[str]]:
        """Source names to copy and destination names to delete, of the ticked rows."""
        copies = {r.name for r in self.rows if r.ticked and not r.is_delete}
        deletes = {r.name for r in self.rows if r.ticked and r.is_delete}
        return copies, deletes

    def set_all_ticked(self, ticked: bool) -> None:
        for row in self.rows:
            row.ticked = ticked
        if self.rows:
            first, last = self.index(0, 0), self.index(len(self.rows) - 1, 0)
            self.dataChanged.emit(first, last, [Qt.ItemDataRole.CheckStateRole])
        self.totalsChanged.emit()

    # Qt ---------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 — Qt's signature
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 — Qt's signature
        return 0 if parent.isValid() else len(SyncColumn)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[SyncColumn(section)]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        if index.isValid() and index.column() == SyncColumn.ACTION:
            base |= Qt.ItemFlag.ItemIsUserCheckable
        return base

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row, column = self.rows[index.row()], SyncColumn(index.column())
        if role == Qt.ItemDataRole.CheckStateRole and column is SyncColumn.ACTION:
            return Qt.CheckState.Checked if row.ticked else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.DisplayRole:
            return {
                SyncColumn.ACTION: row.action.capitalize(),
                SyncColumn.NAME: row.name,
                SyncColumn.SIZE: format_size(row.size),
                SyncColumn.REASON: row.reason,
            }[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{row.source} → {row.target}" if row.source else f"removes {row.target}"
        if role == Qt.ItemDataRole.TextAlignmentRole and column is SyncColumn.SIZE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if (
            role != Qt.ItemDataRole.CheckStateRole
            or not index.isValid()
            or index.column() != SyncColumn.ACTION
        ):
            return False
        state = Qt.CheckState(value) if isinstance(value, int) else value
        self.rows[index.row()].ticked = state == Qt.CheckState.Checked
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole])
        self.totalsChanged.emit()
        return True
