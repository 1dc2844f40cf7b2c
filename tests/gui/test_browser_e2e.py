"""The window against the real SeaweedFS fixture: browse, filter, drop, cancel, delete, download.

Async tests on the qasync loop: no nested Qt loops here (``until`` polls instead).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import sha256, until
from PySide6.QtCore import QMimeData, QModelIndex, QPoint, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget

from s3z_gui.models.history import Location
from s3z_gui.models.object_model import EntryRole
from s3z_gui.models.transfer_store import Column, Status

MiB = 1024 * 1024


def _drop(widget: QWidget, mime: QMimeData) -> bool:
    pos = QPoint(20, 20)  # the pinned 6.11 has only the QPoint overloads (QPointF came in 6.12)
    act, btn, mod = (
        Qt.DropAction.CopyAction,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    enter = QDragEnterEvent(pos, act, mime, btn, mod)
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    QApplication.sendEvent(widget, QDragMoveEvent(pos, act, mime, btn, mod))
    drop = QDropEvent(pos, act, mime, btn, mod)
    QApplication.sendEvent(widget, drop)
    return drop.isAccepted()


def _names(session: Any) -> list[str]:
    proxy = session.window.browser.proxy
    return [proxy.index(r, 0).data() for r in range(proxy.rowCount())]


def _entries(session: Any) -> dict[str, Any]:
    model = session.window.browser.objects
    return {e.name: e for e in model.entries}


async def _open(session: Any, bucket: str, prefix: str = "") -> None:
    await session.bridge.refresh_buckets()
    await session.window.browser.navigate(Location(bucket, prefix))


@pytest.mark.asyncio
async def test_browse_into_folders_back_up_and_filter(
    session: Any, seaweed: Any, bucket: Any
) -> None:
    name = bucket(seaweed)
    engine = session.bridge.engine
    for key in ("docs/a.txt", "docs/b.md", "docs/deep/c.txt", "top.txt", "photos/x.jpg"):
        await engine.put_bytes(name, key, key.encode())
    browser = session.window.browser
    await _open(session, name)
    assert _names(session) == ["docs", "photos", "top.txt"]  # folders first
    assert browser.address.text() == f"s3://{name}/"
    # into a folder by activating its row
    docs_row = next(
        r for r in range(browser.proxy.rowCount()) if browser.proxy.index(r, 0).data() == "docs"
    )
    browser._open_index(browser.proxy.index(docs_row, 0))
    await until(
        lambda: not browser.objects.loading and browser.location.prefix == "docs/",
        what="docs listing",
    )
    assert _names(session) == ["deep", "a.txt", "b.md"]
    assert browser.address.text() == f"s3://{name}/docs/"
    # deeper through the address bar
    browser.address.setText(f"s3://{name}/docs/deep")
    browser._address_entered()
    await until(lambda: not browser.objects.loading and browser.location.prefix == "docs/deep/")
    assert _names(session) == ["c.txt"]
    browser.go_back()
    await until(lambda: not browser.objects.loading and browser.location.prefix == "docs/")
    browser.go_forward()
    await until(lambda: not browser.objects.loading and browser.location.prefix == "docs/deep/")
    browser.go_up()
    await until(lambda: not browser.objects.loading and browser.location.prefix == "docs/")
    # filter as you type
    browser.filter.setText("MD")
    assert _names(session) == ["b.md"]
    browser.filter.clear()
    assert len(_names(session)) == 3
    # a bad address is a message, not a traceback
    messages: list[str] = []
    session.bridge.failed.connect(messages.append)
    browser.address.setText("s3://")
    browser._address_entered()
    assert messages
    assert messages[-1].startswith("Not an S3 address")


@pytest.mark.asyncio
async def test_listing_pages_in_with_fetch_more(
    session: Any, seaweed: Any, bucket: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import s3z_gui.controllers.listing as listing_module

    monkeypatch.setattr(listing_module, "PAGE_SIZE", 7)
    name = bucket(seaweed)
    engine = session.bridge.engine
    for i in range(30):
        await engine.put_bytes(name, f"k{i:03d}", b"x")
    browser = session.window.browser
    await _open(session, name)
    model = browser.objects
    assert 7 <= model.rowCount() < 30  # one page, not everything
    requested: list[int] = []
    model.moreRequested.connect(requested.append)
    for _ in range(400):  # what scrolling to the end does: fetchMore while it says there is more
        if model.rowCount() == 30 and not model.loading:
            break
        if model.canFetchMore(QModelIndex()):
            model.fetchMore(QModelIndex())
        await asyncio.sleep(0.02)
    assert model.rowCount() == 30
    assert len(requested) >= 3  # 30 keys in pages of 7: at least 4 pages, 3 of them on request
    assert not model.canFetchMore(QModelIndex())
    assert sorted(e.name for e in model.entries) == [f"k{i:03d}" for i in range(30)]


@pytest.mark.asyncio
async def test_drop_three_files_and_a_folder_uploads_them(
    session: Any, seaweed: Any, bucket: Any, tmp_path: Path
) -> None:
    name = bucket(seaweed)
    browser = session.window.browser
    await _open(session, name)
    assert "empty" in browser.table.placeholder.lower()
    sizes = {"a.bin": 1, "b ü.txt": 70_000, "c.dat": 3 * MiB + 5}
    paths = []
    for file_name, size in sizes.items():
        path = tmp_path / file_name
        path.write_bytes(os.urandom(size))
        paths.append(path)
    folder = tmp_path / "album"
    (folder / "2024").mkdir(parents=True)
    (folder / "one.jpg").write_bytes(os.urandom(1234))
    (folder / "2024" / "two.jpg").write_bytes(os.urandom(4321))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in [*paths, folder]])
    # web links are refused
    web = QMimeData()
    web.setUrls([QUrl("https://example.com/x")])
    assert not _drop(browser.table.viewport(), web)
    assert _drop(browser.table.viewport(), mime)

    store = session.queue_model.store
    await until(
        lambda: len(store) == 5 and all(r.status.finished for r in store.rows), what="5 uploads"
    )
    assert {r.status for r in store.rows} == {Status.COMPLETED}
    # The folder is one row with its two files beneath it (issue 15, bug 14).
    model = session.queue_model
    await until(lambda: model.rowCount() == 4)
    (folder_row,) = [r for r in range(4) if model.rowCount(model.index(r, 0)) == 2]
    assert model.index(folder_row, 0).data() == "album (2 files)"
    assert model.index(folder_row, Column.SIZE).data() == "5.6 kB"
    await until(
        lambda: not browser.objects.loading and "album" in _entries(session), what="refresh"
    )
    entries = _entries(session)
    for file_name, size in sizes.items():
        assert entries[file_name].size == size
    assert entries["album"].is_folder
    heads = {
        k: (await session.bridge.engine.head_object(name, k)).size
        for k in ("album/one.jpg", "album/2024/two.jpg")
    }
    assert heads == {"album/one.jpg": 1234, "album/2024/two.jpg": 4321}
    assert "done" in session.window.totals_label.text()


@pytest.mark.asyncio
async def test_cancel_a_large_upload_leaves_no_multipart_upload(
    session: Any, seaweed: Any, bucket: Any, tmp_path: Path
) -> None:
    name = bucket(seaweed)
    browser = session.window.browser
    await _open(session, name)
    big = tmp_path / "big.img"
    with big.open("wb") as handle:
        handle.truncate(768 * MiB)  # sparse: multipart (threshold 64 MiB), slow enough to cancel
    task = browser.upload([str(big)])
    assert task is not None
    store = session.queue_model.store
    await until(lambda: len(store) == 1 and store.rows[0].done_bytes > 0, what="upload started")
    queue = session.window.queue
    await until(lambda: session.queue_model.rowCount() == 1)
    queue.select_transfer(store.rows[0].transfer_id)
    assert queue.cancel_action.isEnabled()
    assert queue.cancel_selected() == 1
    await until(lambda: store.rows[0].status.finished, what="cancelled")
    assert store.rows[0].status == Status.CANCELLED
    await task
    assert await session.bridge.engine.list_multipart_uploads(name) == []
    # the queue's actions follow the row on the next ~100 ms tick
    await until(queue.retry_action.isEnabled, what="retry enabled for the cancelled row")
    assert session.queue_model.index(0, 6).data() == "Cancelled"


@pytest.mark.asyncio
async def test_delete_selected_objects_and_folder(session: Any, seaweed: Any, bucket: Any) -> None:
    name = bucket(seaweed)
    engine = session.bridge.engine
    for key in ("keep.txt", "gone1.txt", "gone2.txt", "dir/x", "dir/y/z"):
        await engine.put_bytes(name, key, b"data")
    browser = session.window.browser
    await _open(session, name)
    browser.select_names({"gone1.txt", "gone2.txt", "dir"})
    assert {e.name for e in browser.selected_entries()} == {"gone1.txt", "gone2.txt", "dir"}
    task = browser.delete_selection()
    assert task is not None
    assert await task == 4
    remaining = [o.key async for o in engine.iter_objects(name)]
    assert remaining == ["keep.txt"]
    await until(
        lambda: not browser.objects.loading and "gone1.txt" not in _entries(session),
        what="refresh",
    )
    # SeaweedFS keeps an emptied directory as a common prefix ("dir/"); AWS would not.
    # What matters is that no object is left under it (checked above with iter_objects).
    assert set(_entries(session)) - {"dir"} == {"keep.txt"}


@pytest.mark.asyncio
async def test_download_selection_to_a_folder(
    session: Any, seaweed: Any, bucket: Any, tmp_path: Path
) -> None:
    name = bucket(seaweed)
    src = tmp_path / "src"
    src.mkdir()
    blobs = {
        "photos/a.jpg": os.urandom(200_000),
        "photos/sub/b.jpg": os.urandom(70 * MiB + 3),
        "photos/c.txt": b"hi",
    }
    engine = session.bridge.engine
    for key, data in blobs.items():
        if len(data) > MiB:
            path = src / "big"
            path.write_bytes(data)
            await engine.upload_file(path, name, key).result()
        else:
            await engine.put_bytes(name, key, data)
    browser = session.window.browser
    await _open(session, name, "photos/")
    browser.select_names({"a.jpg", "sub"})
    dest = tmp_path / "dest"
    dest.mkdir()
    task = browser.download_selection_to(str(dest))
    assert task is not None
    result = await task
    assert result is not None
    assert result.ok
    assert sha256(dest / "a.jpg") == sha256_bytes(blobs["photos/a.jpg"])
    assert sha256(dest / "sub" / "b.jpg") == sha256_bytes(blobs["photos/sub/b.jpg"])
    assert not (dest / "c.txt").exists()  # not selected
    rows = session.queue_model.store.rows
    downloads = [r for r in rows if r.direction == "download"]  # the seeding upload is a row too
    assert len(downloads) == 2
    assert all(r.status == Status.COMPLETED for r in downloads)


def sha256_bytes(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


@pytest.mark.asyncio
async def test_new_folder_properties_and_s3_errors_in_the_status_bar(
    session: Any, seaweed: Any, bucket: Any
) -> None:
    name = bucket(seaweed)
    browser = session.window.browser
    await _open(session, name)
    task = browser.new_folder("reports")
    assert task is not None
    await task
    await until(
        lambda: not browser.objects.loading and "reports" in _entries(session), what="folder"
    )
    assert _entries(session)["reports"].is_folder
    await session.bridge.engine.put_bytes(
        name, "m.txt", b"abc", content_type="text/plain", metadata={"owner": "qa"}
    )
    head = await session.bridge.head(name, "m.txt")
    assert head is not None
    assert head.size == 3
    from s3z_gui.views.properties_dialog import PropertiesDialog

    dialog = PropertiesDialog(name, head, session.window)
    assert dialog.metadata.rowCount() == 1
    assert dialog.metadata.item(0, 1).text() == "qa"
    dialog.deleteLater()
    messages: list[str] = []
    session.bridge.failed.connect(messages.append)
    assert await session.bridge.head(name, "missing.txt") is None
    assert messages
    assert "NoSuchKey" in messages[-1] or "404" in messages[-1]
    assert "Traceback" not in messages[-1]
    assert "⚠" in session.window.statusBar().currentMessage()
    url = session.bridge.presign(name, "m.txt")
    assert url is not None
    assert url.startswith(seaweed.endpoint_url)
    assert "X-Amz-Signature" in url
    assert browser.proxy.index(0, 0).data(EntryRole) is not None
