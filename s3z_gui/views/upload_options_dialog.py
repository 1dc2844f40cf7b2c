""" "Upload with options…": the Content-Type, Cache-Control and metadata the chosen files get
(as ``aws s3 cp --content-type --cache-control --metadata``). An empty Content-Type keeps
the guess from each file's name; what is typed is checked before anything is sent."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from s3z_core.specs import UploadOptions
from s3z_gui.views.metadata_editor import MetadataEditor

GUESS_PLACEHOLDER = "Guess from each file's name"


class UploadOptionsDialog(QDialog):
    optionsChosen = Signal(list, object)  # the paths, UploadOptions

    def __init__(
        self,
        paths: list[str],
        destination: str,
        parent: QWidget | None = None,
        *,
        defaults: UploadOptions | None = None,
    ) -> None:
        super().__init__(parent)
        self.paths = list(paths)
        self.setWindowTitle("Upload with options")
        self.setMinimumWidth(480)
        what = self.paths[0].rsplit("/", 1)[-1] if len(paths) == 1 else f"{len(paths)} items"
        start = defaults or UploadOptions()
        self.editor = MetadataEditor(
            content_type=start.content_type or "",
            cache_control=start.cache_control or "",
            metadata=start.metadata,
            type_placeholder=GUESS_PLACEHOLDER,
        )
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        if ok is not None:
            ok.setText("Upload")
        buttons.accepted.connect(self.choose)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Upload {what} to {destination} with:"))
        layout.addWidget(self.editor, 1)
        layout.addWidget(buttons)

    def choose(self) -> None:
        options = self.editor.checked()
        if options is None:  # the editor says what is wrong; the dialog stays
            return
        self.optionsChosen.emit(self.paths, options)
        self.accept()
