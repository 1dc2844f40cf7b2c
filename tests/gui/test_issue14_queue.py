"""Issue 14 in the GUI: the queue's order and priorities decide what starts next, the queue and
its history outlive the app, and the "Incomplete uploads" panel sorts ours from foreign ones.

Order is observed where it matters: the order in which the server (through a ``FaultProxy``)
receives the uploads. The first upload is held at the proxy while the others wait queued
behind it (one file at a time), so the reorder happens while they are provably queued.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest
from conftest import app_session, target_for, until
from fault_proxy import FaultProxy, RecordedRequest
from PySide6.QtCore import QModelIndex, QSettings, Qt
from servers import boto3_client

from s3z_core.config import journal_endpoint
from s3z_core.specs import TransferSpec
from s3z_gui.models.conflicts import ConflictPolicy
from s3z_gui.models.queue_archive import (
    SavedRow,
    spec_from_json,
    spec_to_json,
    trim_history,
)
from s3z_gui.models.transfer_store import Priority, Status
from s3z_gui.settings.preferences import Preferences

MiB = 1 << 20


def _one_file_at_a_time(session: Any) -> None:
    session.set_preferences(
        Preferences(confirm_deletes=False, on_conflict=ConflictPolicy.OVERWRITE, files_at_once=1)
    )


def _files(tmp_path: Path, names: list[str]) -> list[Path]:
    paths = []
    for name in names:
        path = tmp_path / name
        path.write_bytes(name.encode() * 100)
        paths.append(path)
    return paths


async def _order_of_uploads(
    qapp: Any,
    qsettings: QSettings,
    seaweed: Any,
    bucket: str,
    tmp_path: Path,
    arrange: Any,
) -> list[str]:
    """Upload a, b, c one at a time with a held at the proxy; ``arrange(session)`` reorders
    the queued b and c; the keys in the order the server received them."""
    release = threading.Event()

    def hold_first(event: str, record: RecordedRequest) -> None:
        if event == "request" and record.method == "PUT" and record.path.endswith("/a.txt"):
            release.wait(timeout=60)

    files = _files(tmp_path, ["a.txt", "b.txt", "c.txt"])
    with FaultProxy(seaweed.endpoint_url) as proxy:
        proxy.watch = hold_first
        try:
            async with app_session(qapp, qsettings, tmp_path, None) as session:
                _one_file_at_a_time(session)
                assert await session.bridge.connect_to(target_for(proxy.endpoint(seaweed)))
                upload = session.bridge.transfers.upload_paths(files, bucket, "")
                model = session.queue_model
                await until(lambda: model.rowCount() == 3, what="three rows")
                rows = model.ordered_rows()
                await until(lambda: rows[0].status == Status.RUNNING, what="a running")
                assert [r.status for r in rows[1:]] == [Status.QUEUED, Status.QUEUED]
                arrange(session)
                release.set()
                result = await upload
                assert result is not None
                assert result.files_done == 3
        finally:
            release.set()
        puts = [r.path.rsplit("/", 1)[-1] for r in proxy.requests if r.method == "PUT"]
    return [p for p in puts if p.endswith(".txt")]


@pytest.mark.asyncio
async def test_dragging_a_queued_row_to_the_top_makes_it_start_next(
    qapp: Any, qsettings: QSettings, seaweed: Any, bucket: Any, tmp_path: Path, memory_keyring: Any
) -> None:
    def drag_c_to_the_top(session: Any) -> None:
        model = session.queue_model
        c = model.index(2, 0)
        data = model.mimeData([c])
        assert model.dropMimeData(data, Qt.DropAction.MoveAction, 0, 0, QModelIndex())
        assert [r.name for r in model.ordered_rows()] == ["c.txt", "a.txt", "b.txt"]
        assert model.rowCount() == 3, "a move, never a copy or a loss"

    order = await _order_of_uploads(
        qapp, qsettings, seaweed, bucket(seaweed), tmp_path, drag_c_to_the_top
    )
    assert order == ["a.txt", "c.txt", "b.txt"]


@pytest.mark.asyncio
async def test_a_high_priority_row_starts_before_earlier_normal_ones(
    qapp: Any, qsettings: QSettings, seaweed: Any, bucket: Any, tmp_path: Path, memory_keyring: Any
) -> None:
    def c_high(session: Any) -> None:
        queue = session.window.queue
        queue.select_transfer(queue.model.ordered_rows()[2].transfer_id)
        queue.priority_actions[Priority.HIGH].trigger()  # the context menu's Priority ▸ High
        assert queue.model.ordered_rows()[2].priority == Priority.HIGH
        assert "High" in queue.model.index(2, 6).data()

    order = await _order_of_uploads(qapp, qsettings, seaweed, bucket(seaweed), tmp_path, c_high)
    assert order == ["a.txt", "c.txt", "b.txt"]


@pytest.mark.asyncio
async def test_without_reordering_the_queue_keeps_arrival_order(
    qapp: Any, qsettings: QSettings, seaweed: Any, bucket: Any, tmp_path: Path, memory_keyring: Any
) -> None:
    order = await _order_of_uploads(
        qapp, qsettings, seaweed, bucket(seaweed), tmp_path, lambda _session: None
    )
    assert order == ["a.txt", "b.txt", "c.txt"]


@pytest.mark.asyncio
async def test_history_order_and_priority_survive_a_restart(
    qapp: Any, qsettings: QSettings, seaweed: Any, bucket: Any, tmp_path: Path, memory_keyring: Any
) -> None:
    name = bucket(seaweed)
    files = _files(tmp_path, ["one.txt", "two.txt"])
    target = target_for(seaweed)
    async with app_session(qapp, qsettings, tmp_path, target) as first:
        await first.bridge.transfers.upload_paths(files, name, "")
        await first.bridge.transfers.upload_paths([tmp_path / "missing.txt"], "no-such-bkt", "")
        model = first.queue_model
        await until(lambda: model.rowCount() == 3, what="three rows")
        saved = [(r.transfer_id, r.status) for r in model.ordered_rows()]
        assert [s for _, s in saved] == [Status.COMPLETED, Status.COMPLETED, Status.FAILED]
        second_row = model.index(1, 0)
        assert model.dropMimeData(
            model.mimeData([second_row]), Qt.DropAction.MoveAction, 0, 0, QModelIndex()
        )
        model.set_priority([model.ordered_rows()[2]], Priority.LOW)
        expected = [(r.transfer_id, r.name, r.status, r.priority) for r in model.ordered_rows()]
        next_id = first.bridge.transfer_ids.next_id

    async with app_session(qapp, qsettings, tmp_path, target) as second:
        model = second.queue_model
        await until(lambda: model.rowCount() == 3, what="the saved rows")
        got = [(r.transfer_id, r.name, r.status, r.priority) for r in model.ordered_rows()]
        assert got == expected
        assert not any(r.restored for r in model.ordered_rows()), "finished rows are history"
        assert second.bridge.transfer_ids.next_id >= next_id
        failed = model.ordered_rows()[2]
        assert failed.retryable
        assert failed.error
        assert second.window.queue.remove_finished() == 3

    async with app_session(qapp, qsettings, tmp_path, target) as third:
        await asyncio.sleep(0.3)  # several ticks: nothing comes back
        assert third.queue_model.rowCount() == 0, "removed rows stay removed"


def test_saved_specs_round_trip_and_history_is_trimmed() -> None:
    spec = TransferSpec.upload(
        "/d/f", "b", "k", size=3, mtime=1.5, metadata=(("a", "1"),), content_type="x/y"
    )
    assert spec_from_json(spec_to_json(spec)) == spec
    down = TransferSpec.download("b", "p/k", "/d/p/k", local_root="/d", strip_prefix="p/")
    assert spec_from_json(spec_to_json(down)) == down
    assert spec_from_json("{not json") is None
    assert spec_from_json('{"direction": "upload"}') is None  # bucket and key missing

    def row(tid: int, status: Status) -> SavedRow:
        return SavedRow(tid, Priority.NORMAL, "upload", "s", "d", 1, 0, status, "", "", "c", spec)

    rows = [row(1, Status.COMPLETED), row(2, Status.PAUSED), row(3, Status.FAILED)]
    rows.append(row(4, Status.COMPLETED))
    kept = trim_history(rows, limit=2)
    assert [r.transfer_id for r in kept] == [2, 3, 4], "the oldest finished row goes first"


@pytest.mark.asyncio
async def test_incomplete_uploads_panel_tells_ours_from_foreign_and_aborts(
    qapp: Any, qsettings: QSettings, seaweed: Any, bucket: Any, tmp_path: Path, memory_keyring: Any
) -> None:
    name = bucket(seaweed)
    client = boto3_client(seaweed)

    def start_upload(key: str, body: bytes) -> str:
        upload_id: str = client.create_multipart_upload(Bucket=name, Key=key)["UploadId"]
        client.upload_part(Bucket=name, Key=key, UploadId=upload_id, PartNumber=1, Body=body)
        return upload_id

    foreign = await asyncio.to_thread(start_upload, "foreign.bin", b"f" * 1000)
    own = await asyncio.to_thread(start_upload, "own.bin", b"o" * 3000)
    async with app_session(qapp, qsettings, tmp_path, target_for(seaweed)) as session:
        engine = session.bridge.engine
        # The journal owns "own.bin": as an interrupted transfer of this app would.
        await session.journal.start_job(
            "upload",
            journal_endpoint(engine.client_config),
            name,
            "own.bin",
            str(tmp_path / "own.bin"),
            size=3000,
            fingerprint="3000:0:0",
            part_size=5 * MiB,
            upload_id=own,
        )
        assert session.window.incomplete_uploads_action in (
            session.window.browser.bucket_list.actions()
        ), "offered on the bucket's context menu"
        dialog = session.open_incomplete_uploads(name)
        await until(lambda: len(dialog.items) == 2, what="two incomplete uploads listed")
        by_key = {i.key: i for i in dialog.items}
        assert by_key["foreign.bin"].upload_id == foreign
        assert not by_key["foreign.bin"].ours
        assert by_key["own.bin"].upload_id == own
        assert by_key["own.bin"].ours
        assert (by_key["own.bin"].parts, by_key["own.bin"].size) == (1, 3000)
        assert (by_key["foreign.bin"].parts, by_key["foreign.bin"].size) == (1, 1000)
        cells = {dialog.table.item(r, 0).text(): dialog.table.item(r, 6).text() for r in range(2)}
        assert cells == {"foreign.bin": "not ours", "own.bin": "ours"}

        dialog.hours.setValue(1)
        assert dialog.abort_older() is None, "both began just now: none is older than 1 h"

        task = dialog.abort_not_ours()
        assert task is not None
        await task
        await until(lambda: [i.key for i in dialog.items] == ["own.bin"], what="foreign gone")
        left = await asyncio.to_thread(client.list_multipart_uploads, Bucket=name)
        assert [u["UploadId"] for u in left.get("Uploads", [])] == [own]

        dialog.table.selectRow(0)
        task = dialog.abort_selected()
        assert task is not None
        await task
        await until(lambda: dialog.items == [], what="own gone")
        assert await session.journal.jobs() == [], "an aborted upload of ours is forgotten"
    left = await asyncio.to_thread(client.list_multipart_uploads, Bucket=name)
    assert left.get("Uploads", []) == []


@pytest.mark.asyncio
async def test_abort_older_than_takes_only_uploads_past_the_hours_given(
    qapp: Any,
    qsettings: QSettings,
    seaweed: Any,
    bucket: Any,
    tmp_path: Path,
    memory_keyring: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The panel's "older than N hours" acts on the age the server gives (the dialog's clock
    moved on, since an upload cannot be made old): under the mark nothing goes, past it
    every upload does, ours or not."""
    import s3z_gui.views.uploads_dialog as uploads_dialog

    name = bucket(seaweed)
    client = boto3_client(seaweed)

    def start_upload(key: str) -> str:
        upload_id: str = client.create_multipart_upload(Bucket=name, Key=key)["UploadId"]
        client.upload_part(Bucket=name, Key=key, UploadId=upload_id, PartNumber=1, Body=b"x")
        return upload_id

    for key in ("a.bin", "b.bin"):
        await asyncio.to_thread(start_upload, key)
    async with app_session(qapp, qsettings, tmp_path, target_for(seaweed)) as session:
        dialog = session.open_incomplete_uploads(name)
        await until(lambda: len(dialog.items) == 2, what="two incomplete uploads listed")
        newest = max(i.initiated.timestamp() for i in dialog.items if i.initiated is not None)

        class TwoHoursLater:
            @staticmethod
            def time() -> float:
                return newest + 2 * 3600 + 60

        monkeypatch.setattr(uploads_dialog, "time", TwoHoursLater)
        dialog.hours.setValue(3)
        assert dialog.abort_older() is None, "two hours old is not older than three"
        dialog.hours.setValue(1)
        task = dialog.abort_older()
        assert task is not None
        await task
        await until(lambda: dialog.items == [], what="both aborted")
    left = await asyncio.to_thread(client.list_multipart_uploads, Bucket=name)
    assert left.get("Uploads", []) == []


@pytest.mark.asyncio
async def test_cancelling_a_row_of_an_earlier_run_aborts_what_the_journal_kept(
    qapp: Any,
    qsettings: QSettings,
    seaweed: Any,
    bucket: Any,
    tmp_path: Path,
    memory_keyring: Any,
    state_folder: Path,
) -> None:
    from s3z_core.journal import Journal
    from s3z_gui.models.queue_archive import QueueArchive

    name = bucket(seaweed)
    client = boto3_client(seaweed)
    source = tmp_path / "left.bin"
    source.write_bytes(b"x" * 1000)

    def start_upload() -> str:
        upload_id: str = client.create_multipart_upload(Bucket=name, Key="left.bin")["UploadId"]
        client.upload_part(Bucket=name, Key="left.bin", UploadId=upload_id, PartNumber=1, Body=b"x")
        return upload_id

    upload_id = await asyncio.to_thread(start_upload)
    target = target_for(seaweed)
    # What an earlier run left: its journal entry and its saved, unfinished row.
    journal = Journal(state_folder / "journal.sqlite3")
    await journal.start_job(
        "upload",
        journal_endpoint(target.client_config()),
        name,
        "left.bin",
        str(source),
        size=1000,
        fingerprint="1000:0:0",
        part_size=5 * MiB,
        upload_id=upload_id,
    )
    await asyncio.to_thread(journal.close)
    spec = TransferSpec.upload(str(source), name, "left.bin", size=1000)
    archive = QueueArchive(state_folder / "queue.sqlite3")
    row = SavedRow(
        41, Priority.NORMAL, "upload", str(source), spec.destination, 1000, 1, Status.RUNNING,
        "", "", target.label, spec,
    )  # fmt: skip
    await archive.save_now([row], 42)
    await asyncio.to_thread(archive.close)

    async with app_session(qapp, qsettings, tmp_path, target) as session:
        model = session.queue_model
        await until(lambda: model.rowCount() == 1, what="the saved row")
        restored = model.ordered_rows()[0]
        assert restored.status == Status.PAUSED, "what was running comes back paused"
        assert not session.bridge.transfers.busy(), "a saved row does not hold the window open"
        assert session.bridge.transfer_ids.next_id == 42
        queue = session.window.queue
        queue.select_transfer(41)
        assert queue.cancel_selected() == 1
        await until(lambda: restored.status == Status.CANCELLED, what="the row cancelled")
        assert await session.journal.jobs() == []
    left = await asyncio.to_thread(client.list_multipart_uploads, Bucket=name)
    assert left.get("Uploads", []) == []
