"""Asking for an MFA code in a dialog, for role profiles with ``mfa_serial``.

``ask_mfa_code`` is the GUI's ``MfaPrompt``: it opens a window-modal dialog with ``open()``
(never ``exec()``: a nested loop under qasync would hang) and awaits its answer on the event
loop. Cancel is a clear ``MfaRequiredError``, which the chain reports like any other.
"""

from __future__ import annotations

import asyncio

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from s3z_core.errors import MfaRequiredError


class MfaCodeDialog(QDialog):
    def __init__(self, prompt: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("MFA code")
        self.code = QLineEdit()
        self.code.setEchoMode(QLineEdit.EchoMode.Password)
        self.code.setPlaceholderText("6-digit code from your authenticator")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(prompt.strip()))
        layout.addWidget(self.code)
        layout.addWidget(buttons)


async def ask_mfa_code(prompt: str, parent: QWidget | None = None) -> str:
    dialog = MfaCodeDialog(prompt, parent)
    answered: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def finished(result: int) -> None:
        if not answered.done():
            answered.set_result(result)

    dialog.finished.connect(finished)
    dialog.open()
    try:
        result = await answered
        code = dialog.code.text().strip()
    finally:
        dialog.deleteLater()
    if result != QDialog.DialogCode.Accepted.value or not code:
        raise MfaRequiredError("mfa", "no MFA code was entered", "enter the code and press OK")
    return code
