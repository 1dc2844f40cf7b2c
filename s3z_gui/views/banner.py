"""A slim information strip above the browser (sandbox mode, start-up progress)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton

from s3z_gui.icons import SP, standard


class Banner(QFrame):
    actionClicked = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        # A tint of the palette's accent: visible in light and dark themes alike.
        palette = self.palette()
        tint = palette.color(QPalette.ColorRole.Highlight)
        tint.setAlpha(40)
        base = palette.color(QPalette.ColorRole.Window)
        mixed = base.toRgb()
        mixed.setRed((base.red() * 5 + tint.red()) // 6)
        mixed.setGreen((base.green() * 5 + tint.green()) // 6)
        mixed.setBlue((base.blue() * 5 + tint.blue()) // 6)
        palette.setColor(QPalette.ColorRole.Window, mixed)
        self.setPalette(palette)
        self.icon = QLabel()
        self.icon.setPixmap(standard(SP.SP_MessageBoxInformation).pixmap(20, 20))
        self.text = QLabel()
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.button = QPushButton()
        self.button.setFlat(False)
        self.button.clicked.connect(self.actionClicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 5, 10, 5)
        layout.addWidget(self.icon)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.button)
        self.hide()

    def show_message(self, text: str, action: str = "") -> None:
        self.text.setText(text)
        self.button.setText(action)
        self.button.setVisible(bool(action))
        self.show()
