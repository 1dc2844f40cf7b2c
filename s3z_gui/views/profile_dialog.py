"""The connection dialog: endpoint, region, addressing, keys; import from ~/.aws; test.

The secret goes to the keyring (``SecretStore``), never to QSettings. Without a
secure keyring the dialog says so and keeps the secret for this session only. Keyring calls
and reads of ``~/.aws`` run off the GUI thread (``s3z_gui.offload``): the dialog opens at once
and fills in the stored secret, the keyring warning and the import list when they arrive
(``ready``); saving and importing are tasks too.
"""

from __future__ import annotations

import asyncio
import configparser
import os
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from s3z_core.config import AddressingStyle
from s3z_core.credentials import Credentials, load_profile
from s3z_core.errors import S3zError
from s3z_gui.bridge import EngineBridge
from s3z_gui.connection import ConnectionTarget
from s3z_gui.icons import SP, standard
from s3z_gui.models.transfer_store import describe_error
from s3z_gui.offload import run_blocking
from s3z_gui.settings.profiles import Profile, ProfileStore
from s3z_gui.settings.secrets import (
    NoSecureStore,
    SecretStore,
    backend_name_async,
    secure_store_available_async,
)
from s3z_gui.views.aws_profiles import AwsProfilePanel

_STYLES: list[tuple[str, AddressingStyle]] = [
    ("Automatic", "auto"),
    ("Path-style (http://host/bucket)", "path"),
    ("Virtual-hosted (http://bucket.host)", "virtual"),
]


def aws_profile_names(env: dict[str, str] | None = None) -> list[str]:
    """Section names of ~/.aws/credentials and ~/.aws/config (names only, no values)."""
    env = dict(os.environ) if env is None else env
    home = Path(env.get("HOME") or str(Path.home()))
    files = [
        Path(env.get("AWS_SHARED_CREDENTIALS_FILE", home / ".aws" / "credentials")),
        Path(env.get("AWS_CONFIG_FILE", home / ".aws" / "config")),
    ]
    names: set[str] = set()
    for path in files:
        if not path.is_file():
            continue
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            continue  # a broken file is reported when the user imports from it
        for section in parser.sections():
            names.add(section.removeprefix("profile ").strip())
    return sorted(names)


class ProfileDialog(QDialog):
    profileSaved = Signal(str)

    def __init__(
        self,
        bridge: EngineBridge,
        profiles: ProfileStore,
        secrets: SecretStore,
        profile: Profile | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.profiles = profiles
        self.secrets = secrets
        self.setWindowTitle("Edit connection" if profile else "New connection")
        self.setMinimumWidth(520)

        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. Production backups")
        self.endpoint = QLineEdit()
        self.endpoint.setPlaceholderText("https://s3.example.com — empty for AWS")
        self.region = QLineEdit("us-east-1")
        self.style_box = QComboBox()
        for text, style in _STYLES:
            self.style_box.addItem(text, style)
        self.access_key = QLineEdit()
        self.access_key.setPlaceholderText("Access key ID")
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setPlaceholderText("Secret access key (stored in the system keyring)")
        self.session_only = QCheckBox("Use the secret for this session only (not saved)")

        self.import_box = QComboBox()
        self.import_box.setPlaceholderText("Import from ~/.aws…")
        self.import_box.setEnabled(False)  # until ~/.aws has been read
        self.import_box.activated.connect(self._import_chosen)

        self.keyring_warning = QLabel()
        self.keyring_warning.setWordWrap(True)
        self.keyring_warning.setTextFormat(Qt.TextFormat.PlainText)
        self.keyring_warning.hide()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.test_button = QPushButton(standard(SP.SP_BrowserReload), "Test connection")
        self.test_button.clicked.connect(self.test_connection)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Import", self.import_box)
        self.aws_profiles = AwsProfilePanel(parent=self)  # SSO / role / process profiles
        form.addRow("AWS profile", self.aws_profiles)
        form.addRow("Name", self.name)
        form.addRow("Endpoint URL", self.endpoint)
        form.addRow("Region", self.region)
        form.addRow("Addressing", self.style_box)
        form.addRow("Access key ID", self.access_key)
        form.addRow("Secret key", self.secret)
        form.addRow("", self.session_only)
        bottom = QHBoxLayout()
        bottom.addWidget(self.test_button)
        bottom.addStretch(1)
        bottom.addWidget(self.buttons)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.keyring_warning)
        layout.addWidget(self.status)
        layout.addStretch(1)
        layout.addLayout(bottom)

        if profile is not None:
            self._fill(profile)
            self.session_only.setChecked(secrets.is_session_only(profile.name))
        self.ready = bridge.commands.spawn(
            self._load_slow_parts(profile.name if profile else None),
            "Opening the connection",
            bound=False,
        )

    async def _load_slow_parts(self, name: str | None) -> None:
        await self.aws_profiles.load()  # ~/.aws profiles (SSO, roles …), read off the GUI thread
        names = await run_blocking(aws_profile_names)
        self.import_box.addItems(names)
        self.import_box.setEnabled(bool(names))
        if not await secure_store_available_async():
            self._warn_no_keyring(await backend_name_async())
        if name is not None:
            stored = await self.secrets.load_async(name)
            if stored and not self.secret.text():  # never overwrite what the user typed
                self.secret.setText(stored)

    def _warn_no_keyring(self, backend: str) -> None:
        self.keyring_warning.setText(str(NoSecureStore(backend)))
        self.keyring_warning.show()
        self.session_only.setChecked(True)
        self.session_only.setEnabled(False)  # the only safe choice: never plain text

    def _fill(self, profile: Profile) -> None:
        self.name.setText(profile.name)
        self.endpoint.setText(profile.endpoint_url)
        self.region.setText(profile.region)
        self.style_box.setCurrentIndex(max(0, self.style_box.findData(profile.addressing_style)))
        self.access_key.setText(profile.access_key)

    def _import_chosen(self, _index: int) -> None:
        self.bridge.commands.spawn(
            self.import_aws(self.import_box.currentText()), "Import", bound=False
        )

    async def import_aws(self, name: str) -> bool:
        try:
            creds, region, endpoint, style = await run_blocking(load_profile, name)
        except S3zError as exc:
            self.status.setText(f"Cannot import {name}: {exc}")
            return False
        if not self.name.text():
            self.name.setText(name)
        if region:
            self.region.setText(region)
        if endpoint:
            self.endpoint.setText(endpoint)
        if style:
            self.style_box.setCurrentIndex(max(0, self.style_box.findData(style)))
        if creds is not None:
            self.access_key.setText(creds.access_key)
            self.secret.setText(creds.secret_key)
        self.status.setText(f"Imported profile {name} from ~/.aws")
        return True

    def profile(self) -> Profile:
        style = self.style_box.currentData()
        return Profile(
            name=self.name.text().strip(),
            endpoint_url=self.endpoint.text().strip().rstrip("/"),
            region=self.region.text().strip() or "us-east-1",
            addressing_style=style if style in ("auto", "path", "virtual") else "auto",
            access_key=self.access_key.text().strip(),
        )

    def target(self) -> ConnectionTarget:
        profile = self.profile()
        profile.validate()
        return ConnectionTarget(
            label=profile.name or profile.endpoint_url,
            endpoint_url=profile.endpoint_url or None,
            region=profile.region,
            addressing_style=profile.addressing_style,
            credentials=Credentials(profile.access_key, self.secret.text()),
        )

    def test_connection(self) -> None:
        try:
            target = self.target()
        except S3zError as exc:
            self.status.setText(str(exc))
            return
        self.status.setText("Testing…")
        self.test_button.setEnabled(False)
        task = self.bridge.test_connection(target)

        def done(_task: object) -> None:
            self.test_button.setEnabled(True)
            check = task.result() if not task.cancelled() else None
            if check is None:  # a bug went to the error dialog, or the dialog closed
                self.status.setText("The connection test did not finish")
            elif check.error is not None:  # the reason, here where the user is looking
                self.status.setText(f"✗ The connection failed — {describe_error(check.error)}")
            else:
                self.status.setText(f"✓ Connected — {check.buckets} bucket(s) visible")

        task.add_done_callback(done)

    def save(self) -> asyncio.Task[bool | None]:
        return self.bridge.commands.spawn(self.save_async(), "Saving the connection", bound=False)

    async def save_async(self) -> bool:
        profile = self.profile()
        secret = self.secret.text()
        save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        save_button.setEnabled(False)  # one save at a time
        try:
            profile.validate()
            if not secret:
                self.status.setText("The secret key must not be empty")
                return False
            self.profiles.save(profile)
            await self.secrets.save_async(
                profile.name, secret, session_only=self.session_only.isChecked()
            )
        except NoSecureStore as exc:
            self.keyring_warning.setText(str(exc))
            self.keyring_warning.show()
            self.session_only.setChecked(True)
            return False
        except S3zError as exc:
            self.status.setText(describe_error(exc))
            return False
        finally:
            save_button.setEnabled(True)
        self.profileSaved.emit(profile.name)
        self.accept()
        return True
