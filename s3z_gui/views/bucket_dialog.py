"""The New-bucket dialog: the name is checked against S3's rules as it is typed.

Create stays disabled while a rule fails and the failed rule is shown under the field; if
the server still refuses, the dialog reopens with the typed name (the session keeps it).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from s3z_gui.models.bucket_names import bucket_name_problem


class NewBucketDialog(QDialog):
    nameChosen = Signal(str)

    def __init__(self, parent: QWidget | None = None, name: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("New bucket")
        self.setMinimumWidth(420)
        self.name = QLineEdit(name)
        self.name.setPlaceholderText("e.g. holiday-photos-2026")
        self.rule = QLabel()
        self.rule.setWordWrap(True)
        self.rule.setTextFormat(Qt.TextFormat.PlainText)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.create_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.create_button.setText("Create")
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Bucket name (lowercase letters, digits, dots, hyphens)"))
        layout.addWidget(self.name)
        layout.addWidget(self.rule)
        layout.addWidget(self.buttons)
        self.name.textChanged.connect(self._check)
        self._check(name)

    def _check(self, text: str) -> None:
        problem = bucket_name_problem(text.strip())
        self.create_button.setEnabled(problem is None)
        # An empty field is not an error yet: say nothing until something is typed.
        self.rule.setText("" if problem is None or not text else f"⚠ {problem}")

    def _accept(self) -> None:
        name = self.name.text().strip()
        if bucket_name_problem(name) is None:
            self.nameChosen.emit(name)
            self.accept()
