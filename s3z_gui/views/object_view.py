"""The object table: accepts dropped local files and folders, paints an empty-state hint."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeView, QWidget


def local_paths(mime: QMimeData) -> list[str]:
    """The dropped paths if every URL is a local file, else [] (web links, text: refused)."""
    if not mime.hasUrls():
        return []
    urls = mime.urls()
    if not urls or not all(url.isLocalFile() for url in urls):
        return []
    return [url.toLocalFile() for url in urls]


class ObjectView(QTreeView):
    """A flat, sortable table; dropping local paths emits ``pathsDropped``."""

    pathsDropped = Signal(list)  # list[str]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.placeholder = "Select a bucket"
        self.drop_enabled = False  # only when a bucket is open
        self._hovering = False
        self.setRootIsDecorated(False)
        self.setItemsExpandable(False)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.setSortingEnabled(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setDropIndicatorShown(False)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        header = self.header()
        header.setStretchLastSection(False)
        header.setSortIndicatorShown(True)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)

    def size_columns(self) -> None:
        header = self.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column, width in ((1, 110), (2, 150), (3, 120)):
            header.resizeSection(column, width)

    def set_placeholder(self, text: str) -> None:
        self.placeholder = text
        self.viewport().update()

    # drag and drop --------------------------------------------------------------------

    def _accepts(self, mime: QMimeData) -> bool:
        return self.drop_enabled and bool(local_paths(mime))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._accepts(event.mimeData()):
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
            self._set_hovering(True)
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self._accepts(event.mimeData()):
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            event.ignore()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._set_hovering(False)
        event.accept()

    def dropEvent(self, event: QDropEvent) -> None:
        self._set_hovering(False)
        paths = local_paths(event.mimeData()) if self.drop_enabled else []
        if not paths:
            event.ignore()
            return
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        self.pathsDropped.emit(paths)

    def _set_hovering(self, hovering: bool) -> None:
        self._hovering = hovering
        self.viewport().update()

    @property
    def hovering(self) -> bool:
        return self._hovering

    # painting -------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        empty = model is None or model.rowCount() == 0
        if not empty and not self._hovering:
            return
        painter = QPainter(self.viewport())
        palette = self.palette()
        rect = self.viewport().rect().adjusted(12, 12, -12, -12)
        if self._hovering:
            # Drop feedback: a highlighted dashed frame in the palette's accent colour.
            pen = QPen(palette.color(QPalette.ColorRole.Highlight), 2, Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawRoundedRect(rect, 8, 8)
        if empty or self._hovering:
            text = "Drop to upload here" if self._hovering else self.placeholder
            painter.setPen(palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text))
            font = painter.font()
            font.setPointSizeF(font.pointSizeF() * 1.25)
            painter.setFont(font)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)
        painter.end()
