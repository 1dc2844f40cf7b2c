"""Retry never escapes the download folder, and commands without a connection only say so.

Unsafe keys (``pkg/../evil``) need a server that stores them verbatim: moto. Async tests
on the qasync loop; ``until`` polls instead of nested Qt loops (QT_HEADLESS.md §4).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import until
from PySide6.QtCore import Qt
from servers import boto3_client

from s3z_core.errors import LocalFileError
from s3z_core.events import TransferFailed, TransferQueued
from s3z_gui.models.history import Location
from s3z_gui.models.listing import Entry
from s3z_gui.models.object_model import ObjectTableModel
from s3z_gui.models.transfer_store import Column, Status, TransferRow


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _rows_by_key(session: Any, bucket: str) -> dict[str, TransferRow]:
    return {r.source.removeprefix(f"s3://{bucket}/"): r for r in session.queue_model.store.rows}


def _record(session: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[object]]:
    """Status-bar errors, and whatever reaches the excepthook (the crash dialog)."""
    messages: list[str] = []
    hooked: list[object] = []
    session.bridge.failed.connect(messages.append)
    monkeypatch.setattr(sys, "excepthook", lambda *exc_info: hooked.append(exc_info))
    return messages, hooked


async def _select_row(session: Any, transfer_id: int) -> None:
    queue = session.window.queue
    model = session.queue_model
    await until(lambda: model.index_of(transfer_id).isValid(), what="the row to be shown")
    queue.table.clearSelection()
    queue.select_transfer(transfer_id)
    assert [r.transfer_id for r in queue.selected_rows()] == [transfer_id]


@pytest.mark.asyncio
async def test_unsafe_keys_fail_and_retry_refuses_them(
    moto_session: Any, moto_s3: Any, bucket: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = moto_session
    name = bucket(moto_s3)
    client = boto3_client(moto_s3)
    for key, body in {"pkg/ok.txt": b"fine", "pkg/../evil": b"evil", "pkg/..": b"evil2"}.items():
        client.put_object(Bucket=name, Key=key, Body=body)
    outer = tmp_path / "outer"
    dest = outer / "dest"
    dest.mkdir(parents=True)
    messages, hooked = _record(session, monkeypatch)
    browser = session.window.browser
    store = session.queue_model.store

    # 1. The folder "pkg" from the bucket's root: its two unsafe keys fail, ok.txt arrives.
    await session.bridge.refresh_buckets()
    await browser.navigate(Location(name, ""))
    browser.select_names({"pkg"})
    result = await browser.download_selection_to(str(dest))
    assert result is not None
    assert result.files_done == 1
    rows = _rows_by_key(session, name)
    assert set(rows) == {"pkg/ok.txt", "pkg/../evil", "pkg/.."}
    assert rows["pkg/ok.txt"].status == Status.COMPLETED
    assert rows["pkg/ok.txt"].local_root == str(dest.resolve() / "pkg")
    assert rows["pkg/ok.txt"].strip_prefix == "pkg/"
    for key in ("pkg/../evil", "pkg/.."):
        row = rows[key]
        assert row.status == Status.FAILED
        assert "unsafe key" in row.error
        assert row.retry_refusal
        assert not row.retryable
    assert (dest / "pkg" / "ok.txt").read_bytes() == b"fine"

    # Retry is off for such a row, and says why (button and status tooltip).
    queue = session.window.queue
    evil = rows["pkg/../evil"]
    await _select_row(session, evil.transfer_id)
    assert not queue.retry_action.isEnabled()
    assert "outside the download folder" in queue.retry_action.toolTip()
    shown = session.queue_model.index_of(evil.transfer_id).siblingAtColumn(Column.STATUS)
    tooltip = shown.data(Qt.ItemDataRole.ToolTipRole)
    assert "outside the download folder" in tooltip
    # Even when asked directly (a stale button, a script) the bridge refuses.
    before = len(store)
    assert queue.retry_selected() == 0
    assert session.bridge.transfers.retry([evil.transfer_id, rows["pkg/.."].transfer_id]) == 0
    assert len(store) == before
    assert "Retry refused for 2 transfer(s)" in messages[-1]
    assert "Retry refused" in session.window.statusBar().currentMessage()

    # 2. Inside "pkg/": a folder ".." (prefix pkg/../) and a file ".." (key pkg/..).
    await browser.navigate(Location(name, "pkg/"))
    entries = {(e.name, e.is_folder) for e in browser.objects.entries}
    assert entries == {("ok.txt", False), ("..", True), ("..", False)}
    browser.select_names({".."})
    result = await browser.download_selection_to(str(dest))
    assert result is not None
    assert result.files_done == 0
    assert any("folder(s) skipped" in m and "pkg/../" in m for m in messages)
    new = list(store.rows[before:])
    assert [r.source for r in new] == [f"s3://{name}/pkg/.."]  # the folder never started
    assert new[0].status == Status.FAILED
    assert new[0].destination == str(dest)
    assert session.bridge.transfers.retry([new[0].transfer_id]) == 0
    assert len(store) == before + 1

    # Nothing left the chosen folder; no error reached the crash dialog.
    assert _tree(outer) == {"dest", "dest/pkg", "dest/pkg/ok.txt"}
    assert not [p for p in _tree(tmp_path) if "evil" in Path(p).name]
    assert hooked == []


@pytest.mark.asyncio
async def test_retry_derives_the_download_path_from_the_key(
    session: Any, seaweed: Any, bucket: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = bucket(seaweed)
    engine = session.bridge.engine
    await engine.put_bytes(name, "docs/a.txt", b"first")
    browser = session.window.browser
    await session.bridge.refresh_buckets()
    await browser.navigate(Location(name, "docs/"))
    browser.select_names({"a.txt"})
    await engine.delete_objects(name, ["docs/a.txt"])  # listed, then gone: the download fails
    dest = tmp_path / "dest"
    dest.mkdir()
    _messages, hooked = _record(session, monkeypatch)
    result = await browser.download_selection_to(str(dest))
    assert result is not None
    assert len(result.failed) == 1
    store = session.queue_model.store
    (failed,) = store.rows
    assert failed.status == Status.FAILED
    assert failed.retryable
    assert (failed.local_root, failed.strip_prefix) == (str(dest), "docs/")
    # The row's destination is only shown: a retry derives the path from root, key, prefix.
    failed.destination = str(tmp_path / "elsewhere.txt")

    await engine.put_bytes(name, "docs/a.txt", b"second")
    queue = session.window.queue
    await _select_row(session, failed.transfer_id)
    assert queue.retry_action.isEnabled()
    assert queue.retry_selected() == 1
    # Retry reuses the row (issue 15, bug 11): same id, back to queued, then done.
    (again,) = store.rows
    assert again is failed
    assert again.status in (Status.QUEUED, Status.RUNNING, Status.COMPLETED)
    assert not again.error
    await until(lambda: store.rows[0].status.finished, what="retried row")
    assert len(store) == 1
    assert again.status == Status.COMPLETED, again.error
    assert again.destination == str(dest.resolve() / "a.txt")
    assert (again.local_root, again.strip_prefix) == (str(dest), "docs/")  # retryable again
    assert (dest / "a.txt").read_bytes() == b"second"
    assert not (tmp_path / "elsewhere.txt").exists()
    assert hooked == []


@pytest.mark.asyncio
async def test_commands_while_disconnected_show_a_message_and_raise_nothing(
    offline_session: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = offline_session
    bridge = session.bridge
    assert not bridge.connected
    messages, hooked = _record(session, monkeypatch)
    # A failed upload row in the queue, as an earlier connection would have left it.
    store = session.queue_model.store
    local = tmp_path / "f.txt"
    local.write_bytes(b"x")
    store.apply(TransferQueued(7, "upload", str(local), "s3://b/f.txt", 1), 0.0)
    store.apply(TransferFailed(7, LocalFileError("gone")), 0.0)

    tasks = [
        bridge.transfers.upload_paths([local], "b", ""),
        bridge.transfers.download_entries("b", [Entry("f.txt", "f.txt", False, 1)], tmp_path, ""),
        bridge.transfers.download_entries("b", [Entry("d", "d/", True)], tmp_path, ""),
        bridge.refresh_buckets(),
        bridge.new_folder("b", "", "n"),
        bridge.head("b", "k"),
        bridge.listing.open_location(ObjectTableModel(), "b", ""),
    ]
    for task in tasks:
        assert await task is None
    assert bridge.transfers.cancel([7]) == 0
    assert bridge.transfers.pause([7]) == 0
    assert bridge.transfers.resume([7]) == 0
    assert bridge.transfers.retry([7]) == 0
    assert len(messages) == len(tasks) + 4
    assert all("not connected" in m for m in messages), messages
    assert "not connected" in session.window.statusBar().currentMessage()
    assert hooked == []


@pytest.mark.asyncio
async def test_links_left_out_of_a_dropped_folder_are_named_in_the_status_bar(
    session: Any, seaweed: Any, bucket: Any, tmp_path: Path
) -> None:
    name = bucket(seaweed)
    folder = tmp_path / "album"
    folder.mkdir()
    (folder / "one.jpg").write_bytes(b"jpeg")
    (folder / "shortcut.jpg").symlink_to(folder / "one.jpg")
    notices: list[str] = []
    session.bridge.notice.connect(notices.append)
    result = await session.bridge.transfers.upload_paths([folder], name, "")
    assert result is not None
    assert result.files_done == 1
    keys = {o["Key"] for o in boto3_client(seaweed).list_objects_v2(Bucket=name)["Contents"]}
    assert keys == {"album/one.jpg"}
    assert notices == [
        f"Uploaded 1 file(s); 1 left out — {folder / 'shortcut.jpg'}: "
        "symbolic link not followed (following links is off)"
    ]
    assert "shortcut.jpg" in session.window.statusBar().currentMessage()
