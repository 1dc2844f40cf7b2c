"""What each cell of the transfer queue shows, per role: a row's or a folder's values as text,
icons, fractions and tooltips (the queue model only finds the item and asks here)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from s3z_gui.icons import SP, standard
from s3z_gui.models.transfer_store import Column, Priority, Status, TransferGroup, TransferRow
from s3z_gui.units import count_of, format_duration, format_rate, format_size

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

RIGHT_ALIGNED = (Column.SIZE, Column.SPEED, Column.ETA)


def _common(item: TransferRow | TransferGroup, column: Column, role: int) -> object:
    if role == FractionRole:
        return item.fraction
    if role == StatusRole:
        return item.status
    if role == Qt.ItemDataRole.DecorationRole and column == Column.DIRECTION:
        return standard(SP.SP_ArrowUp if item.direction == "upload" else SP.SP_ArrowDown)
    if role == Qt.ItemDataRole.TextAlignmentRole and column in RIGHT_ALIGNED:
        return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return None


def row_data(row: TransferRow, column: Column, role: int) -> object:
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
            return f"{row.source}\n→ {row.destination}\nPriority: {row.priority.label}"
        return None
    return _common(row, column, role)


def group_data(group: TransferGroup, column: Column, role: int) -> object:
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
    if row.priority != Priority.NORMAL and not row.status.finished:
        return f"{row.status_text} · {row.priority.label}"
    return row.status_text
