"""s3z-core, ours: the installed console script run as a user would run it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bench.dataset import FileSet
from bench.measure import which
from bench.tools.base import VENV_BIN, Tool, ToolContext, ToolUnavailableError


class S3zCore(Tool):
    name = "s3z-core"

    def locate(self) -> Path:
        found = which("s3z-core", VENV_BIN)
        if found is None:
            raise ToolUnavailableError(
                "s3z-core is not installed (pip install -e . puts it in .venv/bin)"
            )
        return found

    def version(self) -> str:
        out = subprocess.run(
            [self.locate(), "--version"], capture_output=True, text=True, check=False
        )
        if out.returncode != 0:
            raise ToolUnavailableError(f"s3z-core --version failed: {out.stderr.strip()[-200:]}")
        return out.stdout.strip()

    def _base(self, ctx: ToolContext) -> list[str]:
        return [str(self.locate()), "--endpoint-url", ctx.backend.endpoint_url]

    def upload(self, ctx: ToolContext, files: FileSet, prefix: str) -> list[str]:
        if files.spec.count == 1:
            target = ctx.url(prefix + files.first_path.name)
            return [*self._base(ctx), "cp", "--no-progress", "-q", str(files.first_path), target]
        return [
            *self._base(ctx),
            "cp",
            "-r",
            "--no-progress",
            "-q",
            f"{files.directory}/",
            ctx.url(prefix),
        ]

    def download(self, ctx: ToolContext, files: FileSet, prefix: str, dest: Path) -> list[str]:
        if files.spec.count == 1:
            name = files.first_path.name
            return [
                *self._base(ctx),
                "cp",
                "--no-progress",
                "-q",
                ctx.url(prefix + name),
                str(dest / name),
            ]
        return [*self._base(ctx), "cp", "-r", "--no-progress", "-q", ctx.url(prefix), f"{dest}/"]

    def list(self, ctx: ToolContext, prefix: str) -> list[str]:
        return [*self._base(ctx), "ls", "-r", ctx.url(prefix)]
