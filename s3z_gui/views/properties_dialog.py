"""Object properties: size, ETag, content type, storage class and user metadata; with a
saver, an Edit mode for Content-Type, Cache-Control and the metadata rows.

S3 has no edit in place: saving copies the object onto itself with the new metadata
(``Engine.update_metadata``), pinned to the ETag this dialog showed. If someone replaced the
object since, the dialog says so and nothing is overwritten.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from s3z_core.metadata import MTIME_META, stored_mtime
from s3z_core.models import ObjectHead
from s3z_core.specs import UploadOptions
from s3z_gui.controllers.object_details import DEFAULT_CONTENT_TYPE, MetadataSaved
from s3z_gui.units import format_size
from s3z_gui.views.metadata_editor import MetadataEditor

#: Saves an edit: (bucket, key, the ETag shown, the edit) -> the outcome, as a task.
MetadataSaver = Callable[[str, str, str, UploadOptions], "asyncio.Task[MetadataSaved | None]"]


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
    def __init__(
        self,
        bucket: str,
        head: ObjectHead,
        parent: QWidget | None = None,
        *,
        saver: MetadataSaver | None = None,
    ) -> None:
        super().__init__(parent)
        self.bucket = bucket
        self.head = head
        self._saver = saver
        self.save_task: asyncio.Task[MetadataSaved | None] | None = None
        self.editor: MetadataEditor | None = None
        self.setWindowTitle(f"Properties — {head.key.rsplit('/', 1)[-1]}")
        self.setMinimumWidth(480)
        self.pages = QStackedWidget()
        self.metadata = QTableWidget(0, 2)
        self.pages.addWidget(self._view_page(head))
        self.status = _value("")
        self.status.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.rejected.connect(self.reject)
        self.edit_button = QPushButton("Edit…")
        self.edit_button.setToolTip("Change the content type, Cache-Control or metadata")
        self.edit_button.clicked.connect(self.start_editing)
        self.save_button = QPushButton("Save")
        self.save_button.clicked.connect(self.save)
        self.cancel_edit_button = QPushButton("Cancel")
        self.cancel_edit_button.clicked.connect(self.stop_editing)
        if saver is not None:
            self.buttons.addButton(self.edit_button, QDialogButtonBox.ButtonRole.ActionRole)
        for button in (self.save_button, self.cancel_edit_button):
            self.buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
            button.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

    def _view_page(self, head: ObjectHead) -> QWidget:
        page = QWidget()
        form = QFormLayout()
        form.addRow("Location", _value(f"s3://{self.bucket}/{head.key}"))
        form.addRow("Size", _value(f"{format_size(head.size)} ({head.size:,} bytes)"))
        modified = _local_time(head.last_modified) if head.last_modified else "—"
        form.addRow("Modified", _value(modified))
        form.addRow("ETag", _value(head.etag or "—"))
        form.addRow("Content type", _value(head.content_type or "—"))
        form.addRow("Cache-Control", _value(head.cache_control or "—"))
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
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        if head.metadata:
            layout.addWidget(self.metadata)
        else:
            self.metadata.hide()
            layout.addWidget(_value("No user metadata"))
        return page

    # edit mode ------------------------------------------------------------------------

    @property
    def editing(self) -> bool:
        return self.editor is not None and self.pages.currentWidget() is self.editor

    def start_editing(self) -> MetadataEditor:
        """The fields as stored (raw names and values: ``mtime`` stays epoch seconds)."""
        head = self.head
        self.editor = MetadataEditor(
            content_type=head.content_type,
            cache_control=head.cache_control,
            metadata=sorted(head.metadata.items()),
            type_placeholder=DEFAULT_CONTENT_TYPE,
        )
        self.pages.addWidget(self.editor)
        self.pages.setCurrentWidget(self.editor)
        self._set_mode(editing=True)
        self._say("")
        return self.editor

    def stop_editing(self) -> None:
        if self.editor is not None:
            self.pages.removeWidget(self.editor)
            self.editor.deleteLater()
            self.editor = None
        self.pages.setCurrentIndex(0)
        self._set_mode(editing=False)

    def _set_mode(self, *, editing: bool) -> None:
        self.edit_button.setVisible(not editing and self._saver is not None)
        self.save_button.setVisible(editing)
        self.save_button.setEnabled(True)
        self.cancel_edit_button.setVisible(editing)

    def save(self) -> asyncio.Task[MetadataSaved | None] | None:
        if self.editor is None or self._saver is None:
            return None
        edit = self.editor.checked()
        if edit is None:
            return None
        self.save_button.setEnabled(False)
        self._say("Saving…")
        task = self._saver(self.bucket, self.head.key, self.head.etag, edit)
        task.add_done_callback(self._saved)
        self.save_task = task
        return task

    def _saved(self, task: asyncio.Task[MetadataSaved | None]) -> None:
        outcome = None if task.cancelled() else task.result()
        self.save_button.setEnabled(True)
        if outcome is None:  # cancelled, or a bug (the error dialog says it)
            self._say("Not saved")
            return
        if outcome.head is None:
            self._say(outcome.error, error=True)
            if outcome.changed:  # saving again could only fail again: reopen to edit
                self.save_button.setEnabled(False)
            return
        self.head = outcome.head
        old = self.pages.widget(0)
        self.pages.insertWidget(0, self._view_page(outcome.head))
        if old is not None:
            self.pages.removeWidget(old)
            old.deleteLater()
        self.stop_editing()
        self._say("Saved")

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #c62828;" if error else "")
        self.status.setVisible(bool(text))
