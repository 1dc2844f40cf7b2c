"""Preferences: streams and files at once, part size, download folder, confirm deletes,
and what an upload does when its key exists."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from s3z_gui.models.conflicts import ConflictPolicy
from s3z_gui.settings.preferences import Preferences, default_download_dir
from s3z_gui.theme import Theme

CONFLICT_LABELS = (
    (ConflictPolicy.ASK, "Ask me"),
    (ConflictPolicy.OVERWRITE, "Overwrite it"),
    (ConflictPolicy.SKIP, "Skip the file"),
    (ConflictPolicy.KEEP_BOTH, "Keep both (upload as “name (1)”)"),
)

CONTENT_TYPE_LABELS = (
    ("", "Guess from the file name"),
    ("application/octet-stream", "Always application/octet-stream"),
)


class SettingsDialog(QDialog):
    preferencesChosen = Signal(object)  # Preferences

    def __init__(self, prefs: Preferences, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(460)
        self.streams = QSpinBox()
        self.streams.setRange(0, 64)
        self.streams.setSpecialValueText("Automatic (by file size)")
        self.streams.setValue(prefs.streams_per_file)
        self.files = QSpinBox()
        self.files.setRange(1, 64)
        self.files.setValue(prefs.files_at_once)
        self.part_size = QSpinBox()
        self.part_size.setRange(0, 5120)
        self.part_size.setSuffix(" MiB")
        self.part_size.setSpecialValueText("Automatic")
        self.part_size.setValue(prefs.part_size_mib)
        self.download_dir = QLineEdit(prefs.download_dir)
        self.download_dir.setPlaceholderText(default_download_dir())
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.confirm = QCheckBox("Ask before deleting objects")
        self.confirm.setChecked(prefs.confirm_deletes)
        self.on_conflict = QComboBox()
        for policy, label in CONFLICT_LABELS:
            self.on_conflict.addItem(label, policy.value)
        self.on_conflict.setCurrentIndex(max(0, self.on_conflict.findData(prefs.on_conflict.value)))
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.download_dir, 1)
        folder_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Streams per file", self.streams)
        form.addRow("Files at once", self.files)
        form.addRow("Part size", self.part_size)
        form.addRow("Download folder", folder_row)
        form.addRow("If a file exists", self.on_conflict)
        self.content_type = QComboBox()
        for value, label in CONTENT_TYPE_LABELS:
            self.content_type.addItem(label, value)
        found = self.content_type.findData(prefs.upload_content_type)
        if found < 0:  # a type set elsewhere (the ini file): kept, and shown as it is
            self.content_type.addItem(prefs.upload_content_type, prefs.upload_content_type)
            found = self.content_type.count() - 1
        self.content_type.setCurrentIndex(found)
        form.addRow("Content type of uploads", self.content_type)
        self.theme = QComboBox()
        for theme in Theme:
            self.theme.addItem(theme.value.capitalize(), theme.value)
        self.theme.setCurrentIndex(max(0, self.theme.findData(prefs.theme.value)))
        form.addRow("Theme", self.theme)
        self.limit = QDoubleSpinBox()
        self.limit.setRange(0.0, 100_000.0)
        self.limit.setDecimals(1)
        self.limit.setSuffix(" MB/s")
        self.limit.setSpecialValueText("No limit")
        self.limit.setToolTip("One cap for all uploads and downloads together")
        self.limit.setValue(prefs.limit_mbps)
        form.addRow("Bandwidth limit", self.limit)
        form.addRow("", self.confirm)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def preferences(self) -> Preferences:
        return Preferences(
            streams_per_file=self.streams.value(),
            files_at_once=self.files.value(),
            part_size_mib=self.part_size.value(),
            download_dir=self.download_dir.text().strip(),
            confirm_deletes=self.confirm.isChecked(),
            on_conflict=ConflictPolicy(self.on_conflict.currentData()),
            theme=Theme(self.theme.currentData()),
            limit_mbps=self.limit.value(),
            upload_content_type=str(self.content_type.currentData() or ""),
        )

    def _browse(self) -> None:
        dialog = QFileDialog(self, "Download folder", self.download_dir.text())
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.fileSelected.connect(self.download_dir.setText)
        dialog.open()

    def _accept(self) -> None:
        self.preferencesChosen.emit(self.preferences())
        self.accept()
