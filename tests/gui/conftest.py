"""GUI-only fixtures: an in-memory keyring, QSettings in a temp ini, a session on SeaweedFS.

Async GUI tests run on a qasync loop (tests/conftest.py). Inside them never call
``qtbot.wait``/``waitSignal``/``processEvents`` or ``exec()``: a nested Qt loop under
qasync hangs (QT_HEADLESS.md §4). ``until`` polls with ``asyncio.sleep`` instead.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import keyring
import pytest
import pytest_asyncio
from keyring.backend import KeyringBackend
from PySide6.QtCore import QSettings

sys.path.insert(0, str(Path(__file__).resolve().parent))

from memkeyring import MemoryKeyring

from s3z_core.credentials import Credentials
from s3z_gui.connection import ConnectionTarget


@pytest.fixture(autouse=True)
def state_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every GUI test keeps its transfer journal and saved queue in its own folder (never
    the user's); two sessions of one test share it, as two launches of the app do."""
    folder = tmp_path / "state"
    monkeypatch.setenv("S3Z_STATE_DIR", str(folder))
    return folder


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    old: KeyringBackend = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(old)


@pytest.fixture
def fail_keyring() -> Iterator[None]:
    from keyring.backends import fail

    old: KeyringBackend = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(old)


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    return tmp_path / "settings" / "s3z.ini"


@pytest.fixture
def qsettings(settings_file: Path) -> QSettings:
    settings_file.parent.mkdir(parents=True, exist_ok=True)
    return QSettings(str(settings_file), QSettings.Format.IniFormat)


def target_for(server: object, label: str = "SeaweedFS (test)") -> ConnectionTarget:
    return ConnectionTarget(
        label=label,
        endpoint_url=server.endpoint_url,  # type: ignore[attr-defined]
        region=server.region,  # type: ignore[attr-defined]
        addressing_style="path",
        credentials=Credentials(server.access_key, server.secret_key),  # type: ignore[attr-defined]
    )


async def until(predicate: Callable[[], bool], timeout_s: float = 60.0, what: str = "") -> None:
    """Poll on the asyncio loop (Qt keeps running underneath); fail with a message."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.05)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@asynccontextmanager
async def app_session(
    qapp: object, qsettings: QSettings, tmp_path: Path, target: ConnectionTarget | None
) -> AsyncIterator[object]:
    """An AppSession with its window shown, connected to ``target`` (None: not connected)."""
    from s3z_gui.models.conflicts import ConflictPolicy
    from s3z_gui.sandbox import Sandbox
    from s3z_gui.session import AppSession
    from s3z_gui.settings.preferences import Preferences

    # Closing the last window must not stop the qasync loop before cleanup (as in app.py).
    qapp.setQuitOnLastWindowClosed(False)  # type: ignore[attr-defined]
    app_session = AppSession(qsettings, sandbox=Sandbox(tmp_path / "unused-sandbox"))
    # Uploads over existing keys overwrite, as before the conflict question (its own tests
    # choose ASK): no other test waits for a dialog nobody answers.
    app_session.set_preferences(
        Preferences(confirm_deletes=False, on_conflict=ConflictPolicy.OVERWRITE)
    )
    app_session.queue_model.start()
    app_session.window.show()
    try:
        if target is not None:
            buckets = await app_session.bridge.connect_to(target)
            assert buckets is not None, f"could not connect to {target.label}"
        yield app_session
    finally:
        app_session.window.quit_now()
        await app_session.shutdown()


@pytest_asyncio.fixture
async def session(
    qapp: object, qsettings: QSettings, seaweed: object, tmp_path: Path, memory_keyring: object
) -> AsyncIterator[object]:
    """An AppSession connected to the shared SeaweedFS (no sandbox started)."""
    async with app_session(qapp, qsettings, tmp_path, target_for(seaweed)) as opened:
        yield opened


@pytest_asyncio.fixture
async def moto_session(
    qapp: object, qsettings: QSettings, moto_s3: object, tmp_path: Path, memory_keyring: object
) -> AsyncIterator[object]:
    """An AppSession connected to moto, which stores unsafe keys such as ``a/../b`` verbatim."""
    target = target_for(moto_s3, "moto (test)")
    async with app_session(qapp, qsettings, tmp_path, target) as opened:
        yield opened


@pytest_asyncio.fixture
async def offline_session(
    qapp: object, qsettings: QSettings, tmp_path: Path, memory_keyring: object
) -> AsyncIterator[object]:
    """An AppSession whose window is up but which never connected."""
    async with app_session(qapp, qsettings, tmp_path, None) as opened:
        yield opened
