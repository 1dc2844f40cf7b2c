"""Object properties: size, ETag, content type, storage class and user metadata."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from s3z_core.models import ObjectHead
from s3z_gui.units import format_size


def _value(text: str) -> QLabel:
    label = QLabel(text)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(True)
    return label


class PropertiesDialog(QDialog):
    def __init__(self, bucket: str, head: ObjectHead, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Properties — {head.key.rsplit('/', 1)[-1]}")
        self.setMinimumWidth(480)
        form = QFormLayout()
        form.addRow("Location", _value(f"s3://{bucket}/{head.key}"))
        form.addRow("Size", _value(f"{format_size(head.size)} ({head.size:,} bytes)"))
        modified = (
            head.last_modified.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
            if (head.last_modified)
            else "—"
        )
        form.addRow("Modified", _value(modified))
        form.addRow("ETag", _value(head.etag or "—"))
        form.addRow("Content type", _value(head.content_type or "—"))
        form.addRow("Storage class", _value(head.storage_class or "STANDARD"))
        if head.parts_count:
            form.addRow("Parts", _value(str(head.parts_count)))
        self.metadata = QTableWidget(len(head.metadata), 2)
        self.metadata.setHorizontalHeaderLabels(["Metadata", "Value"])
        self.metadata.verticalHeader().hide()
        self.metadata.horizontalHeader().setStretchLastSection(True)
        for row, (key, value) in enumerate(sorted(head.metadata.items())):
            self.metadata.setItem(row, 0, QTableWidgetItem(key))
            self.metadata.setItem(row, 1, QTableWidgetItem(value))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        if head.metadata:
            layout.addWidget(self.metadata)
        else:
            self.metadata.hide()
            layout.addWidget(_value("No user metadata"))
        layout.addWidget(buttons)
