"""Object properties: size, ETag, content type, storage class and user metadata."""

from __future__ import annotations

from datetime import UTC, datetime

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

from s3z_core.metadata import MTIME_META, stored_mtime
from s3z_core.models import ObjectHead
from s3z_gui.units import format_size


def _local_time(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def metadata_rows(metadata: dict[str, str]) -> list[tuple[str, str]]:
    """User metadata as people read it: the stored file time (``mtime``, epoch seconds as
    s3z and other tools write it) as a local date and time, the rest as it is."""
    rows: list[tuple[str, str]] = []
    for key, value in sorted(metadata.items()):
        if key == MTIME_META and (epoch := stored_mtime(metadata)) is not None:
            try:
                shown = _local_time(datetime.fromtimestamp(epoch, UTC))
            except (OverflowError, OSError, ValueError):  # a value far out of range
                shown = value
            rows.append(("File modified (mtime)", shown))
        else:
            rows.append((key, value))
    return rows


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
        modified = _local_time(head.last_modified) if head.last_modified else "—"
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
        for row, (key, value) in enumerate(metadata_rows(head.metadata)):
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
