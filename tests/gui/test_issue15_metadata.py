"""Issue 15, "Metadata and Content-Type": edit an object's Content-Type, Cache-Control and
metadata in Properties (CopyObject REPLACE, pinned to the ETag shown: a concurrent change is
refused and said, never overwritten), and upload with Content-Type / Cache-Control /
metadata ("Upload with options…", and the Settings default). boto3's HeadObject is the
oracle; the bytes are checked by sha256."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import sha256, until
from servers import boto3_client

from s3z_gui.models.conflicts import ConflictPolicy
from s3z_gui.models.history import Location
from s3z_gui.views.properties_dialog import PropertiesDialog


async def _open(session: Any, bucket: str) -> None:
    await session.bridge.refresh_buckets()
    browser = session.window.browser
    await browser.navigate(Location(bucket, ""))
    await until(lambda: not browser.objects.loading, what="the listing")


async def _properties_of(session: Any, name: str) -> PropertiesDialog:
    """Opened as a user does: select the row, press Properties (Alt+Return)."""
    browser = session.window.browser
    browser.select_names({name})
    browser.browser_actions.properties_action.trigger()

    def shown() -> list[PropertiesDialog]:
        return [d for d in session.window.findChildren(PropertiesDialog) if d.isVisible()]

    await until(lambda: len(shown()) == 1, what="the Properties dialog")
    return shown()[0]


def _editor_rows(dialog: PropertiesDialog) -> dict[str, int]:
    assert dialog.editor is not None
    table = dialog.editor.table
    return {table.item(r, 0).text(): r for r in range(table.rowCount())}


@pytest.mark.asyncio
async def test_edit_metadata_in_properties_round_trips(
    session: Any, seaweed: Any, bucket: Any
) -> None:
    name = bucket(seaweed)
    client = boto3_client(seaweed)
    body = os.urandom(50_000)
    client.put_object(
        Bucket=name,
        Key="page.md",
        Body=body,
        ContentType="text/plain",
        Metadata={"owner": "ann", "old": "x"},
    )
    await _open(session, name)
    dialog = await _properties_of(session, "page.md")
    assert not dialog.editing
    dialog.edit_button.click()
    editor = dialog.editor
    assert editor is not None
    assert editor.content_type.text() == "text/plain"
    rows = _editor_rows(dialog)
    assert set(rows) == {"owner", "old"}
    editor.content_type.setText("text/markdown")
    editor.cache_control.setText("max-age=30")
    editor.table.item(rows["owner"], 1).setText("bo")
    editor.table.selectRow(rows["old"])
    editor.remove_button.click()
    row = editor.add_row("Team", "web")
    assert row == 1
    task = dialog.save()
    assert task is not None
    outcome = await task
    assert outcome is not None
    assert outcome.error == ""
    head = client.head_object(Bucket=name, Key="page.md")
    assert head["ContentType"] == "text/markdown"
    assert head["CacheControl"] == "max-age=30"
    assert head["Metadata"] == {"owner": "bo", "team": "web"}
    got = client.get_object(Bucket=name, Key="page.md")["Body"].read()
    assert hashlib.sha256(got).digest() == hashlib.sha256(body).digest()
    assert not dialog.editing
    assert dialog.status.text() == "Saved"
    assert dialog.head.etag == head["ETag"].strip('"')
    shown = {dialog.metadata.item(r, 0).text() for r in range(dialog.metadata.rowCount())}
    assert shown == {"owner", "team"}
    # Emptying Cache-Control removes it; another type replaces the type.
    dialog.edit_button.click()
    assert dialog.editor is not None
    dialog.editor.cache_control.setText("")
    dialog.editor.content_type.setText("application/vnd.s3z-test")
    task = dialog.save()
    assert task is not None
    await task
    head = client.head_object(Bucket=name, Key="page.md")
    assert "CacheControl" not in head
    assert head["ContentType"] == "application/vnd.s3z-test"
    assert head["Metadata"] == {"owner": "bo", "team": "web"}
    dialog.close()


@pytest.mark.asyncio
async def test_a_concurrent_change_is_refused_and_said_not_overwritten(
    session: Any, seaweed: Any, bucket: Any
) -> None:
    name = bucket(seaweed)
    client = boto3_client(seaweed)
    client.put_object(Bucket=name, Key="k.txt", Body=b"first", Metadata={"v": "1"})
    await _open(session, name)
    dialog = await _properties_of(session, "k.txt")
    dialog.edit_button.click()
    assert dialog.editor is not None
    dialog.editor.table.item(_editor_rows(dialog)["v"], 1).setText("mine")
    # Someone else uploads a new version while the dialog is open.
    client.put_object(Bucket=name, Key="k.txt", Body=b"their upload", Metadata={"v": "2"})
    task = dialog.save()
    assert task is not None
    outcome = await task
    assert outcome is not None
    assert outcome.changed
    assert outcome.head is None
    assert "changed by someone else" in dialog.status.text()
    assert "nothing was saved" in dialog.status.text()
    assert dialog.status.isVisible()
    assert dialog.editing, "the edit stays on screen"
    assert not dialog.save_button.isEnabled(), "saving again could only fail again"
    head = client.head_object(Bucket=name, Key="k.txt")
    assert head["Metadata"] == {"v": "2"}
    assert client.get_object(Bucket=name, Key="k.txt")["Body"].read() == b"their upload"
    dialog.close()


@pytest.mark.asyncio
async def test_a_bad_metadata_name_is_said_in_the_dialog_and_nothing_is_sent(
    session: Any, seaweed: Any, bucket: Any
) -> None:
    name = bucket(seaweed)
    client = boto3_client(seaweed)
    etag = client.put_object(Bucket=name, Key="a.txt", Body=b"a")["ETag"]
    await _open(session, name)
    dialog = await _properties_of(session, "a.txt")
    dialog.edit_button.click()
    assert dialog.editor is not None
    dialog.editor.add_row("bad name", "1")
    assert dialog.save() is None
    assert dialog.editor.error.isVisible()
    assert "metadata name 'bad name'" in dialog.editor.error.text()
    dialog.editor.table.item(0, 0).setText("")
    assert dialog.save() is None
    assert "no name" in dialog.editor.error.text()
    assert client.head_object(Bucket=name, Key="a.txt")["ETag"] == etag
    dialog.close()


@pytest.mark.asyncio
async def test_upload_with_options_sets_type_cache_control_and_metadata(
    session: Any, seaweed: Any, bucket: Any, tmp_path: Path
) -> None:
    """Through the conflict-aware plan (Settings: ask), the other upload path."""
    name = bucket(seaweed)
    session.set_preferences(dataclasses.replace(session.prefs, on_conflict=ConflictPolicy.ASK))
    files = [tmp_path / "a.txt", tmp_path / "b.bin"]
    for path in files:
        path.write_bytes(os.urandom(20_000))
    await _open(session, name)
    actions = session.window.browser.browser_actions.object_actions
    assert actions.upload_with_options_action.isEnabled()
    dialog = actions.ask_options([str(p) for p in files])
    assert dialog is not None
    assert dialog.editor.content_type.placeholderText() == "Guess from each file's name"
    dialog.editor.content_type.setText("application/x-report")
    dialog.editor.cache_control.setText("no-cache")
    dialog.editor.add_row("Owner", "ann")
    dialog.choose()
    assert not dialog.isVisible()
    rows = session.queue_model.store.rows
    await until(lambda: len(rows) == 2 and all(r.status.finished for r in rows), what="uploads")
    client = boto3_client(seaweed)
    for path in files:
        head = client.head_object(Bucket=name, Key=path.name)
        assert head["ContentType"] == "application/x-report"
        assert head["CacheControl"] == "no-cache"
        assert head["Metadata"]["owner"] == "ann"
        assert "mtime" in head["Metadata"]
        got = client.get_object(Bucket=name, Key=path.name)["Body"].read()
        assert hashlib.sha256(got).hexdigest() == sha256(path)


@pytest.mark.asyncio
async def test_upload_options_dialog_refuses_a_bad_header(
    session: Any, seaweed: Any, bucket: Any, tmp_path: Path
) -> None:
    name = bucket(seaweed)
    (tmp_path / "a.txt").write_text("a")
    await _open(session, name)
    actions = session.window.browser.browser_actions.object_actions
    dialog = actions.ask_options([str(tmp_path / "a.txt")])
    assert dialog is not None
    dialog.editor.cache_control.setText("max-age=\u00e9")
    dialog.choose()
    assert dialog.isVisible()
    assert "printable ASCII" in dialog.editor.error.text()
    assert session.queue_model.store.rows == []
    dialog.reject()
    # Never processEvents() here: under qasync that runs a Qt loop inside the running one
    # (tests/gui/conftest.py). A turn of the loop lets the rejection's events through.
    await asyncio.sleep(0)


def test_settings_offer_guess_from_the_name_by_default(qapp: Any) -> None:
    """What the setting sends is checked through the proxy (test_issue15_preview.py):
    SeaweedFS replaces an octet-stream type by its own guess, so HeadObject cannot tell."""
    from s3z_gui.settings.preferences import Preferences
    from s3z_gui.views.settings_dialog import SettingsDialog

    dialog = SettingsDialog(Preferences())
    assert dialog.content_type.currentText() == "Guess from the file name"
    assert dialog.preferences().upload_content_type == ""
    dialog.content_type.setCurrentIndex(1)
    assert dialog.preferences().upload_content_type == "application/octet-stream"
    dialog.deleteLater()
    odd = SettingsDialog(Preferences(upload_content_type="binary/octet-stream"))
    assert odd.content_type.currentText() == "binary/octet-stream", "kept, not lost"
    assert odd.preferences().upload_content_type == "binary/octet-stream"
    odd.deleteLater()


def test_settings_content_type_is_saved_and_loaded(qsettings: Any) -> None:
    from s3z_gui.settings.preferences import Preferences, load_preferences, save_preferences

    assert load_preferences(qsettings).upload_content_type == ""
    save_preferences(qsettings, Preferences(upload_content_type="application/octet-stream"))
    assert load_preferences(qsettings).upload_content_type == "application/octet-stream"
    qsettings.setValue("preferences/upload_content_type", "text/plain\r\nX: 1")
    assert load_preferences(qsettings).upload_content_type == "", "unsendable: the guess"
