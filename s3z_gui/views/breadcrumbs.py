"""Clickable path segments above the object table (issue 15, bug 15: the "breadcrumbs" were
a text field). ``bucket › docs › 2024``: a click opens that level; the pencil (or Ctrl+L, or a
click on the empty space) switches to the address field for typing a location.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from s3z_gui.icons import SP, bucket_icon, standard
from s3z_gui.models.history import Location


def segments(location: Location) -> list[tuple[str, Location]]:
    """(label, where a click goes) for each level of ``location``: bucket, then folders."""
    if not location.bucket:
        return []
    levels = [(location.bucket, Location(location.bucket, ""))]
    prefix = ""
    for part in location.prefix.split("/")[:-1]:  # the prefix ends with "/"
        prefix += f"{part}/"
        levels.append((part or "(empty name)", Location(location.bucket, prefix)))
    return levels


class Breadcrumbs(QWidget):
    segmentClicked = Signal(object)  # Location
    editRequested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(2, 0, 2, 0)
        self._layout.setSpacing(0)
        self.buttons: list[QToolButton] = []
        self._edit = QToolButton()
        self._edit.setIcon(standard(SP.SP_FileDialogDetailedView))
        self._edit.setToolTip("Type a location (Ctrl+L)")
        self._edit.setAutoRaise(True)
        self._edit.clicked.connect(self.editRequested)
        self.setCursor(Qt.CursorShape.IBeamCursor)  # the empty space edits, like a field

    def set_location(self, location: Location) -> None:
        while (item := self._layout.takeAt(0)) is not None:
            widget = item.widget()
            if widget is not None and widget is not self._edit:
                widget.deleteLater()
        self.buttons = []
        levels = segments(location)
        for n, (label, target) in enumerate(levels):
            if n:
                arrow = QLabel("›")
                arrow.setEnabled(False)
                self._layout.addWidget(arrow)
            button = QToolButton()
            button.setText(label)
            button.setAutoRaise(True)
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.setToolTip(target.url)
            if n == 0:
                button.setIcon(bucket_icon())
                button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            if n == len(levels) - 1:  # where we are: bold, still clickable (refresh)
                font = button.font()
                font.setBold(True)
                button.setFont(font)
            button.clicked.connect(lambda _c=False, t=target: self.segmentClicked.emit(t))
            self._layout.addWidget(button)
            self.buttons.append(button)
        if not levels:
            self._layout.addWidget(QLabel("No bucket open"))
        self._layout.addStretch(1)
        self._layout.addWidget(self._edit)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.editRequested.emit()
        super().mousePressEvent(event)
