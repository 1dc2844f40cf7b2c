"""The AWS CLI v1 from PyPI (``aws s3 cp``), with path-style addressing set in a private
config file and listing through ``s3api list-objects-v2`` with its automatic pagination
(``--no-paginate`` would return the first 1,000 keys only)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bench.dataset import FileSet
from bench.measure import which
from bench.tools.base import VENV_BIN, Tool, ToolContext, ToolUnavailableError


class AwsCli(Tool):
    name = "aws"

    def locate(self) -> Path:
        found = which("aws", VENV_BIN)
        if found is None:
            raise ToolUnavailableError("aws (awscli) is not installed (pip install '.[bench]')")
        return found

    def version(self) -> str:
        out = subprocess.run(
            [self.locate(), "--version"], capture_output=True, text=True, check=False
        )
        return (out.stdout or out.stderr).strip()

    def prepare(self, ctx: ToolContext) -> None:
        (ctx.config_dir / "aws-config").write_text(
            f"[default]\nregion = {ctx.backend.region}\ns3 =\n    addressing_style = path\n"
        )

    def _base(self, ctx: ToolContext) -> list[str]:
        return [str(self.locate()), "--endpoint-url", ctx.backend.endpoint_url]

    def upload(self, ctx: ToolContext, files: FileSet, prefix: str) -> list[str]:
        if files.spec.count == 1:
            target = ctx.url(prefix + files.first_path.name)
            return [
                *self._base(ctx),
                "s3",
                "cp",
                "--no-progress",
                "--only-show-errors",
                str(files.first_path),
                target,
            ]
        return [
            *self._base(ctx),
            "s3",
            "cp",
            "--recursive",
            "--no-progress",
            "--only-show-errors",
            f"{files.directory}/",
            ctx.url(prefix),
        ]

    def download(self, ctx: ToolContext, files: FileSet, prefix: str, dest: Path) -> list[str]:
        if files.spec.count == 1:
            name = files.first_path.name
            return [
                *self._base(ctx),
                "s3",
                "cp",
                "--no-progress",
                "--only-show-errors",
                ctx.url(prefix + name),
                str(dest / name),
            ]
        return [
            *self._base(ctx),
            "s3",
            "cp",
            "--recursive",
            "--no-progress",
            "--only-show-errors",
            ctx.url(prefix),
            f"{dest}/",
        ]

    def list(self, ctx: ToolContext, prefix: str) -> list[str]:
        return [
            *self._base(ctx),
            "s3api",
            "list-objects-v2",
            "--bucket",
            ctx.bucket,
            "--prefix",
            prefix,
            "--output",
            "json",
        ]
