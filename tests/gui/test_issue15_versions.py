"""Issue 15, "Versions": the browser's Show versions page on SeaweedFS with versioning on.

boto3's ``list_object_versions`` is the oracle for what is listed; downloads are checked by
sha256 against the bytes that were uploaded as that version."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import sha256, until
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QMessageBox
from servers import boto3_client

import s3z_gui.controllers.versions as versions_controller
from s3z_gui.models.history import Location
from s3z_gui.models.version_model import LATEST, NAME, SIZE, VersionRow


@pytest.fixture
def versioned(seaweed: Any, bucket: Any) -> Iterator[str]:
    name = bucket(seaweed, "gv")
    client = boto3_client(seaweed)
    client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    yield name
    for page in client.get_paginator("list_object_versions").paginate(Bucket=name):
        for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
            client.delete_object(Bucket=name, Key=entry["Key"], VersionId=entry["VersionId"])


def boto3_level(seaweed: Any, name: str, prefix: str) -> tuple[set[tuple[Any, ...]], list[str]]:
    """(key, version id, latest, marker, size) of one folder level, and its folders."""
    out: set[tuple[Any, ...]] = set()
    folders: list[str] = []
    pages = boto3_client(seaweed).get_paginator("list_object_versions")
    for page in pages.paginate(Bucket=name, Prefix=prefix, Delimiter="/"):
        for v in page.get("Versions", []):
            out.add((v["Key"], v["VersionId"], v["IsLatest"], False, v["Size"]))
        for m in page.get("DeleteMarkers", []):
            out.add((m["Key"], m["VersionId"], m["IsLatest"], True, 0))
        folders += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    return out, folders


def as_tuples(rows: list[VersionRow]) -> set[tuple[Any, ...]]:
    return {
        (r.key, r.version_id, r.is_latest, r.delete_marker, r.size) for r in rows if not r.is_folder
    }


async def open_versions(session: Any, name: str, prefix: str) -> Any:
    browser = session.window.browser
    await session.bridge.refresh_buckets()
    await browser.navigate(Location(name, prefix))
    browser.modes.show_versions_action.setChecked(True)
    view = browser.modes.versions
    assert browser.modes.stack.currentWidget() is view
    await view.last_task
    return view


async def load_all(view: Any) -> None:
    model = view.model
    while model.has_more:
        model.fetchMore(QModelIndex())  # as a scroll to the end does (no-op while loading)
        await until(lambda: not model.loading, what="the next page of versions")


def select(view: Any, predicate: Any) -> VersionRow:
    rows = [i for i, r in enumerate(view.model.rows) if predicate(r)]
    assert len(rows) == 1, rows
    selection = view.table.selectionModel()
    flags = selection.SelectionFlag
    selection.select(view.model.index(rows[0], 0), flags.ClearAndSelect | flags.Rows)
    return view.model.rows[rows[0]]  # type: ignore[no-any-return]


@pytest.mark.asyncio
async def test_versions_page_in_lazily_and_equal_boto3(
    session: Any, seaweed: Any, versioned: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Paged (5 a page here): the first page only until the view asks for more; all pages
    together are exactly boto3's level, folders once, markers distinct, nothing re-sorted."""
    monkeypatch.setattr(versions_controller, "PAGE_SIZE", 5)
    client = boto3_client(seaweed)
    for round_ in range(3):
        for key in ("d/a b+%.txt", "d/é.bin", "d/sub/x", "d/z"):
            client.put_object(Bucket=versioned, Key=key, Body=os.urandom(10 + round_))
    client.delete_object(Bucket=versioned, Key="d/z")
    client.put_object(Bucket=versioned, Key="elsewhere", Body=b"not in d/")
    view = await open_versions(session, versioned, "d/")
    model = view.model
    assert 0 < model.rowCount() <= 6, "one page (5 entries and maybe the folder) to start"
    assert model.has_more, "more pages wait until the view asks (it does as it fills)"
    pages_seen: list[list[VersionRow]] = [list(model.rows)]
    await load_all(view)
    pages_seen.append(list(model.rows))
    assert pages_seen[1][: len(pages_seen[0])] == pages_seen[0], "pages append, never re-sort"
    want, folders = boto3_level(seaweed, versioned, "d/")
    assert as_tuples(model.rows) == want
    assert len([r for r in model.rows if not r.is_folder]) == len(want) == 10
    assert [r.key for r in model.rows if r.is_folder] == folders == ["d/sub/"]
    z = [i for i, r in enumerate(model.rows) if r.key == "d/z"]
    marker = model.rows[z[0]]
    assert marker.delete_marker
    assert marker.is_latest
    index = model.index(z[0], NAME)
    assert index.data(Qt.ItemDataRole.FontRole).italic()
    assert not index.data(Qt.ItemDataRole.DecorationRole).isNull()
    assert model.index(z[0], SIZE).data() == "Delete marker"
    assert model.index(z[0], LATEST).data() == "Latest"
    plain = model.index(z[1], NAME).data(Qt.ItemDataRole.FontRole)
    assert plain is None or not plain.italic(), "an older version is not a marker"
    # Following the browser: a folder row opens that folder's versions.
    folder_row = next(i for i, r in enumerate(model.rows) if r.is_folder)
    view.table.doubleClicked.emit(model.index(folder_row, 0))
    await until(lambda: model.prefix == "d/sub/" and not model.loading, what="sub folder")
    assert session.window.browser.location == Location(versioned, "d/sub/")
    assert as_tuples(model.rows) == boto3_level(seaweed, versioned, "d/sub/")[0]


@pytest.mark.asyncio
async def test_download_an_older_version_is_that_versions_bytes(
    session: Any, seaweed: Any, versioned: str, tmp_path: Path
) -> None:
    client = boto3_client(seaweed)
    old, new = os.urandom(300_000), os.urandom(120_000)
    client.put_object(Bucket=versioned, Key="docs/report.bin", Body=old)
    client.put_object(Bucket=versioned, Key="docs/report.bin", Body=new)
    view = await open_versions(session, versioned, "docs/")
    older = select(view, lambda r: not r.is_latest)
    assert older.size == len(old)
    assert view.download_action.isEnabled()
    result = await view.download_selection_to(str(tmp_path))
    assert result is not None
    assert result.files_done == 1
    assert not result.failed
    landed = tmp_path / "report.bin"
    assert sha256(landed) == hashlib.sha256(old).hexdigest()
    assert sha256(landed) != hashlib.sha256(new).hexdigest()
    rows = session.queue_model.store.rows
    assert [r.spec.version_id for r in rows if r.spec is not None] == [older.version_id]


@pytest.mark.asyncio
async def test_restore_makes_an_old_version_latest(
    session: Any, seaweed: Any, versioned: str
) -> None:
    client = boto3_client(seaweed)
    old, new = os.urandom(5000), os.urandom(7000)
    client.put_object(Bucket=versioned, Key="k.txt", Body=old)
    client.put_object(Bucket=versioned, Key="k.txt", Body=new)
    view = await open_versions(session, versioned, "")
    older = select(view, lambda r: r.key == "k.txt" and not r.is_latest)
    assert view.restore_action.isEnabled()
    select(view, lambda r: r.key == "k.txt" and r.is_latest)
    assert not view.restore_action.isEnabled(), "the latest is latest already"
    select(view, lambda r: r.version_id == older.version_id)
    await view.restore_selection()
    body = client.get_object(Bucket=versioned, Key="k.txt")["Body"].read()
    assert hashlib.sha256(body).digest() == hashlib.sha256(old).digest()
    rows = [r for r in view.model.rows if r.key == "k.txt"]
    assert len(rows) == 3, "restoring adds a version; the ones in between stay"
    assert [r.is_latest for r in rows] == [True, False, False]
    assert rows[0].etag == older.etag
    assert as_tuples(view.model.rows) == boto3_level(seaweed, versioned, "")[0]


@pytest.mark.asyncio
async def test_a_delete_marker_is_shown_and_removed_after_confirming(
    session: Any, seaweed: Any, versioned: str
) -> None:
    client = boto3_client(seaweed)
    body = os.urandom(4000)
    client.put_object(Bucket=versioned, Key="gone.txt", Body=body)
    client.delete_object(Bucket=versioned, Key="gone.txt")
    browser = session.window.browser
    browser.confirm_deletes = True
    view = await open_versions(session, versioned, "")
    select(view, lambda r: r.delete_marker)
    box = view.ask_delete_selection()
    assert box is not None
    assert box.isVisible()
    assert "delete marker of gone.txt" in box.text()
    delete = next(b for b in box.buttons() if b.text() == "Delete")
    assert box.buttonRole(delete) == QMessageBox.ButtonRole.DestructiveRole
    delete.click()
    await until(
        lambda: not view.model.loading and not any(r.delete_marker for r in view.model.rows),
        what="the marker gone from the view",
    )
    got = client.get_object(Bucket=versioned, Key="gone.txt")["Body"].read()
    assert hashlib.sha256(got).digest() == hashlib.sha256(body).digest(), "the key is back"
    want, _ = boto3_level(seaweed, versioned, "")
    assert as_tuples(view.model.rows) == want
    assert not any(entry[3] for entry in want)


@pytest.mark.asyncio
async def test_deleting_an_old_version_keeps_the_rest(
    session: Any, seaweed: Any, versioned: str
) -> None:
    client = boto3_client(seaweed)
    for body in (b"one", b"two", b"three"):
        client.put_object(Bucket=versioned, Key="v.txt", Body=body)
    view = await open_versions(session, versioned, "")
    middle = view.model.rows[1]
    select(view, lambda r: r.version_id == middle.version_id)
    await view.delete_selection()
    want, _ = boto3_level(seaweed, versioned, "")
    assert middle.version_id not in {entry[1] for entry in want}
    assert len(want) == 2
    assert as_tuples(view.model.rows) == want
    assert client.get_object(Bucket=versioned, Key="v.txt")["Body"].read() == b"three"


@pytest.mark.asyncio
async def test_bucket_context_menu_switches_versioning(
    session: Any, seaweed: Any, bucket: Any
) -> None:
    name = bucket(seaweed)
    client = boto3_client(seaweed)
    browser = session.window.browser
    modes = browser.modes
    assert modes.versioning_action in browser.bucket_list.actions()
    await session.bridge.refresh_buckets()
    await browser.navigate(Location(name, ""))
    await until(lambda: modes.versioning_task is not None, what="versioning read")
    await modes.versioning_task
    assert modes.versioning_action.isEnabled()
    assert not modes.versioning_action.isChecked()
    modes.versioning_action.trigger()  # checks it: enable
    assert await modes.versioning_task == "Enabled"
    assert client.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    assert modes.versioning_action.isChecked()
    modes.versioning_action.trigger()
    assert await modes.versioning_task == "Suspended"
    assert client.get_bucket_versioning(Bucket=name)["Status"] == "Suspended"
    assert not modes.versioning_action.isChecked()


def test_the_model_appends_pages_and_never_resorts(qapp: Any) -> None:
    """120,000 versions in 120 pages: one row insert per page, never a reset or a re-layout
    (which would touch every row seen so far), earlier rows unchanged."""
    from datetime import UTC, datetime

    from s3z_core.models import ObjectVersion, VersionPage
    from s3z_gui.models.version_model import VersionTableModel

    model = VersionTableModel()
    generation = model.reset_location("b", "p/")
    signals = {"inserted": 0, "reset": 0, "layout": 0}
    model.rowsInserted.connect(lambda *_: signals.__setitem__("inserted", signals["inserted"] + 1))
    model.modelReset.connect(lambda: signals.__setitem__("reset", signals["reset"] + 1))
    model.layoutChanged.connect(lambda *_: signals.__setitem__("layout", signals["layout"] + 1))
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    first_rows: list[VersionRow] = []
    for page_number in range(120):
        versions = [
            ObjectVersion(f"p/k{page_number:03d}-{i:03d}", f"v{i}", i == 0, i == 1, 5, "e", moment)
            for i in range(1000)
        ]
        added = model.append_page(generation, VersionPage(versions, [], page_number < 119, "", ""))
        assert added == 1000
        if page_number == 0:
            first_rows = list(model.rows)
    assert model.rowCount() == 120_000
    assert signals == {"inserted": 120, "reset": 0, "layout": 0}
    assert model.rows[:1000] == first_rows
    assert not model.has_more
    assert model.append_page(generation - 1, VersionPage(versions, [], True, "", "")) == 0
