"""boto3 as a peer: a small script (``boto3_client.py``) run as a fresh Python process per
sample, so its start-up and import cost count just as every other tool's does."""

from __future__ import annotations

import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

from bench.dataset import FileSet
from bench.tools.base import Tool, ToolContext, ToolUnavailableError

_SCRIPT = Path(__file__).with_name("boto3_client.py")


class Boto3(Tool):
    name = "boto3"

    def locate(self) -> Path:
        if find_spec("boto3") is None:
            raise ToolUnavailableError("boto3 is not installed (pip install '.[bench]')")
        return Path(sys.executable)

    def version(self) -> str:
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                "import boto3, botocore; print(boto3.__version__, botocore.__version__)",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        boto3_v, _, botocore_v = out.stdout.strip().partition(" ")
        return (
            f"boto3 {boto3_v} (botocore {botocore_v}); default TransferConfig, "
            "10-thread pool for directories"
        )

    def _base(self, action: str, ctx: ToolContext, prefix: str) -> list[str]:
        return [
            str(self.locate()),
            "-I",  # isolated: the script's folder must not shadow the real boto3
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
