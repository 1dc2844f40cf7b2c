"""The quick look (space bar, or Preview in the context menu): an image, the start of a
text, or "No preview" with the object's size and type.

The fetch is the bridge's task (``ObjectDetailsController.preview``: one Range GET under
the limit, decoded off the GUI thread when large); the dialog opens at once with
"Loading…" and fills itself when the task is done. Space or Escape closes it again, as a
quick look does in file managers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QKeyEvent, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from s3z_gui.models.preview_content import PreviewContent, PreviewKind

#: Fetches and decodes a preview: (bucket, key) -> the content, as a task.
PreviewFetcher = Callable[[str, str], "asyncio.Task[PreviewContent | None]"]


class PreviewDialog(QDialog):
    def __init__(
        self, fetch: PreviewFetcher, bucket: str, key: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.key = key
        self.content: PreviewContent | None = None
        self.setWindowTitle(f"Preview — {key.rsplit('/', 1)[-1]}")
        self.resize(720, 540)
        self.loading = QLabel("Loading…")
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image_area = QScrollArea()
        self.image_area.setWidget(self.image)
        self.image_area.setWidgetResizable(True)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.none = QLabel()
        self.none.setWordWrap(True)
        for label in (self.loading, self.none):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pages = QStackedWidget()
        for page in (self.loading, self.image_area, self.text, self.none):
            self.pages.addWidget(page)
        self.note = QLabel(f"s3://{bucket}/{key}")
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.note)
        layout.addWidget(buttons)
        self.task = fetch(bucket, key)
        self.task.add_done_callback(self._fetched)

    def _fetched(self, task: asyncio.Task[PreviewContent | None]) -> None:
        content = None if task.cancelled() else task.result()
        if content is None:  # the status bar says why (a typed error), or it was cancelled
            self.none.setText("No preview — the object could not be read")
            self.pages.setCurrentWidget(self.none)
            return
        self.show_content(content)

    def show_content(self, content: PreviewContent) -> None:
        self.content = content
        self.note.setText(content.note)
        if content.kind is PreviewKind.IMAGE and content.image is not None:
            self.image.setPixmap(QPixmap.fromImage(content.image))  # on the GUI thread
            self.pages.setCurrentWidget(self.image_area)
        elif content.kind is PreviewKind.TEXT:
            self.text.setPlainText(content.text)
            self.pages.setCurrentWidget(self.text)
        else:
            self.none.setText(content.note)
            self.pages.setCurrentWidget(self.none)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not self.text.hasFocus():
            self.reject()
            return
        super().keyPressEvent(event)

    def done(self, result: int) -> None:
        if not self.task.done():  # closed before it arrived: stop fetching
            self.task.cancel()
        super().done(result)
