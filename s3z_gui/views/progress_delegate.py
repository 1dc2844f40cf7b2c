"""Paints the queue's progress column as a style progress bar — no widget per row."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
)

from s3z_gui.models.transfer_model import FractionRole, StatusRole
from s3z_gui.models.transfer_store import Status

_RESOLUTION = 1000  # the bar's integer scale: 0.1 % steps


class ProgressDelegate(QStyledItemDelegate):
    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        fraction = index.data(FractionRole)
        status = index.data(StatusRole)
        if not isinstance(fraction, float):
            super().paint(painter, option, index)
            return
        # Selection background first, so the bar sits on the row like its neighbours.
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, widget)
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(3, 4, -3, -4)
        bar.minimum = 0
        bar.maximum = _RESOLUTION
        bar.progress = round(fraction * _RESOLUTION)
        bar.text = f"{fraction * 100:.0f}%"
        bar.textVisible = True
        bar.textAlignment = Qt.AlignmentFlag.AlignCenter
        bar.state = option.state
        bar.palette = option.palette
        bar.fontMetrics = option.fontMetrics
        if status in (Status.FAILED, Status.CANCELLED, Status.PAUSED):
            # Stopped transfers look inactive, like a disabled bar, in any palette.
            bar.state &= ~QStyle.StateFlag.State_Enabled
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, widget)
