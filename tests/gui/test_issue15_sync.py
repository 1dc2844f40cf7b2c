"""Issue 15, "Sync two places from the window": a local folder and the open bucket folder,
the core's plan as a table (action, path, size, reason), rows to untick, Run.

On SeaweedFS: the table's rows are exactly the core planner's plan for a tree of new,
resized, newer, changed, unchanged, excluded and extraneous files; the walk runs off the
loop thread; an unticked row is not copied (boto3 lists the bucket); what is copied is
byte-identical (sha256); delete rows appear, and delete, only with the option.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import sha256, until
from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester
from servers import boto3_client

from s3z_core.sync import plan_between
from s3z_gui.models.history import Location
from s3z_gui.models.sync_plan_model import SyncColumn, SyncPlanModel, rows_of

OLD = 1_000_000_000.0  # 2001: older than any object the test writes
FUTURE = time.time() + 3600  # newer than any object's LastModified (+ the 1 s tolerance)


def _write(path: Path, data: bytes, mtime: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))


def _remote(server: Any, bucket: str) -> dict[str, str]:
    client = boto3_client(server)
    listed = client.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {
        o["Key"]: hashlib.sha256(
            client.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
        ).hexdigest()
        for o in listed
    }


def _table(model: SyncPlanModel) -> list[tuple[str, str, str, str]]:
    """The rows as the view shows them, cell by cell."""
    return [
        tuple(
            str(model.index(r, c).data(Qt.ItemDataRole.DisplayRole))  # type: ignore[misc]
            for c in SyncColumn
        )
        for r in range(model.rowCount())
    ]


def _row_named(model: SyncPlanModel, name: str) -> int:
    return next(r for r, row in enumerate(model.rows) if row.name == name)


async def _open_dialog(session: Any, bucket: str, prefix: str, folder: Path) -> Any:
    browser = session.window.browser
    await browser.navigate(Location(bucket, prefix))
    assert session.window.sync.action.isEnabled()
    session.window.sync.action.trigger()
    dialog = session.window.sync.dialog
    assert dialog is not None
    assert dialog.isVisible()
    dialog.folder.setText(str(folder))
    return dialog


async def _plan(dialog: Any) -> None:
    task = dialog.plan()
    assert task is not None
    assert (await task) is not None
    await until(lambda: dialog.model.planned is not None, what="the plan in the table")


async def _core_rows(session: Any, dialog: Any) -> list[tuple[str, str, int, str]]:
    request = dialog.request()
    planned = await plan_between(session.bridge.engine, *request.sides, request.options)
    return [(r.action, r.name, r.size, r.reason) for r in rows_of(planned)]


def _model_rows(dialog: Any) -> list[tuple[str, str, int, str]]:
    return [(r.action, r.name, r.size, r.reason) for r in dialog.model.rows]


@pytest.fixture
def walk_threads(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The names of the threads the engine's local walk ran on."""
    import s3z_core.transfer.walk as walking

    seen: set[str] = set()
    walk = walking.walk_tree

    def recording(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for entry in walk(*args, **kwargs):
            seen.add(threading.current_thread().name)
            yield entry

    monkeypatch.setattr(walking, "walk_tree", recording)
    return seen


@pytest.mark.asyncio
async def test_upload_plan_table_is_the_core_plan_and_runs_only_ticked_rows(
    session: Any,
    seaweed: Any,
    bucket: Any,
    tmp_path: Path,
    qtmodeltester: ModelTester,
    walk_threads: set[str],
) -> None:
    name = bucket(seaweed)
    client = boto3_client(seaweed)
    local = tmp_path / "local"
    data = {
        "new.txt": b"brand new " * 50,
        "resized.txt": b"twenty bytes, twice." * 2,
        "docs/newer.txt": b"same size, newer here!",
        "docs/same.txt": b"unchanged on both sides",
        "skipped-by-user.txt": b"the row the user unticks",
        "cache.tmp": b"excluded by pattern",
    }
    for rel, body in data.items():
        _write(local / rel, body, FUTURE if rel in ("docs/newer.txt",) else OLD)
    prefix = "site/"
    client.put_object(Bucket=name, Key=prefix + "resized.txt", Body=b"short")
    client.put_object(Bucket=name, Key=prefix + "docs/newer.txt", Body=b"SAME SIZE, OLDER THERE")
    client.put_object(Bucket=name, Key=prefix + "docs/same.txt", Body=data["docs/same.txt"])
    client.put_object(Bucket=name, Key=prefix + "gone-locally.txt", Body=b"extraneous")
    client.put_object(Bucket=name, Key=prefix + "keep.tmp", Body=b"excluded: never deleted")
    assert len(data["docs/newer.txt"]) == len(b"SAME SIZE, OLDER THERE")
    before = _remote(seaweed, name)

    dialog = await _open_dialog(session, name, prefix, local)
    qtmodeltester.check(dialog.model, force_py=False)
    dialog.excludes.setText("*.tmp")
    await _plan(dialog)
    expected = [
        ("upload", "docs/newer.txt", 22, "newer"),
        ("upload", "new.txt", 500, "new"),
        ("upload", "resized.txt", 40, "size differs"),
        ("upload", "skipped-by-user.txt", 24, "new"),
    ]
    assert _model_rows(dialog) == expected
    assert _model_rows(dialog) == await _core_rows(session, dialog)
    assert _table(dialog.model)[1] == ("Upload", "new.txt", "500 bytes", "new")
    assert walk_threads, "the local walk never ran"
    assert threading.main_thread().name not in walk_threads  # off the loop (GUI) thread
    assert "to upload" in dialog.totals.text()

    # Delete rows only with the option; changing it drops the shown plan.
    dialog.delete.setChecked(True)
    assert dialog.model.planned is None
    assert not dialog.run_button.isEnabled()
    await _plan(dialog)
    assert _model_rows(dialog) == [*expected, ("delete", "gone-locally.txt", 10, "extraneous")]
    assert _model_rows(dialog) == await _core_rows(session, dialog)

    row = _row_named(dialog.model, "skipped-by-user.txt")
    index = dialog.model.index(row, SyncColumn.ACTION)
    assert dialog.model.setData(index, Qt.CheckState.Unchecked, Qt.ItemDataRole.CheckStateRole)
    assert index.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    assert "1 left out" in dialog.totals.text()
    assert dialog.run_button.isEnabled()

    task = dialog.run()
    assert task is not None
    assert not dialog.isVisible()
    outcome = await task
    assert outcome is not None
    assert outcome.copied.files_done == 3
    assert outcome.copied.failed == []
    assert outcome.deleted.deleted == [prefix + "gone-locally.txt"]
    assert session.window.statusBar().currentMessage() == "Synced 3 file(s); deleted 1"

    after = _remote(seaweed, name)
    assert prefix + "skipped-by-user.txt" not in after  # unticked: not uploaded
    assert prefix + "gone-locally.txt" not in after
    for rel in ("new.txt", "resized.txt", "docs/newer.txt"):
        assert after[prefix + rel] == sha256(local / rel), rel
    assert after[prefix + "docs/same.txt"] == before[prefix + "docs/same.txt"]
    assert after[prefix + "keep.tmp"] == before[prefix + "keep.tmp"]
    assert set(after) == {prefix + k for k in ("new.txt", "resized.txt", "docs/newer.txt")} | {
        prefix + "docs/same.txt",
        prefix + "keep.tmp",
    }
    # The copies went through the engine's batch: their rows are in the transfer queue.
    await until(lambda: len(session.queue_model.store.rows) >= 3, what="the queue rows")
    queued = {Path(r.source).name for r in session.queue_model.store.rows}
    assert {"new.txt", "resized.txt", "newer.txt"} <= queued
    assert "skipped-by-user.txt" not in queued


@pytest.mark.asyncio
async def test_download_sync_restores_changes_and_deletes_only_with_the_option(
    session: Any, seaweed: Any, bucket: Any, tmp_path: Path
) -> None:
    name = bucket(seaweed)
    client = boto3_client(seaweed)
    remote = {
        "fresh.bin": os.urandom(3000),
        "resized.bin": os.urandom(2048),
        "photos/edited.jpg": os.urandom(1500),
        "photos/same.jpg": os.urandom(700),
    }
    for key, body in remote.items():
        client.put_object(Bucket=name, Key=key, Body=body)
    local = tmp_path / "mirror"
    _write(local / "resized.bin", os.urandom(10), OLD)
    # Same size, changed here after the last sync: the sync restores it (aws-cli, rclone).
    _write(local / "photos/edited.jpg", os.urandom(1500), FUTURE)
    listed = client.head_object(Bucket=name, Key="photos/same.jpg")["LastModified"].timestamp()
    _write(local / "photos/same.jpg", remote["photos/same.jpg"], listed)  # unchanged
    _write(local / "extra.txt", b"only on this computer", OLD)
    dialog = await _open_dialog(session, name, "", local)
    dialog.download.setChecked(True)
    await _plan(dialog)
    expected = [
        ("download", "fresh.bin", 3000, "new"),
        ("download", "photos/edited.jpg", 1500, "changed since last sync"),
        ("download", "resized.bin", 2048, "size differs"),
    ]
    assert _model_rows(dialog) == expected  # no delete row without the option
    assert _model_rows(dialog) == await _core_rows(session, dialog)

    task = dialog.run()
    assert task is not None
    outcome = await task
    assert outcome is not None
    assert outcome.copied.files_done == 3
    assert outcome.deleted.deleted == []
    for key in ("fresh.bin", "resized.bin", "photos/edited.jpg", "photos/same.jpg"):
        assert sha256(local / key) == hashlib.sha256(remote[key]).hexdigest(), key
    assert (local / "extra.txt").read_bytes() == b"only on this computer"

    # Again, with the option: the extraneous file is a delete row, and goes.
    dialog = await _open_dialog(session, name, "", local)
    dialog.download.setChecked(True)
    dialog.delete.setChecked(True)
    await _plan(dialog)
    rows = _model_rows(dialog)
    assert rows == await _core_rows(session, dialog)
    assert [r for r in rows if r[0] == "delete"] == [("delete", "extra.txt", 21, "extraneous")]
    for row in range(dialog.model.rowCount()):  # only the delete stays ticked
        if dialog.model.rows[row].action != "delete":
            index = dialog.model.index(row, SyncColumn.ACTION)
            dialog.model.setData(index, Qt.CheckState.Unchecked, Qt.ItemDataRole.CheckStateRole)
    task = dialog.run()
    assert task is not None
    outcome = await task
    assert outcome is not None
    assert outcome.deleted.deleted == [str(local / "extra.txt")]
    assert not (local / "extra.txt").exists()
    for key, body in remote.items():
        assert sha256(local / key) == hashlib.sha256(body).hexdigest(), key


@pytest.mark.asyncio
async def test_sync_needs_an_open_bucket_and_a_folder(session: Any, tmp_path: Path) -> None:
    launcher = session.window.sync
    await session.window.browser.navigate(Location(None))
    assert not launcher.action.isEnabled()
    assert launcher.open() is None
    await session.window.browser.navigate(Location("any-bucket"))
    dialog = launcher.open()
    assert dialog is not None
    assert dialog.plan() is None  # no folder yet
    assert "folder" in dialog.status.text()
    dialog.folder.setText(str(tmp_path / "missing"))
    task = dialog.plan()
    assert task is not None
    assert (await task) is None  # a clear error, in the status bar
    assert "existing folder" in session.window.statusBar().currentMessage()
    assert dialog.model.planned is None
    assert not dialog.run_button.isEnabled()

    # Cancel while planning stops the planning (nothing is left running for a closed dialog).
    (tmp_path / "here").mkdir()
    dialog.folder.setText(str(tmp_path / "here"))
    task = dialog.plan()
    assert task is not None
    dialog.reject()
    assert not dialog.isVisible()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()
    assert dialog.model.planned is None
