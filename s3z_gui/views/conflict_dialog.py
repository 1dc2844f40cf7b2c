"""The question on an upload whose key exists: Overwrite, Skip or Keep both, and Apply to all.

Opened with ``open()`` and awaited through a future (never ``exec()``: a nested Qt loop would
stall qasync's). Closing the dialog skips the file: nothing is overwritten unasked.
"""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from s3z_gui.controllers.conflicts import AskConflict
from s3z_gui.models.conflicts import Conflict, ConflictAnswer, ConflictChoice


class ConflictDialog(QDialog):
    answered = Signal(object)  # ConflictAnswer

    def __init__(self, conflict: Conflict, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("File already exists")
        self.setMinimumWidth(460)
        self.conflict = conflict
        if conflict.direction == "download":
            question = (
                f"{conflict.local_path} already exists.\n"
                f"Download s3://{conflict.bucket}/{conflict.key} over it?"
            )
        else:
            question = (
                f"s3://{conflict.bucket}/{conflict.key} already exists.\n"
                f"Upload {conflict.local_path} anyway?"
            )
        text = QLabel(question)
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.PlainText)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.apply_to_all = QCheckBox(
            f"Do the same for the other files of this {conflict.direction}"
        )
        self.buttons = QDialogButtonBox()
        self.choice_buttons: dict[ConflictChoice, QPushButton] = {}
        for choice, label, role in (
            (ConflictChoice.OVERWRITE, "Overwrite", QDialogButtonBox.ButtonRole.DestructiveRole),
            (ConflictChoice.SKIP, "Skip", QDialogButtonBox.ButtonRole.RejectRole),
            (ConflictChoice.KEEP_BOTH, "Keep both", QDialogButtonBox.ButtonRole.AcceptRole),
        ):
            button = self.buttons.addButton(label, role)
            button.clicked.connect(lambda _c=False, ch=choice: self.choose(ch))
            self.choice_buttons[choice] = button
        keep_both = self.choice_buttons[ConflictChoice.KEEP_BOTH]
        keep_both.setDefault(True)  # the safe choice
        if conflict.direction == "download":  # its path comes from the key: no second name
            keep_both.hide()
            self.choice_buttons[ConflictChoice.SKIP].setDefault(True)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.apply_to_all)
        layout.addWidget(self.buttons)
        self.rejected.connect(lambda: self._answer(ConflictChoice.SKIP))

    def choose(self, choice: ConflictChoice) -> None:
        self._answer(choice)
        self.accept()

    def _answer(self, choice: ConflictChoice) -> None:
        self.answered.emit(ConflictAnswer(choice, self.apply_to_all.isChecked()))


def conflict_asker(parent: QWidget) -> tuple[AskConflict, list[ConflictDialog]]:
    """An ``AskConflict`` that opens the dialog over ``parent``; the list holds the open one
    (tests and the window reach it there)."""
    shown: list[ConflictDialog] = []
    one_at_a_time = asyncio.Lock()  # two uploads' questions never stack up on screen

    async def ask(conflict: Conflict) -> ConflictAnswer:
        async with one_at_a_time:
            return await _ask(conflict)

    async def _ask(conflict: Conflict) -> ConflictAnswer:
        future: asyncio.Future[ConflictAnswer] = asyncio.get_running_loop().create_future()
        dialog = ConflictDialog(conflict, parent)

        def settle(answer: ConflictAnswer) -> None:
            if not future.done():
                future.set_result(answer)

        dialog.answered.connect(settle)
        shown.append(dialog)
        dialog.open()
        try:
            return await future
        finally:
            shown.remove(dialog)
            if dialog.isVisible():  # the upload was cancelled meanwhile
                dialog.done(QDialog.DialogCode.Rejected)
            dialog.deleteLater()

    return ask, shown
