"""Fixtures for the credential tests: a clean environment over a temporary home, STS."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from credential_servers import StsReplay
from servers import MotoS3Server

AUTH_DIR = Path(__file__).resolve().parent
if str(AUTH_DIR.parent / "cli") not in sys.path:  # clirun: run the real s3z-core
    sys.path.insert(0, str(AUTH_DIR.parent / "cli"))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / ".aws").mkdir()
    return tmp_path


@pytest.fixture
def env(home: Path) -> dict[str, str]:
    """What both botocore and s3z see: no AWS_* from the machine, no instance metadata."""
    return {
        "HOME": str(home),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_DEFAULT_REGION": "us-east-1",  # botocore signs STS calls only with a region
    }


@pytest.fixture
def write_aws(home: Path) -> Callable[[str, str], Path]:
    """``write_aws("config", text)`` / ``write_aws("credentials", text)``."""

    def write(name: str, text: str) -> Path:
        path = home / ".aws" / name
        path.write_text(text)
        return path

    return write


@pytest.fixture
def sts(moto_s3: MotoS3Server) -> Iterator[StsReplay]:
    """moto's STS behind the replaying proxy (same parameters, same keys for both clients)."""
    with StsReplay(moto_s3.endpoint_url) as replay:
        yield replay
