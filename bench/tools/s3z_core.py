"""s3z-core, ours: the installed console script run as a user would run it."""

from __future__ import annotations

import compileall
import subprocess
from pathlib import Path

import s3z_core
from bench.dataset import FileSet
from bench.measure import which
from bench.tools.base import VENV_BIN, Tool, ToolContext, ToolUnavailableError
from s3z_core.loop_lag import ENV_FILE as LOOP_LAG_ENV


class S3zCore(Tool):
    name = "s3z-core"
    kinds = frozenset({"upload", "download", "list", "limit"})
    loop_lag_env = LOOP_LAG_ENV

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

    def prepare(self, ctx: ToolContext) -> None:
        """Byte-compile the package as ``pip install`` of a wheel does: an editable checkout
        under ``PYTHONDONTWRITEBYTECODE=1`` (set on some machines) would otherwise recompile
        every module on every start, ~50 ms that no installed copy pays."""
        del ctx
        compileall.compile_dir(Path(s3z_core.__file__).parent, quiet=1)

    def env(self, ctx: ToolContext) -> dict[str, str]:
        """The transfer journal (on by default, as a user runs it) lives in the run's config
        folder: the bench never writes the user's state folder and every run starts with an
        empty journal, as a first run would."""
        return {**super().env(ctx), "S3Z_STATE_DIR": str(ctx.config_dir / "s3z-state")}

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

    def limit_rate(self, command: list[str], rate: str) -> list[str]:
        at = command.index("cp") + 1
        return [*command[:at], "--limit-rate", rate, *command[at:]]


class S3zCoreNoCheck(S3zCore):
    """s3z-core with ``--ignore-checksum``: downloads skip the MD5/composite-ETag check (sizes
    are still checked). s5cmd verifies nothing on download, so this row shows what our
    default verification costs next to the like-for-like comparison."""

    name = "s3z-core-nocheck"
    kinds = frozenset({"download"})

    def download(self, ctx: ToolContext, files: FileSet, prefix: str, dest: Path) -> list[str]:
        command = super().download(ctx, files, prefix, dest)
        at = command.index("cp") + 1
        return [*command[:at], "--ignore-checksum", *command[at:]]


class S3zCoreNoJournal(S3zCore):
    """Opt-in (``--tools s3z-core,s3z-core-nojournal``): s3z-core with ``--no-journal``. The
    resume journal (one SQLite transaction per finished file or part, on its own thread) is
    on by default; this row, interleaved with the default one in the same run, is what the
    journal costs on each shape."""

    name = "s3z-core-nojournal"
    kinds = frozenset({"upload", "download"})
    opt_in = True

    @staticmethod
    def _unjournaled(command: list[str]) -> list[str]:
        at = command.index("cp") + 1
        return [*command[:at], "--no-journal", *command[at:]]

    def upload(self, ctx: ToolContext, files: FileSet, prefix: str) -> list[str]:
        return self._unjournaled(super().upload(ctx, files, prefix))

    def download(self, ctx: ToolContext, files: FileSet, prefix: str, dest: Path) -> list[str]:
        return self._unjournaled(super().download(ctx, files, prefix, dest))


class S3zCoreCluster(S3zCore):
    """Opt-in (``--tools s3z-core-cluster2``): ``cp -r --cluster local:2``, the sharded run of
    issue 16 against the single process above (a one-file set is one shard: its row is
    the cluster's overhead alone). It pays a LocalCluster's start (scheduler + 2 worker
    processes, each importing the engine: ~2-4 s here) on every sample, and on a 2-core box
    the two workers compete with the server for the same cores, so it is not expected to
    win here; the row says what sharding costs, the scaling story is docs/SCALE.md."""

    name = "s3z-core-cluster2"
    kinds = frozenset({"upload", "download"})
    opt_in = True
    loop_lag_env = None  # the driver's loop only waits for Dask: its lag says nothing

    def _cluster(self, command: list[str]) -> list[str]:
        at = command.index("cp") + 1
        return [*command[:at], "--cluster", "local:2", *command[at:]]

    def upload(self, ctx: ToolContext, files: FileSet, prefix: str) -> list[str]:
        """Always the folder form (a one-file set is one shard: the row shows the overhead)."""
        return self._cluster(
            [
                *self._base(ctx),
                "cp",
                "-r",
                "--no-progress",
                "-q",
                f"{files.directory}/",
                ctx.url(prefix),
            ]
        )

    def download(self, ctx: ToolContext, files: FileSet, prefix: str, dest: Path) -> list[str]:
        return self._cluster(
            [*self._base(ctx), "cp", "-r", "--no-progress", "-q", ctx.url(prefix), f"{dest}/"]
        )
