"""Issue 14 in the GUI for a folder: closed with "keep for later" before the walk reached
every file, the next launch brings the folder's row back and Resume all finishes it.

The app talks to SeaweedFS through a ``FaultProxy`` whose loop stops at the tenth object PUT
(the proxy holds it until the first launch is closed): with one file at a time the ninth
file's answer has reached the app by then, and the walk and its bounded queue have reached
only part of the folder, whatever the machine's speed.
Both launches share one state folder (the journal and the saved queue).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
from collections import Counter
from collections.abc import Callable
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

FILES = 40
SIZE = 64 * 1024
HOLD_AT = 10  # the tenth object PUT is held: nine files are on the server before the close


def _folder(root: Path) -> dict[str, str]:
    """``FILES`` random files; their keys (under ``folder/``) and sha256."""
    root.mkdir()
    digests = {}
    for n in range(FILES):
        data = os.urandom(SIZE)
        (root / f"f{n:02}.bin").write_bytes(data)
        digests[f"folder/f{n:02}.bin"] = hashlib.sha256(data).hexdigest()
    return digests


def _one_at_a_time(session: Any) -> None:
    session.set_preferences(
        Preferences(
            confirm_deletes=False,
            on_conflict=ConflictPolicy.OVERWRITE,
            files_at_once=1,
            streams_per_file=1,
            part_size_mib=5,
        )
    )


def _object_puts(proxy: FaultProxy) -> Counter[str]:
    """Object PUTs per key (``/bucket/key`` path), answered or not."""
    return Counter(
        r.path.split("/", 2)[2] for r in proxy.requests if r.method == "PUT" and not r.query
    )


def _bucket_state(server: Any, bucket: str) -> tuple[dict[str, str], list[Any]]:
    client = boto3_client(server)
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            found[item["Key"]] = hashlib.sha256(body).hexdigest()
    uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    return found, uploads


async def _kept_for_later(
    qapp: Any,
    qsettings: QSettings,
    tmp_path: Path,
    proxy: FaultProxy,
    target: Any,
    name: str,
    folder: Path,
    held: threading.Event,
    reached: Callable[[], bool],
) -> tuple[set[str], int]:
    """The first launch: the folder upload, closed with "keep for later" at the held PUT;
    the keys done before the close, and how many rows there were."""
    async with app_session(qapp, qsettings, tmp_path, None) as first:
        _one_at_a_time(first)
        assert await first.bridge.connect_to(target) is not None
        first.bridge.transfers.upload_paths([folder], name, "")
        store = first.queue_model.store
        await until(reached, what="the held PUT")
        await until(
            lambda: sum(1 for r in store.rows if r.status == Status.COMPLETED) >= HOLD_AT - 1,
            what="nine files done",
        )
        done_before = {r.spec.key for r in store.rows if r.status == Status.COMPLETED and r.spec}
        rows_before = len(store.rows)
        assert rows_before < FILES, "the walk has not reached every file"
        window = first.window
        window.close()
        box = window.quit_box
        assert box is not None
        next(b for b in box.buttons() if b.text() == KEEP_FOR_LATER).click()
        await until(lambda: not window.isVisible(), what="the window to close")
        await first.shutdown()
    proxy.watch = None
    held.set()
    assert len(done_before) == HOLD_AT - 1
    await asyncio.to_thread(proxy.clear)  # from here on: what the second launch sends
    return done_before, rows_before


@pytest.mark.asyncio
async def test_a_folder_kept_for_later_comes_back_whole_and_resumes(
    qapp: Any,
    qsettings: QSettings,
    seaweed: Any,
    bucket: Any,
    tmp_path: Path,
    memory_keyring: Any,
    state_folder: Path,
) -> None:
    name = bucket(seaweed)
    folder = tmp_path / "folder"
    digests = await asyncio.to_thread(_folder, folder)
    release = threading.Event()
    puts_seen: list[str] = []

    def held() -> bool:
        return len(puts_seen) >= HOLD_AT

    def hold_tenth_put(event: str, record: RecordedRequest) -> None:
        # On the proxy's thread (its one loop): from the tenth object PUT on, nothing moves
        # until the first launch is closed.
        if event == "request" and record.method == "PUT" and not record.query:
            puts_seen.append(record.path)
            if len(puts_seen) >= HOLD_AT:
                release.wait(timeout=120)

    with FaultProxy(seaweed.endpoint_url) as proxy:
        target = target_for(proxy.endpoint(seaweed))
        proxy.watch = hold_tenth_put

        done_before, rows_before = await _kept_for_later(
            qapp, qsettings, tmp_path, proxy, target, name, folder, release, held
        )

        # -- second launch, same state folder: the folder's row is back, paused ------------
        async with app_session(qapp, qsettings, tmp_path, None) as second:
            _one_at_a_time(second)
            assert await second.bridge.connect_to(target) is not None
            store = second.queue_model.store
            await until(lambda: second.queue_model.rowCount() == 1, what="the folder row")
            assert len(store.groups) == 1
            group = store.groups[0]
            assert group.name == "folder"
            assert group.status == Status.PAUSED
            assert len(group.children) == rows_before
            resume_all = second.window.queue.resume_all_action
            assert resume_all.isEnabled()

            resume_all.trigger()
            assert second.bridge.transfers.resume_all() == 0, "a second Resume all runs nothing"
            await until(
                lambda: not group.open and group.status == Status.COMPLETED,
                timeout_s=120,
                what="the resumed folder",
            )
            assert second.queue_model.rowCount() == 1, "its files came back into its row"
            assert len(group.children) == FILES
            assert {r.spec.key for r in group.children if r.spec} == set(digests)
            batches = await second.journal.batches()
            jobs = await second.journal.jobs()
        assert batches == [], "the folder's batch record is closed once it ran to its end"
        assert jobs == []

    puts = _object_puts(proxy)
    assert not set(puts) & done_before, "files done before the close were not sent again"
    assert set(puts) | done_before == set(digests), "every other file was sent"
    found, uploads = await asyncio.to_thread(_bucket_state, seaweed, name)
    assert found == digests
    assert uploads == []


@pytest.mark.asyncio
async def test_cancel_on_a_saved_folder_discards_its_batch_record(
    qapp: Any,
    qsettings: QSettings,
    seaweed: Any,
    bucket: Any,
    tmp_path: Path,
    memory_keyring: Any,
    state_folder: Path,
) -> None:
    name = bucket(seaweed)
    folder = tmp_path / "folder"
    await asyncio.to_thread(_folder, folder)
    release = threading.Event()
    puts_seen: list[str] = []

    def held() -> bool:
        return len(puts_seen) >= HOLD_AT

    def hold_tenth_put(event: str, record: RecordedRequest) -> None:
        if event == "request" and record.method == "PUT" and not record.query:
            puts_seen.append(record.path)
            if len(puts_seen) >= HOLD_AT:
                release.wait(timeout=120)

    with FaultProxy(seaweed.endpoint_url) as proxy:
        target = target_for(proxy.endpoint(seaweed))
        proxy.watch = hold_tenth_put
        await _kept_for_later(qapp, qsettings, tmp_path, proxy, target, name, folder, release, held)
        async with app_session(qapp, qsettings, tmp_path, None) as second:
            assert await second.bridge.connect_to(target) is not None
            store = second.queue_model.store
            await until(lambda: second.queue_model.rowCount() == 1, what="the folder row")
            group = store.groups[0]
            assert [b.id for b in await second.journal.batches()] != [], "its record is kept"
            second.bridge.transfers.cancel([r.transfer_id for r in group.children])
            await until(lambda: group.status == Status.CANCELLED, what="the folder cancelled")
            await until(lambda: group.command is None, what="its record discarded")
            assert await second.journal.batches() == []
            assert not [r for r in store.rows if r.status == Status.PAUSED], "nothing to resume"
        assert _object_puts(proxy) == Counter(), "a cancelled folder sends nothing"


@pytest.mark.asyncio
async def test_a_folder_file_in_flight_at_the_close_continues_from_its_parts(
    qapp: Any,
    qsettings: QSettings,
    seaweed: Any,
    bucket: Any,
    tmp_path: Path,
    memory_keyring: Any,
    state_folder: Path,
) -> None:
    """The tenth file is a 12 MiB multipart upload, held at its second part: the resumed
    folder continues that upload (no new CreateMultipartUpload, part 1 not sent again)."""
    name = bucket(seaweed)
    folder = tmp_path / "folder"
    digests = await asyncio.to_thread(_folder, folder)
    big = folder / f"f{HOLD_AT - 1:02}.bin"
    data = os.urandom(12 << 20)
    await asyncio.to_thread(big.write_bytes, data)
    big_key = f"folder/{big.name}"
    digests[big_key] = hashlib.sha256(data).hexdigest()
    release = threading.Event()
    holding: list[str] = []

    def hold_part_two(event: str, record: RecordedRequest) -> None:
        if event == "request" and record.method == "PUT" and "partNumber=2" in record.query:
            holding.append(record.path)
            release.wait(timeout=120)

    with FaultProxy(seaweed.endpoint_url) as proxy:
        target = target_for(proxy.endpoint(seaweed))
        proxy.watch = hold_part_two
        done_before, _ = await _kept_for_later(
            qapp, qsettings, tmp_path, proxy, target, name, folder, release, lambda: bool(holding)
        )
        assert big_key not in done_before
        async with app_session(qapp, qsettings, tmp_path, None) as second:
            _one_at_a_time(second)
            assert await second.bridge.connect_to(target) is not None
            await until(lambda: second.queue_model.rowCount() == 1, what="the folder row")
            group = second.queue_model.store.groups[0]
            second.window.queue.resume_all_action.trigger()
            await until(
                lambda: not group.open and group.status == Status.COMPLETED,
                timeout_s=120,
                what="the resumed folder",
            )
    big_path = f"/{name}/{big_key}"
    again = [r for r in proxy.requests if r.path == big_path]
    assert not [r for r in again if r.method == "POST" and r.query.startswith("uploads")]
    assert not [r for r in again if "partNumber=1&" in r.query + "&"], "part 1 not sent again"
    assert not set(_object_puts(proxy)) & done_before
    found, uploads = await asyncio.to_thread(_bucket_state, seaweed, name)
    assert found == digests
    assert uploads == []


def _object_gets(proxy: FaultProxy) -> Counter[str]:
    """Object GETs per key (a listing's GET has a query)."""
    return Counter(
        r.path.split("/", 2)[2] for r in proxy.requests if r.method == "GET" and _has_key(r)
    )


def _has_key(record: RecordedRequest) -> bool:
    """An object's request (not a listing's: a query; not ListBuckets': no key)."""
    return not record.query and record.path.count("/") >= 2


def _put_folder(server: Any, bucket: str, root: Path) -> None:
    client = boto3_client(server)
    for path in sorted(root.iterdir()):
        client.upload_file(str(path), bucket, f"folder/{path.name}")


@pytest.mark.asyncio
async def test_a_folder_download_kept_for_later_comes_back_whole_and_resumes(
    qapp: Any,
    qsettings: QSettings,
    seaweed: Any,
    bucket: Any,
    tmp_path: Path,
    memory_keyring: Any,
    state_folder: Path,
) -> None:
    from s3z_gui.models.listing import Entry

    name = bucket(seaweed)
    source = tmp_path / "source"
    digests = await asyncio.to_thread(_folder, source)
    await asyncio.to_thread(_put_folder, seaweed, name, source)
    dest = tmp_path / "downloads"
    dest.mkdir()
    release = threading.Event()
    gets_seen: list[str] = []

    def hold_tenth_get(event: str, record: RecordedRequest) -> None:
        if event == "request" and record.method == "GET" and _has_key(record):
            gets_seen.append(record.path)
            if len(gets_seen) >= HOLD_AT:
                release.wait(timeout=120)

    with FaultProxy(seaweed.endpoint_url) as proxy:
        target = target_for(proxy.endpoint(seaweed))
        proxy.watch = hold_tenth_get
        async with app_session(qapp, qsettings, tmp_path, None) as first:
            _one_at_a_time(first)
            assert await first.bridge.connect_to(target) is not None
            entry = Entry("folder", "folder/", True, None)
            first.bridge.transfers.download_entries(name, [entry], dest, "")
            store = first.queue_model.store
            await until(lambda: len(gets_seen) >= HOLD_AT, what="the tenth GET held")
            await until(
                lambda: sum(1 for r in store.rows if r.status == Status.COMPLETED) >= HOLD_AT - 1,
                what="nine files done",
            )
            done_before = {
                r.spec.key for r in store.rows if r.status == Status.COMPLETED and r.spec
            }
            rows_before = len(store.rows)
            assert rows_before < FILES, "the listing's files have not all been reached"
            window = first.window
            window.close()
            box = window.quit_box
            assert box is not None
            next(b for b in box.buttons() if b.text() == KEEP_FOR_LATER).click()
            await until(lambda: not window.isVisible(), what="the window to close")
            await first.shutdown()
        proxy.watch = None
        release.set()
        assert len(done_before) == HOLD_AT - 1
        proxy.clear()

        async with app_session(qapp, qsettings, tmp_path, None) as second:
            _one_at_a_time(second)
            assert await second.bridge.connect_to(target) is not None
            store = second.queue_model.store
            await until(lambda: second.queue_model.rowCount() == 1, what="the folder row")
            group = store.groups[0]
            assert group.status == Status.PAUSED
            second.window.queue.resume_all_action.trigger()
            await until(
                lambda: not group.open and group.status == Status.COMPLETED,
                timeout_s=120,
                what="the resumed folder",
            )
            assert len(group.children) == FILES
            batches = await second.journal.batches()
        assert batches == []

    gets = _object_gets(proxy)
    assert not set(gets) & done_before, "files done before the close were not fetched again"
    assert set(gets) | done_before == set(digests)
    landed = dest / "folder"
    names = sorted(p.name for p in landed.iterdir())
    assert names == sorted(k.split("/", 1)[1] for k in digests), "no temp file remains"
    for key, digest in digests.items():
        assert sha256(landed / key.split("/", 1)[1]) == digest, key
