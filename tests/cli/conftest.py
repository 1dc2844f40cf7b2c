"""Fixtures every CLI test file shares."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty HOME for the CLI under test: no user AWS config or journal leaks in."""
    path = tmp_path / "home"
    path.mkdir()
    return path
