"""What a tool plug-in is: how to find it, how it uploads, downloads and lists.

A plug-in builds argument lists only; the runner starts every command as a fresh process
and measures it the same way for every tool.
"""

from __future__ import annotations

import os
import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from bench.backends import Backend
from bench.dataset import FileSet

VENV_BIN = Path(sys.executable).parent


class ToolUnavailableError(Exception):
    """The tool is not installed or not usable here; the message says why (it is printed)."""


@dataclass(frozen=True, slots=True)
class ToolContext:
    """Everything a plug-in needs to build a command line for one backend."""

    backend: Backend
    bucket: str
    config_dir: Path

    def url(self, prefix: str) -> str:
        return f"s3://{self.bucket}/{prefix}"


class Tool(ABC):
    """One S3 client under test. Subclasses set ``name`` and implement the three commands.

    ``upload`` gets a local file set and a key prefix (ending in ``/``) to put it under;
    ``download`` gets the prefix holding the set and a local directory to fill with the
    same names; ``list`` must print every key under the prefix (all pages).
    """

    name: str = ""
    # Operation kinds this plug-in takes part in; a variant measuring one option of a tool
    # (s3z-core without download verification) joins only the kinds the option changes.
    kinds: frozenset[str] = frozenset({"upload", "download", "list"})
    # Environment variable naming a file where the tool writes its event-loop lag figures
    # ({p50_ms, p99_ms, max_ms, samples} as JSON) at exit; None for tools without a probe.
    loop_lag_env: str | None = None
    # Run only when named in --tools (a costly variant, like the cluster row).
    opt_in: bool = False

    @abstractmethod
    def locate(self) -> Path:
        """The executable to run; raises ToolUnavailableError when missing."""

    @abstractmethod
    def version(self) -> str: ...

    def prepare(self, ctx: ToolContext) -> None:
        """Write any config the tool needs under ``ctx.config_dir`` (called once per run)."""
        del ctx

    def env(self, ctx: ToolContext) -> dict[str, str]:
        """Environment for the tool: credentials by the standard AWS variables only, and no
        user profile or config file leaking in from the machine running the bench."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RCLONE_"))}
        env.update(
            AWS_ACCESS_KEY_ID=ctx.backend.access_key,
            AWS_SECRET_ACCESS_KEY=ctx.backend.secret_key,
            AWS_REGION=ctx.backend.region,
            AWS_DEFAULT_REGION=ctx.backend.region,
            AWS_CONFIG_FILE=str(ctx.config_dir / "aws-config"),
            AWS_SHARED_CREDENTIALS_FILE=str(ctx.config_dir / "aws-credentials-unused"),
            AWS_EC2_METADATA_DISABLED="true",
        )
        return env

    @abstractmethod
    def upload(self, ctx: ToolContext, files: FileSet, prefix: str) -> list[str]: ...

    @abstractmethod
    def download(self, ctx: ToolContext, files: FileSet, prefix: str, dest: Path) -> list[str]: ...

    @abstractmethod
    def list(self, ctx: ToolContext, prefix: str) -> list[str]: ...

    def limit_rate(self, command: list[str], rate: str) -> list[str]:
        """``command`` under the tool's bandwidth cap of ``rate`` (the s3z-core CLI's units).
        Asked only of tools whose ``kinds`` include "limit"."""
        raise NotImplementedError(f"{self.name} takes no part in the bandwidth-cap operations")
