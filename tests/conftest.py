"""Shared fixtures: real S3 servers (SeaweedFS, rclone, moto), buckets, and the Qt/asyncio setup.

Servers start once per session on 127.0.0.1 and are stopped by PID at the end. Helpers for test
modules: ``from servers import boto3_client`` and ``from fault_proxy import FaultProxy`` (this
folder is on ``sys.path``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Before anything can import Qt: headless platform, a private runtime dir, no real keyring.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_runtime_dir = Path(f"/tmp/runtime-{os.getuid()}")
_runtime_dir.mkdir(mode=0o700, exist_ok=True)
_runtime_dir.chmod(0o700)
os.environ.setdefault("XDG_RUNTIME_DIR", str(_runtime_dir))
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
# The end of the credential chain asks EC2 instance metadata (169.254.169.254), and a host
# may really answer there: no test may reach it. Tests of IMDS point
# AWS_EC2_METADATA_SERVICE_ENDPOINT at their own server and pass their own environment.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
for _name in list(os.environ):
    if _name.startswith("AWS_CONTAINER_") or _name in (
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
    ):
        del os.environ[_name]

TESTS_DIR = Path(__file__).resolve().parent
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

import asyncio  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable, Iterator, Mapping  # noqa: E402
from typing import Any  # noqa: E402

import crashlog  # noqa: E402
import pytest  # noqa: E402
from servers import MotoS3Server, S3Endpoint, boto3_client, delete_bucket  # noqa: E402
from slow_order import slow_files  # noqa: E402

from s3z_core.local_server import LocalS3Server, RcloneS3Server  # noqa: E402

GUI_DIR = TESTS_DIR / "gui"


def _is_gui(item: pytest.Item) -> bool:
    return item.get_closest_marker("gui") is not None or GUI_DIR in Path(item.path).parents


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    crashlog.start(config)


@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    crashlog.stop()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    crashlog.note(item.nodeid, "setup")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    crashlog.note(item.nodeid, "call")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    crashlog.note(item.nodeid, "teardown")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/gui/ is a GUI test, so ``-m "not gui"`` skips it.

    In an xdist worker, the files of tests/slow_files.txt come first, longest first (a stable
    sort: every file keeps its own order). ``--dist loadfile --no-loadscope-reorder`` hands
    files out in this order, so the long ones start early and short ones fill the end; the
    workers all sort alike, so they collect the same list."""
    for item in items:
        if GUI_DIR in Path(item.path).parents:
            item.add_marker(pytest.mark.gui)
    if os.environ.get("PYTEST_XDIST_WORKER"):
        rank = {path: i for i, path in enumerate(slow_files())}
        items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    """GUI tests run ``async def`` tests on a qasync loop so Qt events flow while they await;
    every other async test keeps a plain asyncio loop (the hook must always return a mapping)."""
    if not _is_gui(item):
        return {"asyncio": asyncio.new_event_loop}

    def qasync_loop() -> asyncio.AbstractEventLoop:
        import qasync
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance() or QApplication([])
        loop: asyncio.AbstractEventLoop = qasync.QEventLoop(app)
        return loop

    return {"qasync": qasync_loop}


# -- servers ---------------------------------------------------------------------------------


# The session's servers run under the warden, like the app's sandbox: a pytest (or an xdist
# worker) killed by ``timeout`` or SIGKILL takes them with it instead of leaving them running
# for the next run to trip over (8 were found after one such session).


@pytest.fixture(scope="session")
def seaweed() -> Iterator[LocalS3Server]:
    """SeaweedFS (weed mini) on 127.0.0.1, shared by the whole session."""
    with LocalS3Server(bind_to_parent=True) as server:
        yield server


@pytest.fixture(scope="session")
def rclone_s3() -> Iterator[RcloneS3Server]:
    """``rclone serve s3`` over a temp folder: a second, independent S3 implementation."""
    with RcloneS3Server(bind_to_parent=True) as server:
        yield server


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3Server]:
    """moto_server (in-memory, stores any key verbatim); started only if a test asks for it."""
    with MotoS3Server(bind_to_parent=True) as server:
        yield server


@pytest.fixture(params=["seaweed", "rclone"])
def s3_server(request: pytest.FixtureRequest) -> S3Endpoint:
    """Runs a protocol test once per real server implementation."""
    name = "rclone_s3" if request.param == "rclone" else request.param
    server: S3Endpoint = request.getfixturevalue(name)
    return server


# -- buckets and the boto3 oracle -------------------------------------------------------------


@pytest.fixture
def bucket() -> Iterator[Callable[[S3Endpoint], str]]:
    """Factory: ``name = bucket(server)`` creates a fresh, uniquely named bucket on ``server``;
    each one is emptied (objects and unfinished multipart uploads) and deleted after the test."""
    made: list[tuple[S3Endpoint, str]] = []

    def make(server: S3Endpoint, prefix: str = "t") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:16]}"
        boto3_client(server).create_bucket(Bucket=name)
        made.append((server, name))
        return name

    yield make
    for server, name in made:
        delete_bucket(server, name)


@pytest.fixture(name="boto3_client")
def boto3_client_fixture() -> Callable[..., Any]:
    """``boto3_client(server)`` as a fixture, for tests that prefer injection to imports."""
    return boto3_client
