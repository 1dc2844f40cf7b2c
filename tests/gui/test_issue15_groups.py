"""Issue 15 bug 14 (second half): a folder transfer is one expandable queue row with totals.

The tree model stays valid under QAbstractItemModelTester through inserts, changes and
removals; a real folder upload makes one top-level row whose children are its files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import until
from PySide6.QtCore import QModelIndex
from pytestqt.modeltest import ModelTester

from s3z_core.events import (
    BytesTransferred,
    TransferCompleted,
    TransferQueued,
    TransferStarted,
    Verification,
)
from s3z_core.specs import TransferSpec
from s3z_gui.models.transfer_model import FractionRole, GroupRole, TransferQueueModel
from s3z_gui.models.transfer_store import Column, Status


def _queued(tid: int, path: str, key: str, size: int) -> TransferQueued:
    spec = TransferSpec.upload(path, "b", key, size=size)
    return TransferQueued(tid, "upload", path, f"s3://b/{key}", size, spec)


def test_a_folder_is_one_row_with_its_files_beneath(qapp: Any, qtmodeltester: ModelTester) -> None:
    now = [0.0]
    model = TransferQueueModel(clock=lambda: now[0])
    qtmodeltester.check(model, force_py=False)
    store = model.store
    group = store.open_group("upload", "album", "/p/album", "s3://b/album/", "b", "/p/album")
    model.apply(_queued(1, "/p/album/a.jpg", "album/a.jpg", 100))
    model.apply(_queued(2, "/p/single.txt", "single.txt", 10))  # not in the folder
    model.apply(_queued(3, "/p/album/2024/b.jpg", "album/2024/b.jpg", 300))
    model.apply(_queued(4, "/p/albumen/c.jpg", "albumen/c.jpg", 5))  # a prefix, not inside
    model.tick()
    assert model.rowCount() == 3
    top = model.index(0, 0)
    assert top.data(GroupRole) is group
    assert top.data() == "album (2 files)"
    assert model.rowCount(top) == 2
    assert [model.index(r, 0, top).data() for r in range(2)] == ["a.jpg", "b.jpg"]
    assert model.index(0, 0, top).parent() == top
    assert model.index(1, Column.SIZE).data() == "10 bytes"
    assert model.index(0, Column.SIZE).data() == "400 bytes"

    model.apply(_queued(5, "/p/album/c.jpg", "album/c.jpg", 600))  # a late file, same tick
    model.apply(TransferStarted(1, 100, 1))
    model.apply(BytesTransferred(1, 50))
    now[0] = 0.5
    model.tick()
    assert model.rowCount(top) == 3
    assert model.index(0, Column.PROGRESS).data(FractionRole) == pytest.approx(50 / 1000)
    assert model.index(0, Column.STATUS).data().startswith("Running (0 of 3 done)")

    for tid, size in ((1, 100), (3, 300), (5, 600), (2, 10)):
        model.apply(TransferCompleted(tid, size, Verification.VERIFIED_MD5, "e", 0.1))
    model.tick()
    assert model.index(0, 0).data(GroupRole).status == Status.RUNNING  # its batch still runs
    store.close_group(group)
    model.tick()
    assert model.index(0, Column.STATUS).data() == "Completed (3 files)"
    assert model.remove_finished() == 4  # the folder's three files and the single one
    assert model.rowCount() == 1
    assert model.index(0, 0).data() == "c.jpg"
    assert model.index_of(5) == QModelIndex()
    assert [r.transfer_id for r in store.rows] == [4]


@pytest.mark.asyncio
async def test_a_dropped_folder_of_many_files_is_one_queue_row(
    session: Any, seaweed: Any, bucket: Any, tmp_path: Path
) -> None:
    name = bucket(seaweed)
    folder = tmp_path / "photos"
    (folder / "deep").mkdir(parents=True)
    for i in range(30):
        (folder / ("deep" if i % 2 else "") / f"{i:02d}.jpg").write_bytes(b"j" * (i + 1))
    result = await session.bridge.transfers.upload_paths([folder], name, "")
    assert result is not None
    assert result.files_done == 30
    model = session.queue_model
    await until(lambda: model.rowCount() == 1 and model.rowCount(model.index(0, 0)) == 30)
    top = model.index(0, 0)
    assert top.data() == "photos (30 files)"
    assert model.index(0, Column.SIZE).data() == "465 bytes"
    assert model.index(0, Column.STATUS).data() == "Completed (30 files)"
    queue = session.window.queue
    queue.table.setCurrentIndex(top)
    assert len(queue.selected_rows()) == 30  # the folder's row stands for its files
    assert {r.status for r in queue.selected_rows()} == {Status.COMPLETED}
