"""Issue 11's GUI points: structure where strings were parsed.

Retry runs the queued event's ``TransferSpec`` (``Engine.restart``) under the row's own id;
ids come from one app-wide, pluggable source; throttling on the chart is the engine's typed
decision (``ThrottledError``), never a substring of the reason; the connection dialog gets
its test's outcome as a value, not by picking status-bar strings apart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import target_for, until

from s3z_core.errors import ThrottledError
from s3z_core.events import PartRetried, RequestRetried, TransferQueued, TransferStarted
from s3z_core.transport.error_mapping import service_error
from s3z_gui.bridge import EngineBridge
from s3z_gui.models.transfer_ids import TransferIdSource
from s3z_gui.models.transfer_model import TransferQueueModel
from s3z_gui.models.transfer_store import MarkerKind, Status, TransferStore
from s3z_gui.settings.preferences import Preferences
from s3z_gui.views.profile_dialog import ProfileDialog


def _throttled(code: str, status: int) -> bool:
    body = f"<Error><Code>{code}</Code><Message>m</Message></Error>".encode() if code else b""
    error = service_error(status=status, body=body, headers={}, operation="PutObject")
    return isinstance(error, ThrottledError)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("SlowDown", 503),
        ("ServiceUnavailable", 503),
        ("TooManyRequests", 429),
        ("", 503),
        ("", 429),
    ],
)
def test_throttling_on_the_chart_is_the_engines_typed_decision(code: str, status: int) -> None:
    throttled = _throttled(code, status)
    assert throttled, "the transport maps this answer to ThrottledError"
    store = TransferStore()
    store.apply(TransferQueued(1, "upload", "/a", "s3://b/a", 10), 0.0)
    store.apply(TransferStarted(1, 10, 2), 0.0)
    # Reason texts that a substring match misreads either way: only the flag counts.
    store.apply(PartRetried(1, 1, 1, f"{code or status}: busy", 0.1, throttled=throttled), 0.1)
    store.apply(RequestRetried("ListObjectsV2", 1, "HTTP 503 in a key name", 0.1), 0.1)
    changes = store.tick(0.2)
    assert [m.kind for m in changes.markers] == [MarkerKind.THROTTLE, MarkerKind.RETRY]


def test_the_id_source_is_shared_reused_once_and_pluggable() -> None:
    ids = TransferIdSource(start=1000)  # a persisted queue starts above its saved ids
    assert [ids(), ids()] == [1000, 1001]
    with ids.reusing(7):
        assert ids() == 7
        assert ids() == 1002  # only the first draw reuses
    with ids.reusing(8):
        pass
    assert ids() == 1003  # an unused reuse is dropped
    assert ids.next_id == 1004


@pytest.mark.asyncio
async def test_new_engines_never_reuse_row_ids(
    session: Any, seaweed: Any, bucket: Any, tmp_path: Path
) -> None:
    """Bug 1: upload, change Settings (a new engine), upload again: two rows, each its own."""
    name = bucket(seaweed)
    one = tmp_path / "one.txt"
    one.write_bytes(b"one")
    two = tmp_path / "two.bin"
    two.write_bytes(b"2" * 300_000)
    store = session.queue_model.store
    assert await session.bridge.transfers.upload_paths([one], name, "") is not None
    first_engine = session.bridge.engine
    session.set_preferences(Preferences(confirm_deletes=False, files_at_once=3))
    await until(
        lambda: session.bridge.connected and session.bridge.engine is not first_engine,
        what="the engine rebuilt with the new settings",
    )
    assert await session.bridge.transfers.upload_paths([two], name, "") is not None
    await until(lambda: len(store) == 2 and all(r.status.finished for r in store.rows))
    first, second = store.rows
    assert first.transfer_id != second.transfer_id
    assert (first.source, first.size, first.status) == (str(one), 3, Status.COMPLETED)
    assert (second.source, second.size, second.status) == (str(two), 300_000, Status.COMPLETED)
    assert session.bridge.transfer_ids.next_id > second.transfer_id


@pytest.mark.asyncio
async def test_a_plugged_id_source_numbers_the_engines_transfers(
    qapp: Any, seaweed: Any, bucket: Any, tmp_path: Path
) -> None:
    name = bucket(seaweed)
    local = tmp_path / "f.txt"
    local.write_bytes(b"x")
    model = TransferQueueModel()
    bridge = EngineBridge(model, transfer_ids=TransferIdSource(start=5000))
    try:
        assert await bridge.connect_to(target_for(seaweed)) is not None
        assert await bridge.transfers.upload_paths([local], name, "") is not None
        assert [r.transfer_id for r in model.store.rows] == [5000]
        assert model.store.rows[0].spec is not None
        assert model.store.rows[0].spec.key == "f.txt"
    finally:
        await bridge.close()


@pytest.mark.asyncio
async def test_connection_test_failure_is_shown_in_the_dialog(offline_session: Any) -> None:
    """Bug 5 and issue 11: the reason arrives as a value and is shown in the dialog."""
    session = offline_session
    dialog = ProfileDialog(session.bridge, session.profiles, session.secrets, None, session.window)
    await dialog.ready
    dialog.name.setText("broken")
    dialog.endpoint.setText("http://127.0.0.1:1")
    dialog.access_key.setText("AKIA")
    dialog.secret.setText("secret")
    dialog.test_connection()
    await until(dialog.test_button.isEnabled, timeout_s=120, what="the test to end")
    text = dialog.status.text()
    assert text.startswith("✗ The connection failed — "), text
    assert "status bar" not in text
    assert len(text) > len("✗ The connection failed — ") + 5  # the reason itself
    dialog.close()
