"""Content-Type, Cache-Control and user-metadata rows, editable: the Properties dialog's Edit
mode and the "Upload with options…" dialog share it.

What it holds is checked as ``UploadOptions`` (the core's one set of rules: a metadata name
is an HTTP token, a value one line, 2 KB in all); a value that breaks them is said under
the fields, in one line, and nothing is sent.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCompleter,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from s3z_core.errors import InvalidValueError
from s3z_core.specs import UploadOptions

COMMON_TYPES = (
    "application/octet-stream",
    "application/json",
    "application/pdf",
    "application/xml",
    "application/zip",
    "image/gif",
    "image/jpeg",
    "image/png",
    "image/svg+xml",
    "image/webp",
    "text/css",
    "text/csv",
    "text/html",
    "text/javascript",
    "text/plain",
    "video/mp4",
)


class MetadataEditor(QWidget):
    def __init__(
        self,
        *,
        content_type: str = "",
        cache_control: str = "",
        metadata: Iterable[tuple[str, str]] = (),
        type_placeholder: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.content_type = QLineEdit(content_type)
        self.content_type.setPlaceholderText(type_placeholder)
        self.content_type.setCompleter(QCompleter(list(COMMON_TYPES), self.content_type))
        self.cache_control = QLineEdit(cache_control)
        self.cache_control.setPlaceholderText("none (e.g. max-age=3600)")
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Metadata name", "Value"])
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        for name, value in metadata:
            self.add_row(name, value)
        self.add_button = QPushButton("Add")
        self.add_button.clicked.connect(self._add_and_edit)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_selected_rows)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        self.error.hide()

        form = QFormLayout()
        form.addRow("Content type", self.content_type)
        form.addRow("Cache-Control", self.cache_control)
        row_buttons = QHBoxLayout()
        row_buttons.addWidget(self.add_button)
        row_buttons.addWidget(self.remove_button)
        row_buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.table, 1)
        layout.addLayout(row_buttons)
        layout.addWidget(self.error)

    def add_row(self, name: str = "", value: str = "") -> int:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(name))
        self.table.setItem(row, 1, QTableWidgetItem(value))
        return row

    def _add_and_edit(self) -> None:
        row = self.add_row()
        self.table.setCurrentCell(row, 0)
        if (item := self.table.item(row, 0)) is not None:
            self.table.editItem(item)

    def remove_selected_rows(self) -> None:
        rows = sorted({index.row() for index in self.table.selectedIndexes()}, reverse=True)
        if not rows and self.table.currentRow() >= 0:
            rows = [self.table.currentRow()]
        for row in rows:
            self.table.removeRow(row)

    def rows(self) -> list[tuple[str, str]]:
        """Every row with a name or a value (an empty row added by mistake is ignored)."""
        out: list[tuple[str, str]] = []
        for row in range(self.table.rowCount()):
            cells = [self.table.item(row, col) for col in (0, 1)]
            name, value = (c.text() if c is not None else "" for c in cells)
            if name.strip() or value.strip():
                out.append((name, value))
        return out

    def options(self) -> UploadOptions:
        """The fields as checked options; ``InvalidValueError`` names what is wrong."""
        for name, _value in self.rows():
            if not name.strip():
                raise InvalidValueError("a metadata row has a value but no name")
        return UploadOptions(
            self.content_type.text().strip() or None,
            self.cache_control.text().strip() or None,
            tuple(self.rows()),
        )

    def checked(self) -> UploadOptions | None:
        """``options()``, or None with the reason shown under the fields."""
        try:
            options = self.options()
        except InvalidValueError as exc:
            self.show_error(str(exc))
            return None
        self.show_error("")
        return options

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))
        if text:
            self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
