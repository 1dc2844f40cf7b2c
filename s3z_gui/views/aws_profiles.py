""" "Use an AWS profile": the ``~/.aws`` profiles (SSO and role ones included) and who they are.

The list is read off the loop (file I/O in a thread). Test connects through the same chain
as the CLI (``Engine.connect``: SSO token cache, AssumeRole with an MFA dialog, processes,
instance metadata …) and shows ``whoami``'s answer: account, ARN and where the credentials
came from. Nothing here holds a secret: the profile is a name, the keys stay with the chain.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from s3z_core.aws_files import AwsFiles, read_aws_files
from s3z_core.engine import Engine
from s3z_core.errors import S3zError
from s3z_gui.views.mfa_dialog import ask_mfa_code


def profile_kind(section: Mapping[str, str]) -> str:
    """What a profile gets its credentials from, in a word for the list."""
    if "sso_account_id" in section or "sso_session" in section:
        return "SSO"
    if "role_arn" in section:
        return "role"
    if "credential_process" in section:
        return "process"
    if "aws_access_key_id" in section:
        return "keys"
    return "settings"


class AwsProfilePanel(QWidget):
    identityShown = Signal(str)  # the whoami line, once a test succeeded

    def __init__(self, env: Mapping[str, str] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._env = dict(os.environ if env is None else env)
        self.box = QComboBox()
        self.box.setPlaceholderText("Use an AWS profile…")
        self.box.setEnabled(False)
        self.test_button = QPushButton("Test profile")
        self.test_button.setEnabled(False)
        self.test_button.clicked.connect(self.test)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout()
        row.addWidget(self.box, 1)
        row.addWidget(self.test_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.status)
        self._task: asyncio.Task[None] | None = None

    def selected(self) -> str | None:
        name = self.box.currentData()
        return name if isinstance(name, str) else None

    async def load(self) -> int:
        """Fill the list from the files (read in a thread); how many profiles there are."""
        try:
            files: AwsFiles = await asyncio.to_thread(read_aws_files, self._env)
        except S3zError as exc:
            self.status.setText(str(exc))
            return 0
        self.box.clear()
        for name in files.profile_names():
            self.box.addItem(f"{name} ({profile_kind(files.profile(name))})", name)
        self.box.setEnabled(self.box.count() > 0)
        self.test_button.setEnabled(self.box.count() > 0)
        return self.box.count()

    def test(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self.run_test())

    async def run_test(self) -> None:
        name = self.selected()
        if name is None:
            return
        self.status.setText(f"Connecting with profile {name}…")
        self.test_button.setEnabled(False)

        async def prompt(text: str) -> str:
            return await ask_mfa_code(text, self)

        try:
            async with await Engine.connect(
                profile=name, env=self._env, mfa_prompt=prompt
            ) as engine:
                who = await engine.whoami()
        except S3zError as exc:
            self.status.setText(f"✗ {exc}")
        else:
            line = f"✓ {who.arn} (account {who.account}) — credentials from {who.source}"
            self.status.setText(line)
            self.identityShown.emit(line)
        finally:
            self.test_button.setEnabled(True)
