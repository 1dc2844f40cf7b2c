"""obstore as a peer: Rust ``object_store`` (reqwest, tokio, GIL released) behind a Python
API, the fastest Python S3 library. ``obstore_client.py`` is run as a fresh Python process
per sample, so its start-up counts just as every other tool's does."""

from __future__ import annotations

import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

from bench.dataset import FileSet
from bench.tools.base import Tool, ToolContext, ToolUnavailableError

_SCRIPT = Path(__file__).with_name("obstore_client.py")


class Obstore(Tool):
    name = "obstore"

    def locate(self) -> Path:
        if find_spec("obstore") is None:
            raise ToolUnavailableError("obstore is not installed (pip install '.[bench]')")
        return Path(sys.executable)

    def version(self) -> str:
        out = subprocess.run(
            [sys.executable, "-c", "import obstore; print(obstore.__version__)"],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            raise ToolUnavailableError(f"import obstore failed: {out.stderr.strip()[-200:]}")
        return (
            f"obstore {out.stdout.strip()}; asyncio script: 64 small files in flight, "
            "8 MiB parts, 8 ranged GETs + pwrite per big object"
        )

    def _base(self, action: str, ctx: ToolContext, prefix: str) -> list[str]:
        return [
            str(self.locate()),
            "-I",  # isolated: the script's folder must not shadow the real package
            str(_SCRIPT),
            action,
            ctx.backend.endpoint_url,
            ctx.bucket,
            prefix,
        ]

    def upload(self, ctx: ToolContext, files: FileSet, prefix: str) -> list[str]:
        local = files.first_path if files.spec.count == 1 else files.directory
        return [*self._base("upload", ctx, prefix), str(local)]

    def download(self, ctx: ToolContext, files: FileSet, prefix: str, dest: Path) -> list[str]:
        return [*self._base("download", ctx, prefix), str(dest)]

    def list(self, ctx: ToolContext, prefix: str) -> list[str]:
        return self._base("list", ctx, prefix)
