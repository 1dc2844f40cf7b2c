"""Issue 15, "Search a bucket": the browser's search page on SeaweedFS.

What a search finds is checked against a brute-force filter of boto3's listing (plain
``in``/``fnmatch``, not the app's own matcher). Streaming and Cancel are shown by counting
the ListObjectsV2 answers the engine had received when rows appeared, not by timing."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest
from conftest import sha256, until
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from servers import boto3_client, delete_bucket

from s3z_gui.models.history import Location
from s3z_gui.models.search_model import FLUSH_ROWS, SearchState

#: 2,600 matches over 3+ full ListObjectsV2 pages: more than one flush, more than one page.
BULK = 2600
EXTRA = {
    "deep/dir/target-Report.txt": b"the one to find " * 100,
    "deep/report-2.csv": b"a,b\n" * 500,
    "top-report.md": b"# r\n" * 50,
    "other/photo.JPG": b"\xff\xd8" * 300,
    "other/notes.txt": b"nothing here",
}


@pytest.fixture(scope="module")
def filled(seaweed: Any) -> Iterator[str]:
    name = f"gsearch-{uuid.uuid4().hex[:12]}"
    client = boto3_client(seaweed)
    client.create_bucket(Bucket=name)
    keys = [f"bulk/{i % 7}/item-{i:05d}.dat" for i in range(BULK)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda k: client.put_object(Bucket=name, Key=k, Body=b"d"), keys))
    for key, body in EXTRA.items():
        client.put_object(Bucket=name, Key=key, Body=body)
    yield name
    delete_bucket(seaweed, name)


def brute_force(seaweed: Any, name: str, prefix: str, text: str) -> set[str]:
    pages = boto3_client(seaweed).get_paginator("list_objects_v2")
    keys = [o["Key"] for p in pages.paginate(Bucket=name, Prefix=prefix) for o in p["Contents"]]
    rel = {k: k[len(prefix) :].lower() for k in keys}
    if "*" in text:
        return {k for k, r in rel.items() if fnmatch(r, text.lower())}
    return {k for k, r in rel.items() if text.lower() in r}


def count_listing(session: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Counts the ListObjectsV2 requests the engine started and got answers to."""
    ops = session.bridge.engine.ops
    original = ops.list_objects_v2
    seen = {"started": 0, "answered": 0}

    async def counted(*args: Any, **kwargs: Any) -> Any:
        seen["started"] += 1
        page = await original(*args, **kwargs)
        seen["answered"] += 1
        return page

    monkeypatch.setattr(ops, "list_objects_v2", counted)
    return seen


async def open_search(session: Any, name: str, prefix: str = "") -> Any:
    browser = session.window.browser
    await session.bridge.refresh_buckets()
    await browser.navigate(Location(name, prefix))
    browser.modes.search_action.trigger()
    panel = browser.modes.search
    assert browser.modes.stack.currentWidget() is panel
    return panel


@pytest.mark.asyncio
@pytest.mark.parametrize(("prefix", "text"), [("", "report"), ("", "*.jpg"), ("deep/", "RE")])
async def test_search_finds_what_a_brute_force_filter_finds(
    session: Any, seaweed: Any, filled: str, prefix: str, text: str
) -> None:
    panel = await open_search(session, filled, prefix)
    panel.field.setText(text)
    task = panel.start()
    assert task is not None
    count = await task
    want = brute_force(seaweed, filled, prefix, text)
    got = [r.key for r in panel.model.results]
    assert len(got) == len(set(got)), "each match once"
    assert set(got) == want
    assert want, "the case must find something"
    assert count == len(want)
    assert panel.model.state is SearchState.DONE
    assert panel.status.text() == f"{len(want):,} found"
    assert not panel.cancel_button.isEnabled()


@pytest.mark.asyncio
async def test_results_stream_in_before_the_listing_ends(
    session: Any, seaweed: Any, filled: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows appear while the listing still has pages to fetch: at the first insert the
    engine had fewer ListObjectsV2 answers than the whole search took."""
    seen = count_listing(session, monkeypatch)
    panel = await open_search(session, filled, "bulk/")
    inserts: list[tuple[int, int, bool]] = []  # (rows, pages answered, search running)
    panel.model.rowsInserted.connect(
        lambda *_: inserts.append(
            (panel.model.rowCount(), seen["answered"], session.bridge.search.running(panel.model))
        )
    )
    panel.field.setText("*.dat")
    count = await panel.start()
    assert count == BULK
    assert len(inserts) >= 2, "more than one batch of rows"
    rows, answered, running = inserts[0]
    assert running
    assert rows < BULK
    assert answered < seen["answered"], (inserts[:3], seen)
    assert seen["answered"] >= 3


@pytest.mark.asyncio
async def test_cancel_stops_the_listing(
    session: Any, seaweed: Any, filled: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = count_listing(session, monkeypatch)
    panel = await open_search(session, filled, "bulk/")
    cancelled_at: list[int] = []

    def first_rows(*_: object) -> None:
        if not cancelled_at:
            cancelled_at.append(seen["started"])
            assert panel.cancel_button.isEnabled()
            panel.cancel_button.click()

    panel.model.rowsInserted.connect(first_rows)
    panel.field.setText("item")
    task = panel.start()
    assert task is not None
    await asyncio.wait([task])
    assert task.cancelled()
    assert panel.model.state is SearchState.CANCELLED
    assert "cancelled" in panel.status.text()
    assert panel.model.rowCount() == FLUSH_ROWS, "what had arrived stays; nothing after"
    started = seen["started"]
    for _ in range(20):  # give a stray request every chance to show itself
        await until(lambda: True)
        await session.bridge.engine.bucket_exists(filled)
    assert seen["started"] == started, "no listing request after Cancel"
    assert seen["answered"] < 3, "the whole listing needs 3+ pages; it stopped before that"
    assert panel.model.rowCount() == FLUSH_ROWS


@pytest.mark.asyncio
async def test_ctrl_f_opens_search_and_double_click_reveals_the_result(
    session: Any, seaweed: Any, filled: str
) -> None:
    browser = session.window.browser
    await session.bridge.refresh_buckets()
    await browser.navigate(Location(filled, ""))
    session.window.activateWindow()
    browser.table.setFocus()
    await until(lambda: QApplication.focusWidget() is browser.table, what="focus on the table")
    QTest.keyClick(browser.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    panel = browser.modes.search
    assert browser.modes.stack.currentWidget() is panel
    assert QApplication.focusWidget() is panel.field
    assert panel.scope.text() == f"in s3://{filled}/"
    QTest.keyClicks(panel.field, "target")
    QTest.keyClick(panel.field, Qt.Key.Key_Return)
    assert panel.last_task is not None
    assert await panel.last_task == 1
    index = panel.proxy.index(0, 0)
    panel.table.doubleClicked.emit(index)
    reveal = browser.modes.last_reveal
    assert reveal is not None
    assert await reveal is True
    assert browser.modes.stack.currentWidget() is browser.table
    assert browser.location == Location(filled, "deep/dir/")
    assert [e.key for e in browser.selected_entries()] == ["deep/dir/target-Report.txt"]


@pytest.mark.asyncio
async def test_results_download_like_browser_rows(
    session: Any, seaweed: Any, filled: str, tmp_path: Path
) -> None:
    """Keys keep their folders below the searched prefix; bytes are checked by sha256."""
    panel = await open_search(session, filled, "deep/")
    panel.field.setText("report")
    assert await panel.start() == 2
    panel.select_rows(list(range(panel.model.rowCount())))
    result = await panel.download_selection_to(str(tmp_path))
    assert result is not None
    assert result.files_done == 2
    for key in ("deep/dir/target-Report.txt", "deep/report-2.csv"):
        local = tmp_path / key[len("deep/") :]
        assert sha256(local) == hashlib.sha256(EXTRA[key]).hexdigest()
    assert panel.model.canFetchMore(QModelIndex()) is False


@pytest.mark.asyncio
async def test_a_few_matches_show_without_waiting_for_a_full_batch(qapp: Any) -> None:
    """Under ``FLUSH_ROWS`` matches still appear (a moment later), not only at the end."""
    from s3z_core.models import ObjectInfo
    from s3z_gui.models.search_model import SearchResultsModel

    model = SearchResultsModel()
    generation = model.begin("b", "", "x")
    for i in range(3):
        model.add(generation, ObjectInfo(f"k{i}", 1, "e", None))
    assert model.rowCount() == 0
    assert model.count == 3
    await until(lambda: model.rowCount() == 3, what="the small batch flushed")
    assert model.state is SearchState.SEARCHING
    model.add(generation - 1, ObjectInfo("old", 1, "e", None))
    assert model.count == 3, "a replaced search's late match is dropped"
