"""Every Qt model under QAbstractItemModelTester, plus paging and tick behaviour."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QFontInfo
from PySide6.QtWidgets import QApplication
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from s3z_core.events import (
    BytesTransferred,
    TransferCompleted,
    TransferQueued,
    TransferStarted,
    Verification,
)
from s3z_core.models import BucketInfo, ListPage, ObjectInfo
from s3z_gui.models.bucket_model import BucketListModel
from s3z_gui.models.object_model import EntryRole, ObjectFilterProxy, ObjectTableModel
from s3z_gui.models.transfer_model import FractionRole, TransferQueueModel
from s3z_gui.models.transfer_store import Column


def _page(keys: list[str], prefixes: list[str], more: bool) -> ListPage:
    objects = [
        ObjectInfo(k, 10 * (i + 1), "e", datetime(2024, 5, 1, tzinfo=UTC), "STANDARD")
        for i, k in enumerate(keys)
    ]
    return ListPage(objects, prefixes, more, "next" if more else None)


def test_fonts_exist(qapp: QApplication) -> None:
    """Without fonts every glyph renders as a box and Qt says nothing (QT_HEADLESS.md §1)."""
    assert QFontInfo(qapp.font()).family()


def test_bucket_model(qtmodeltester: ModelTester) -> None:
    model = BucketListModel()
    model.set_buckets([BucketInfo("zeta", None), BucketInfo("alpha", datetime(2024, 1, 1))])
    qtmodeltester.check(model, force_py=False)
    assert model.bucket_names() == ["alpha", "zeta"]
    assert model.row_of("zeta") == 1
    assert model.data(model.index(0)) == "alpha"


def test_object_model_pages_in_on_fetch_more(qtmodeltester: ModelTester, qtbot: QtBot) -> None:
    model = ObjectTableModel()
    generation = model.reset_location("b", "docs/")
    qtmodeltester.check(model, force_py=False)
    assert model.loading
    assert not model.canFetchMore(QModelIndex())  # the first page is already on its way
    model.append_page(generation, _page(["docs/a.txt", "docs/b.txt"], ["docs/sub/"], True))
    assert model.rowCount() == 3
    assert model.canFetchMore(QModelIndex())
    with qtbot.waitSignal(model.moreRequested, timeout=1000) as blocker:
        model.fetchMore(QModelIndex())
    assert blocker.args == [generation]
    assert not model.canFetchMore(QModelIndex())  # no second request while one is pending
    model.append_page(generation, _page(["docs/c.txt"], [], False))
    assert model.rowCount() == 4
    assert not model.canFetchMore(QModelIndex())
    # a page for an old location is dropped
    assert model.append_page(generation - 1, _page(["docs/zzz"], [], False)) == 0
    assert model.data(model.index(0, 1)) == "Folder"
    assert model.data(model.index(1, 1)) == "10 bytes"


def test_object_proxy_sorts_folders_first_and_filters(qtmodeltester: ModelTester) -> None:
    model = ObjectTableModel()
    generation = model.reset_location("b", "")
    model.append_page(
        generation, _page(["b.txt", "A.txt", "c.bin"], ["zfolder/", "afolder/"], False)
    )
    proxy = ObjectFilterProxy()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy, force_py=False)
    proxy.sort(0, Qt.SortOrder.AscendingOrder)
    names = [proxy.index(r, 0).data() for r in range(proxy.rowCount())]
    assert names == ["afolder", "zfolder", "A.txt", "b.txt", "c.bin"]
    proxy.sort(1, Qt.SortOrder.DescendingOrder)  # by size, folders still first
    names = [proxy.index(r, 0).data() for r in range(proxy.rowCount())]
    assert names[2:] == ["c.bin", "A.txt", "b.txt"]
    assert {names[0], names[1]} == {"afolder", "zfolder"}
    proxy.set_filter_text("TXT")
    names = sorted(proxy.index(r, 0).data() for r in range(proxy.rowCount()))
    assert names == ["A.txt", "b.txt"]
    assert proxy.index(0, 0).data(EntryRole).key in ("A.txt", "b.txt")


def test_transfer_model_changes_only_on_tick(qtmodeltester: ModelTester, qtbot: QtBot) -> None:
    now = [0.0]
    model = TransferQueueModel(clock=lambda: now[0])
    qtmodeltester.check(model, force_py=False)
    model.apply(TransferQueued(1, "upload", "/tmp/a.bin", "s3://b/a.bin", 1000))
    model.apply(TransferQueued(2, "download", "s3://b/c.bin", "/tmp/c.bin", 10))
    assert model.rowCount() == 0
    with qtbot.waitSignal(model.rowsInserted, timeout=1000):
        model.tick()
    assert model.rowCount() == 2
    model.apply(TransferStarted(1, 1000, 1))
    model.tick()
    changed: list[tuple[int, int, int]] = []
    model.dataChanged.connect(
        lambda tl, br, _roles: changed.append((tl.row(), tl.column(), br.column()))
    )
    for _ in range(50):  # a burst of events costs one dataChanged per row per tick
        model.apply(BytesTransferred(1, 10))
    now[0] = 0.5
    model.tick()
    assert changed == [(0, Column.PROGRESS, Column.ETA)]
    assert model.index(0, Column.PROGRESS).data(FractionRole) == 0.5
    model.apply(TransferCompleted(2, 10, Verification.VERIFIED_MD5, "e", 0.1))
    model.tick()
    assert model.index(1, Column.STATUS).data() == "Verified"
    assert model.remove_finished() == 1
    assert model.rowCount() == 1
    assert model.index(0, Column.NAME).data() == "a.bin"
