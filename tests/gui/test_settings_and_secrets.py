"""Profiles in QSettings, secrets in the keyring only; the no-keyring path says so."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from memkeyring import MemoryKeyring
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from s3z_gui.bridge import EngineBridge
from s3z_gui.models.transfer_model import TransferQueueModel
from s3z_gui.settings.preferences import Preferences, load_preferences, save_preferences
from s3z_gui.settings.profiles import Profile, ProfileStore
from s3z_gui.settings.secrets import SERVICE, NoSecureStore, SecretStore, secure_store_available
from s3z_gui.views.profile_dialog import ProfileDialog

SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"


async def _dialog(qtbot: QtBot, qsettings: QSettings) -> ProfileDialog:
    bridge = EngineBridge(TransferQueueModel())
    dialog = ProfileDialog(bridge, ProfileStore(qsettings), SecretStore())
    qtbot.addWidget(dialog)
    await dialog.ready  # the keyring check and ~/.aws, off the GUI thread
    dialog.name.setText("prod")
    dialog.endpoint.setText("https://s3.example.com/")
    dialog.region.setText("eu-west-1")
    dialog.style_box.setCurrentIndex(dialog.style_box.findData("path"))
    dialog.access_key.setText("AKIDEXAMPLE")
    dialog.secret.setText(SECRET)
    return dialog


@pytest.mark.asyncio
async def test_profile_saved_with_secret_in_keyring_not_in_settings(
    qtbot: QtBot, qsettings: QSettings, settings_file: Path, memory_keyring: MemoryKeyring
) -> None:
    dialog = await _dialog(qtbot, qsettings)
    assert dialog.keyring_warning.isHidden()
    saved: list[str] = []
    dialog.profileSaved.connect(saved.append)
    assert await dialog.save()
    assert saved == ["prod"]
    assert memory_keyring.store[(SERVICE, "prod")] == SECRET
    text = await asyncio.to_thread(settings_file.read_text, encoding="utf-8")
    assert "AKIDEXAMPLE" in text  # the profile itself was written …
    assert SECRET not in text  # … but never the secret
    assert SECRET[:12] not in text
    profile = ProfileStore(QSettings(str(settings_file), QSettings.Format.IniFormat)).load("prod")
    assert profile == Profile("prod", "https://s3.example.com", "eu-west-1", "path", "AKIDEXAMPLE")
    assert [call for call, _thread in memory_keyring.calls] == ["set"]
    assert memory_keyring.calls[0][1] is not threading.main_thread()
    assert SecretStore().load("prod") == SECRET


@pytest.mark.asyncio
async def test_a_stored_secret_fills_the_dialog_without_a_keyring_call_on_the_gui_thread(
    qtbot: QtBot, qsettings: QSettings, memory_keyring: MemoryKeyring
) -> None:
    memory_keyring.store[(SERVICE, "prod")] = SECRET
    profiles = ProfileStore(qsettings)
    profiles.save(Profile("prod", "https://s3.example.com", "eu-west-1", "path", "AKIDEXAMPLE"))
    dialog = ProfileDialog(
        EngineBridge(TransferQueueModel()), profiles, SecretStore(), profiles.load("prod")
    )
    qtbot.addWidget(dialog)
    assert dialog.secret.text() == ""  # not yet: the keyring answers on its own thread
    await dialog.ready
    assert dialog.secret.text() == SECRET
    assert [call for call, _thread in memory_keyring.calls] == ["get"]
    assert memory_keyring.calls[0][1] is not threading.main_thread()


@pytest.mark.asyncio
async def test_no_keyring_shows_the_message_and_keeps_the_secret_in_memory(
    qtbot: QtBot, qsettings: QSettings, settings_file: Path, fail_keyring: None
) -> None:
    assert not secure_store_available()
    dialog = await _dialog(qtbot, qsettings)
    assert not dialog.keyring_warning.isHidden()
    message = dialog.keyring_warning.text()
    assert "No secure credential store" in message
    assert "use the secret for this session only" in message
    assert dialog.session_only.isChecked()
    assert not dialog.session_only.isEnabled()
    assert await dialog.save()
    assert SECRET not in await asyncio.to_thread(settings_file.read_text, encoding="utf-8")
    assert dialog.secrets.load("prod") == SECRET  # this session only
    assert dialog.secrets.is_session_only("prod")
    assert SecretStore().load("prod") is None  # a new session has nothing


def test_saving_to_an_insecure_store_raises_instead_of_writing_plaintext(
    fail_keyring: None,
) -> None:
    with pytest.raises(NoSecureStore, match="session only"):
        SecretStore().save("x", SECRET)


def test_null_backend_is_not_a_secure_store() -> None:
    import keyring
    from keyring.backends import null

    old = keyring.get_keyring()
    keyring.set_keyring(null.Keyring())
    try:
        assert not secure_store_available()
    finally:
        keyring.set_keyring(old)


@pytest.mark.asyncio
async def test_bad_profile_input_is_a_message_not_a_traceback(
    qtbot: QtBot, qsettings: QSettings, memory_keyring: MemoryKeyring
) -> None:
    dialog = await _dialog(qtbot, qsettings)
    dialog.endpoint.setText("ftp://nope")
    assert not await dialog.save()
    assert "http://" in dialog.status.text()
    assert ProfileStore(qsettings).names() == []


@pytest.mark.asyncio
async def test_import_from_aws_profile(
    qtbot: QtBot,
    qsettings: QSettings,
    memory_keyring: MemoryKeyring,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    aws = tmp_path / "home" / ".aws"
    aws.mkdir(parents=True)
    (aws / "credentials").write_text(
        "[minio]\naws_access_key_id = MINIOKEY\naws_secret_access_key = miniosecret\n"
    )
    (aws / "config").write_text(
        "[profile minio]\nregion = eu-north-1\nendpoint_url = http://127.0.0.1:9000\n"
    )
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("AWS_SHARED_CREDENTIALS_FILE", raising=False)
    monkeypatch.delenv("AWS_CONFIG_FILE", raising=False)
    bridge = EngineBridge(TransferQueueModel())
    dialog = ProfileDialog(bridge, ProfileStore(qsettings), SecretStore())
    qtbot.addWidget(dialog)
    await dialog.ready
    assert dialog.import_box.findText("minio") >= 0
    assert await dialog.import_aws("minio")
    assert dialog.access_key.text() == "MINIOKEY"
    assert dialog.secret.text() == "miniosecret"
    assert dialog.region.text() == "eu-north-1"
    assert dialog.endpoint.text() == "http://127.0.0.1:9000"
    assert not await dialog.import_aws("nope")
    assert "nope" in dialog.status.text()


def test_preferences_round_trip_and_clamp(qsettings: QSettings) -> None:
    prefs = Preferences(
        streams_per_file=4,
        files_at_once=3,
        part_size_mib=16,
        download_dir="/x",
        confirm_deletes=False,
    )
    save_preferences(qsettings, prefs)
    assert load_preferences(qsettings) == prefs
    config = prefs.transfer_config()
    assert (config.concurrency, config.workers, config.part_size) == (4, 3, 16 * 1024 * 1024)
    qsettings.setValue("preferences/files_at_once", "garbage")
    qsettings.setValue("preferences/streams_per_file", 10_000)
    loaded = load_preferences(qsettings)
    assert loaded.files_at_once == 8
    assert loaded.streams_per_file == 64


def test_no_display_prints_a_clear_message_and_exits_1(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from s3z_gui.app import main; sys.exit(main())"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 1
    assert "s3z-core" in done.stderr
    assert "xvfb-run" in done.stderr
    assert "Traceback" not in done.stderr
