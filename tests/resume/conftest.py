"""Fixtures of the resume tests: a home and a state folder per test, a proxy per test."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE))
sys.path.insert(0, str(_HERE.parent / "cli"))  # clirun: how the CLI is started

from fault_proxy import FaultProxy  # noqa: E402

from s3z_core.local_server import LocalS3Server  # noqa: E402


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def proxy(seaweed: LocalS3Server) -> Iterator[FaultProxy]:
    with FaultProxy(seaweed.endpoint_url) as running:
        yield running
