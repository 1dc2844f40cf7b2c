"""Run the real ``s3z-core`` entry point in a subprocess against a test server."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).parent / "s3z-core"
_STATE_ROOT = Path(tempfile.gettempdir()) / f"s3z-cli-state-{os.getpid()}"


def command() -> list[str]:
    """The installed console script when present (what users run), else ``python -m``."""
    if SCRIPT.exists():
        return [str(SCRIPT)]
    return [sys.executable, "-m", "s3z_core.cli"]


def cli_env(server: Any | None, home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_EC2_METADATA_DISABLED"] = "true"  # never the host's real instance metadata
    env["HOME"] = str(home)
    # The resume journal goes beside, not inside, HOME: some tests upload their HOME.
    env["S3Z_STATE_DIR"] = str(_STATE_ROOT / hashlib.sha256(str(home).encode()).hexdigest()[:16])
    env["PYTHONPATH"] = str(ROOT)
    if server is not None:
        env |= {
            "AWS_ENDPOINT_URL": server.endpoint_url,
            "AWS_ACCESS_KEY_ID": server.access_key,
            "AWS_SECRET_ACCESS_KEY": server.secret_key,
            "AWS_REGION": server.region,
        }
    return env | extra


def without_file_modes_override() -> list[str]:
    """A command prefix under which file modes apply even to root: ``setpriv`` drops the
    capabilities that let root ignore them (DAC override, DAC read-search). Empty when
    not root (the modes apply already)."""
    if os.getuid() != 0:
        return []
    return ["setpriv", "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search"]


def run(
    server: Any | None,
    home: Path,
    *args: str,
    check: int | None = 0,
    modes_apply: bool = False,
    **extra: str,
) -> subprocess.CompletedProcess[str]:
    """Run ``s3z-core ARGS``; ``modes_apply`` makes mode-000 files unreadable even as root."""
    prefix = without_file_modes_override() if modes_apply else []
    proc = subprocess.run(
        [*prefix, *command(), *args],
        capture_output=True,
        text=True,
        env=cli_env(server, home, **extra),
        cwd=home,
        timeout=120,
        check=False,
    )
    if check is not None and proc.returncode != check:
        raise AssertionError(
            f"exit {proc.returncode} (wanted {check}) for {args}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_object(client: Any, bucket: str, key: str) -> str:
    body = client.get_object(Bucket=bucket, Key=key)["Body"]
    digest = hashlib.sha256()
    for chunk in iter(lambda: body.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()
