"""Issue 14 in the GUI: closing with "keep for later", and the next launch resumes.

The app talks to SeaweedFS through a ``FaultProxy`` (the same address in both launches, as a
saved connection has): the proxy holds the upload's fourth part back (one part at a time is
sent), so the first launch is
closed with exactly three parts on the server, whatever the machine's speed, and its byte
count says what the second launch really sent. Both launches share one state folder (the
journal and the saved queue), like two runs of the app by one user.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from conftest import app_session, sha256, target_for, until
from fault_proxy import FaultProxy, RecordedRequest
from PySide6.QtCore import QSettings
from servers import boto3_client

from s3z_gui.main_window import KEEP_FOR_LATER
from s3z_gui.models.conflicts import ConflictPolicy
from s3z_gui.models.transfer_store import Status
from s3z_gui.settings.preferences import Preferences

MiB = 1 << 20
PART = 5 * MiB
SIZE = 64 * MiB
HELD = 10 * MiB  # a download's body is held after this much


def _random_file(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    with path.open("wb") as handle:
        left = size
        while left:
            chunk = os.urandom(min(left, 4 * MiB))
            handle.write(chunk)
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


def _one_part_at_a_time(session: Any) -> None:
    """5 MiB parts, one at a time: the held-back part 4 stops the upload after part 3."""
    session.set_preferences(
        Preferences(
            confirm_deletes=False,
            on_conflict=ConflictPolicy.OVERWRITE,
            streams_per_file=1,
            part_size_mib=5,
        )
    )


def _uploads(server: Any, bucket: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (
        boto3_client(server).list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    )
    return found


def _parts(server: Any, bucket: str, key: str, upload_id: str) -> list[dict[str, Any]]:
    client = boto3_client(server)
    found: list[dict[str, Any]] = client.list_parts(Bucket=bucket, Key=key, UploadId=upload_id).get(
        "Parts", []
    )
    return found


@pytest.mark.asyncio
async def test_keep_for_later_then_resume_all_finishes_byte_identical(
    qapp: Any,
    qsettings: QSettings,
    seaweed: Any,
    bucket: Any,
    tmp_path: Path,
    memory_keyring: Any,
    state_folder: Path,
) -> None:
    name = bucket(seaweed)
    source = tmp_path / "big.bin"
    digest = await asyncio.to_thread(_random_file, source, SIZE)
    release = threading.Event()

    def hold_part_four(event: str, record: RecordedRequest) -> None:
        # On the proxy's thread: part 4 waits here until the first launch is closed.
        if event == "request" and record.method == "PUT" and record.params.get("partNumber") == "4":
            release.wait(timeout=120)

    with FaultProxy(seaweed.endpoint_url) as proxy:
        target = target_for(proxy.endpoint(seaweed))
        proxy.watch = hold_part_four

        # -- first launch: upload, then close with "keep for later" --------------------------
        async with app_session(qapp, qsettings, tmp_path, None) as first:
            _one_part_at_a_time(first)
            assert await first.bridge.connect_to(target) is not None
            first.bridge.transfers.upload_paths([source], name, "")
            store = first.queue_model.store

            def parts_answered() -> int:
                puts = proxy.requests_matching(method="PUT", query="partNumber")
                return sum(1 for r in puts if r.status == 200)

            await until(lambda: parts_answered() >= 3, what="three parts on the server")
            assert store.rows[0].status == Status.RUNNING
            transfer_id = store.rows[0].transfer_id
            window = first.window
            window.close()
            box = window.quit_box
            assert box is not None
            assert box.isVisible()
            later = next(b for b in box.buttons() if b.text() == KEEP_FOR_LATER)
            later.click()
            await until(lambda: not window.isVisible(), what="the window to close")
            await first.shutdown()

        kept = await asyncio.to_thread(_uploads, seaweed, name)
        assert [u["Key"] for u in kept] == ["big.bin"], "keep for later keeps the upload"
        held = await asyncio.to_thread(_parts, seaweed, name, "big.bin", kept[0]["UploadId"])
        held_bytes = sum(p["Size"] for p in held)
        assert len(held) == 3
        assert held_bytes == 3 * PART
        assert (state_folder / "journal.sqlite3").exists()
        assert (state_folder / "queue.sqlite3").exists()
        proxy.watch = None
        release.set()  # the held part's client is gone: it reaches the server incomplete, or not
        proxy.clear()  # from here on: what the second launch sends

        # -- second launch, same state folder: the row is back, paused -----------------------
        async with app_session(qapp, qsettings, tmp_path, None) as second:
            assert await second.bridge.connect_to(target) is not None
            store = second.queue_model.store
            await until(lambda: second.queue_model.rowCount() == 1, what="the saved row shown")
            row = store.rows[0]
            assert row.transfer_id == transfer_id
            assert row.status == Status.PAUSED
            assert row.restored
            assert row.source == str(source)
            assert second.bridge.transfer_ids.next_id > transfer_id
            resume_all = second.window.queue.resume_all_action
            assert resume_all.isEnabled()

            resume_all.trigger()
            await until(lambda: row.status == Status.COMPLETED, what="the resumed upload")
            assert store.rows == [row], "resumed in its own row, under its own id"
            assert row.done_bytes == SIZE

            # A new transfer of this launch takes a new id, never a saved one.
            small = tmp_path / "small.txt"
            small.write_bytes(b"after the restart")
            await second.bridge.transfers.upload_paths([small], name, "")
            assert len({r.transfer_id for r in store.rows}) == 2
            journal_jobs = await second.journal.jobs()
        assert journal_jobs == [], "the journal forgets a finished job"

    # Only the parts the server lacked were sent again: the bodies of the second launch's
    # requests (the held part's late bytes belong to a request of the first).
    sent = sum(r.body_bytes for r in proxy.requests)
    assert sent < SIZE - held_bytes + 64 * 1024, sent
    fetched = tmp_path / "fetched.bin"
    await asyncio.to_thread(boto3_client(seaweed).download_file, name, "big.bin", str(fetched))
    assert sha256(fetched) == digest
    assert await asyncio.to_thread(_uploads, seaweed, name) == []


@pytest.mark.asyncio
async def test_a_download_kept_for_later_continues_in_its_temp_file(
    qapp: Any,
    qsettings: QSettings,
    seaweed: Any,
    bucket: Any,
    tmp_path: Path,
    memory_keyring: Any,
    state_folder: Path,
) -> None:
    from s3z_core.journal import Journal
    from s3z_gui.models.listing import Entry

    name = bucket(seaweed)
    size = 24 * MiB
    source = tmp_path / "source.bin"
    digest = await asyncio.to_thread(_random_file, source, size)
    await asyncio.to_thread(boto3_client(seaweed).upload_file, str(source), name, "big.bin")
    dest = tmp_path / "downloads"
    dest.mkdir()
    release = threading.Event()
    held: list[RecordedRequest] = []
    sent_at_hold: list[int] = []

    def hold_mid_body(event: str, record: RecordedRequest) -> None:
        # On the proxy's thread: the body stops after 10 MiB until the first launch closed.
        # The chunk that crossed 10 MiB has gone out already, and chunks are not aligned to
        # it, so the client can hold a little more than HELD: the bound is what was sent.
        if event == "bytes" and record.method == "GET" and not held and proxy.bytes_out >= HELD:
            sent_at_hold.append(proxy.bytes_out)
            held.append(record)
            release.wait(timeout=120)

    with FaultProxy(seaweed.endpoint_url) as proxy:
        target = target_for(proxy.endpoint(seaweed))
        proxy.watch = hold_mid_body
        async with app_session(qapp, qsettings, tmp_path, None) as first:
            _one_part_at_a_time(first)
            assert await first.bridge.connect_to(target) is not None
            entry = Entry("big.bin", "big.bin", False, size)  # as listed without an ETag
            first.bridge.transfers.download_entries(name, [entry], dest, "")
            await until(lambda: bool(held), what="the body held after 10 MiB")
            await until(
                lambda: (
                    bool(first.queue_model.store.rows)
                    and first.queue_model.store.rows[0].done_bytes >= 4 * MiB
                ),
                what="4 MiB on disk",
            )
            window = first.window
            window.close()
            box = window.quit_box
            assert box is not None
            next(b for b in box.buttons() if b.text() == KEEP_FOR_LATER).click()
            await until(lambda: not window.isVisible(), what="the window to close")
            await first.shutdown()
        proxy.watch = None
        release.set()

        journal = Journal(state_folder / "journal.sqlite3")
        jobs = await journal.jobs()
        await asyncio.to_thread(journal.close)
        assert [j.direction for j in jobs] == ["download"]
        kept_bytes = jobs[0].bytes_done
        assert 3 * MiB <= kept_bytes <= sent_at_hold[0]
        temp = jobs[0].temp_path
        assert temp is not None
        assert await asyncio.to_thread(os.path.exists, temp), "keep for later keeps the temp"
        assert not await asyncio.to_thread((dest / "big.bin").exists)
        proxy.clear()

        async with app_session(qapp, qsettings, tmp_path, None) as second:
            assert await second.bridge.connect_to(target) is not None
            await until(lambda: second.queue_model.rowCount() == 1, what="the saved row shown")
            row = second.queue_model.store.rows[0]
            assert row.status == Status.PAUSED
            second.window.queue.resume_all_action.trigger()
            await until(lambda: row.status == Status.COMPLETED, what="the resumed download")
        sent_back = proxy.bytes_out

    assert sha256(dest / "big.bin") == digest
    assert [p.name for p in dest.iterdir()] == ["big.bin"], "no temp file remains"
    # Only the missing bytes came again (a held response's first chunk may count too).
    assert sent_back < size - kept_bytes + MiB, sent_back
