"""The session's own lifecycle: connects that overlap, errors of its tasks, the sandbox's
failures, leftovers of an earlier run and a start cut short."""

from __future__ import annotations

import asyncio
import datetime
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psutil
import pytest
from conftest import target_for, until
from PySide6.QtCore import QSettings
from servers import boto3_client

from s3z_core.engine import Engine
from s3z_core.errors import ServiceError
from s3z_gui.bridge import EngineBridge
from s3z_gui.connection import make_engine
from s3z_gui.models.transfer_model import TransferQueueModel
from s3z_gui.sandbox import Sandbox
from s3z_gui.session import FIRST_BUCKET, AppSession


@pytest.mark.asyncio
async def test_overlapping_connects_leave_exactly_one_engine_open(qapp: Any, seaweed: Any) -> None:
    made: list[Engine] = []
    closed: list[Engine] = []

    def factory(target: Any, config: Any, sink: Any, ids: Any) -> Engine:
        engine = make_engine(target, config, sink, ids)
        made.append(engine)
        original = engine.close

        async def close() -> None:
            closed.append(engine)
            await original()

        engine.close = close  # type: ignore[method-assign]
        return engine

    bridge = EngineBridge(TransferQueueModel(), engine_factory=factory)
    target = target_for(seaweed)
    first = bridge.connect_to(target)
    second = bridge.connect_to(target)  # before the first has listed its buckets
    third = bridge.connect_to(target)
    await asyncio.wait([first, second, third])
    assert third.result() is not None
    assert bridge.connected
    assert [e for e in made if e not in closed] == [bridge.engine], "an engine leaked"
    await bridge.close()
    assert set(closed) == set(made)


@pytest.mark.asyncio
async def test_errors_of_session_tasks_are_shown(
    qapp: Any, qsettings: QSettings, tmp_path: Path, memory_keyring: object, monkeypatch: Any
) -> None:
    hooked: list[BaseException] = []
    monkeypatch.setattr(sys, "excepthook", lambda kind, error, tb: hooked.append(error))
    qapp.setQuitOnLastWindowClosed(False)
    session = AppSession(qsettings, sandbox=Sandbox(tmp_path / "unused"))
    try:

        async def s3_says_no() -> None:
            raise ServiceError(code="AccessDenied", status=403, message="no access for you")

        async def a_bug() -> None:
            raise ZeroDivisionError("a bug")

        await asyncio.wait([session.spawn(s3_says_no()), session.spawn(a_bug())])
        await asyncio.sleep(0)
        assert "AccessDenied" in session.window.statusBar().currentMessage()
        assert [type(e) for e in hooked] == [ZeroDivisionError]
    finally:
        session.window.close()
        await session.shutdown()


@pytest.mark.asyncio
async def test_a_sandbox_that_cannot_start_never_keeps_saying_starting(
    qapp: Any, qsettings: QSettings, tmp_path: Path, memory_keyring: object
) -> None:
    qapp.setQuitOnLastWindowClosed(False)
    blocked = tmp_path / "sandbox"
    blocked.write_text("a file where the sandbox folder should be")
    session = AppSession(qsettings, sandbox=Sandbox(blocked))
    session.window.show()
    try:
        await session.start()
        banner = session.window.banner.text.text()
        assert banner.startswith("Could not start the local sandbox")
        assert "Starting" not in session.window.browser.table.placeholder
        assert "kill" not in banner
        assert not session.bridge.connected
    finally:
        session.window.close()
        await session.shutdown()


@pytest.mark.asyncio
async def test_uploads_an_earlier_run_left_in_the_sandbox_are_aborted_at_start(
    qapp: Any, qsettings: QSettings, tmp_path: Path, memory_keyring: object
) -> None:
    qapp.setQuitOnLastWindowClosed(False)
    box = tmp_path / "sandbox"
    first = AppSession(qsettings, sandbox=Sandbox(box))
    try:
        await first.start()
        target = first.bridge.target
        assert target is not None
        client = boto3_client(
            SimpleNamespace(
                endpoint_url=target.endpoint_url,
                region=target.region,
                access_key=target.credentials.access_key,
                secret_key=target.credentials.secret_key,
            )
        )
        client.put_object(Bucket=FIRST_BUCKET, Key="kept.txt", Body=b"kept")
        abandoned = client.create_multipart_upload(Bucket=FIRST_BUCKET, Key="half.bin")
        client.upload_part(
            Bucket=FIRST_BUCKET,
            Key="half.bin",
            UploadId=abandoned["UploadId"],
            PartNumber=1,
            Body=b"x" * 1024,
        )
    finally:
        first.window.close()
        await first.shutdown()
    await asyncio.sleep(1.1)  # upload dates have whole seconds: the next start is later

    second = AppSession(qsettings, sandbox=Sandbox(box))
    try:
        started = datetime.datetime.now(datetime.UTC)
        await second.start()
        engine = second.bridge.engine
        assert await engine.list_multipart_uploads(FIRST_BUCKET) == []
        assert await engine.get_bytes(FIRST_BUCKET, "kept.txt") == b"kept"
        # An upload begun in this session is not touched by that clean-up.
        fresh = await engine.ops.create_multipart_upload(FIRST_BUCKET, "new.bin")
        aborted = await second.bridge.abort_uploads_started_before(started)
        assert aborted == 0
        # Upload dates have whole seconds: one begun later in the same second as the moment
        # reads as earlier, and is still kept (once, that was this test failing by chance).
        (listed,) = await engine.list_multipart_uploads(FIRST_BUCKET)
        assert listed.initiated is not None
        assert listed.initiated.microsecond == 0
        same_second = listed.initiated + datetime.timedelta(microseconds=999_999)
        assert await second.bridge.abort_uploads_started_before(same_second) == 0
        assert [u.key for u in await engine.list_multipart_uploads(FIRST_BUCKET)] == ["new.bin"]
        await engine.abort_multipart_upload(FIRST_BUCKET, "new.bin", fresh)
    finally:
        second.window.close()
        await second.shutdown()


@pytest.mark.asyncio
async def test_closing_during_the_sandbox_start_leaves_no_server(
    qapp: Any, qsettings: QSettings, tmp_path: Path, memory_keyring: object
) -> None:
    qapp.setQuitOnLastWindowClosed(False)
    box = tmp_path / "sandbox"
    session = AppSession(qsettings, sandbox=Sandbox(box))
    session.window.show()
    starting = session.launch()
    await until((box / "server.pid").exists, what="the server to be spawned")
    session.window.close()
    await session.shutdown()  # cancels the start mid-way
    assert starting.cancelled() or starting.done()
    assert not session.sandbox.running
    ours = [
        p
        for p in psutil.process_iter(["cmdline"])
        if any(str(box) in arg for arg in (p.info["cmdline"] or []))
    ]
    assert ours == [], "the sandbox server outlived a start that was cut short"
