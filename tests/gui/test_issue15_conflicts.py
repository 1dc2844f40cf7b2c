"""Issue 15 bug 10: existing objects were overwritten without asking.

Now an upload whose key exists asks (Overwrite / Skip / Keep both, and apply to all), or
follows the Settings default; files without a conflict go at once. Checked on SeaweedFS by
the bytes each key holds afterwards.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from conftest import until
from servers import boto3_client

from s3z_gui.models.conflicts import ConflictChoice, ConflictPolicy, keep_both_key
from s3z_gui.settings.preferences import Preferences


def _objects(server: Any, bucket: str) -> dict[str, bytes]:
    client = boto3_client(server)
    listed = client.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {o["Key"]: client.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}


def test_keep_both_names() -> None:
    assert keep_both_key("a/photo.jpg", {"a/photo.jpg"}) == "a/photo (1).jpg"
    assert keep_both_key("photo.jpg", {"photo.jpg", "photo (1).jpg"}) == "photo (2).jpg"
    assert keep_both_key("d/README", {"d/README"}) == "d/README (1)"
    assert keep_both_key(".env", {".env"}) == ".env (1)"


@pytest.mark.asyncio
async def test_upload_over_existing_keys_asks_and_obeys(
    session: Any, seaweed: Any, bucket: Any, tmp_path: Path
) -> None:
    name = bucket(seaweed)
    client = boto3_client(seaweed)
    for key in ("a.txt", "b.txt", "d.txt"):
        client.put_object(Bucket=name, Key=key, Body=b"old " + key.encode())
    local = {n: tmp_path / n for n in ("a.txt", "b.txt", "c.txt", "d.txt")}
    for n, path in local.items():
        path.write_bytes(b"new " + n.encode())
    session.set_preferences(dataclasses.replace(session.prefs, on_conflict=ConflictPolicy.ASK))
    dialogs = session.conflict_dialogs
    task = session.bridge.transfers.upload_paths(list(local.values()), name, "")

    await until(lambda: len(dialogs) == 1, what="the question for a.txt")
    assert dialogs[0].conflict.key == "a.txt"
    assert dialogs[0].isVisible()
    dialogs[0].choice_buttons[ConflictChoice.KEEP_BOTH].click()
    await until(lambda: len(dialogs) == 1 and dialogs[0].conflict.key == "b.txt", what="b.txt")
    dialogs[0].apply_to_all.setChecked(True)
    dialogs[0].choice_buttons[ConflictChoice.SKIP].click()  # … and d.txt is not asked
    result = await task
    assert result is not None
    assert result.files_done == 2
    assert dialogs == []
    assert _objects(seaweed, name) == {
        "a.txt": b"old a.txt",
        "a (1).txt": b"new a.txt",
        "b.txt": b"old b.txt",
        "c.txt": b"new c.txt",
        "d.txt": b"old d.txt",
    }
    assert "2 left out" in session.window.statusBar().currentMessage()

    # Closing the question skips the file: nothing is overwritten unasked.
    task = session.bridge.transfers.upload_paths([local["a.txt"]], name, "")
    await until(lambda: len(dialogs) == 1, what="the question again")
    dialogs[0].reject()
    assert (await task) is not None
    assert _objects(seaweed, name)["a.txt"] == b"old a.txt"

    # The Settings default, without asking.
    for policy, expected in (
        (ConflictPolicy.KEEP_BOTH, {"a (2).txt": b"new a.txt"}),
        (ConflictPolicy.SKIP, {}),
        (ConflictPolicy.OVERWRITE, {"a.txt": b"new a.txt"}),
    ):
        before = _objects(seaweed, name)
        session.set_preferences(Preferences(confirm_deletes=False, on_conflict=policy))
        assert (await session.bridge.transfers.upload_paths([local["a.txt"]], name, "")) is not None
        assert dialogs == []
        after = _objects(seaweed, name)
        assert {k: v for k, v in after.items() if before.get(k) != v} == expected, policy


def test_the_conflict_default_is_a_setting(qapp: Any, qsettings: Any) -> None:
    from s3z_gui.settings.preferences import load_preferences, save_preferences
    from s3z_gui.views.settings_dialog import SettingsDialog

    assert load_preferences(qsettings).on_conflict is ConflictPolicy.ASK  # the default
    dialog = SettingsDialog(Preferences())
    dialog.on_conflict.setCurrentIndex(dialog.on_conflict.findData("keep_both"))
    chosen = dialog.preferences()
    assert chosen.on_conflict is ConflictPolicy.KEEP_BOTH
    save_preferences(qsettings, chosen)
    assert load_preferences(qsettings).on_conflict is ConflictPolicy.KEEP_BOTH
    qsettings.setValue("preferences/on_conflict", "something-newer")
    assert load_preferences(qsettings).on_conflict is ConflictPolicy.ASK
    dialog.deleteLater()


@pytest.mark.asyncio
async def test_download_over_existing_files_asks_overwrite_or_skip(
    session: Any, seaweed: Any, bucket: Any, tmp_path: Path
) -> None:
    from s3z_gui.models.history import Location

    name = bucket(seaweed)
    client = boto3_client(seaweed)
    for key in ("a.txt", "b.txt", "docs/c.txt", "docs/d.txt"):
        client.put_object(Bucket=name, Key=key, Body=b"remote " + key.encode())
    dest = tmp_path / "dest"
    (dest / "docs").mkdir(parents=True)
    for rel in ("a.txt", "docs/c.txt", "docs/d.txt"):
        (dest / rel).write_bytes(b"local " + rel.encode())
    session.set_preferences(dataclasses.replace(session.prefs, on_conflict=ConflictPolicy.ASK))
    browser = session.window.browser
    await session.bridge.refresh_buckets()
    await browser.navigate(Location(name, ""))
    browser.select_names({"a.txt", "b.txt", "docs"})
    dialogs = session.conflict_dialogs
    task = browser.download_selection_to(str(dest))
    assert task is not None

    # The two batches (the files, the folder) run at once; their questions come one by one.
    answers = {"a.txt": ConflictChoice.SKIP}
    for _ in range(3):
        await until(lambda: len(dialogs) == 1 or task.done(), what="a question")
        assert not task.done(), session.window.statusBar().currentMessage()
        dialog = dialogs[0]
        key = dialog.conflict.key
        assert dialog.conflict.local_path == str(dest.resolve() / key)
        assert dialog.choice_buttons[ConflictChoice.KEEP_BOTH].isHidden()
        dialog.choice_buttons[answers.get(key, ConflictChoice.OVERWRITE)].click()
        await until(lambda d=dialog: d not in dialogs, what="the answer")
    result = await task
    assert result is not None
    assert result.files_done == 3
    assert dialogs == []
    got = {p.relative_to(dest).as_posix(): p.read_bytes() for p in dest.rglob("*.txt")}
    assert got == {
        "a.txt": b"local a.txt",
        "b.txt": b"remote b.txt",
        "docs/c.txt": b"remote docs/c.txt",
        "docs/d.txt": b"remote docs/d.txt",
    }
