"""Tool plug-ins, one small class each. Order here is the order in tables and plots."""

from __future__ import annotations

from bench.tools.aws import AwsCli
from bench.tools.base import Tool, ToolContext, ToolUnavailableError
from bench.tools.boto3_tool import Boto3
from bench.tools.obstore_tool import Obstore
from bench.tools.rclone import Rclone
from bench.tools.s3z_core import S3zCore, S3zCoreCluster, S3zCoreNoCheck, S3zCoreNoJournal
from bench.tools.s5cmd import S5cmd

REFERENCE_TOOL = "s5cmd"
ALL_TOOLS: tuple[type[Tool], ...] = (
    S3zCore,
    S3zCoreNoCheck,
    S3zCoreNoJournal,
    S3zCoreCluster,
    S5cmd,
    AwsCli,
    Rclone,
    Boto3,
    Obstore,
)
TOOL_NAMES = tuple(t.name for t in ALL_TOOLS)
DEFAULT_TOOL_NAMES = tuple(t.name for t in ALL_TOOLS if not t.opt_in)

__all__ = [
    "ALL_TOOLS",
    "DEFAULT_TOOL_NAMES",
    "REFERENCE_TOOL",
    "TOOL_NAMES",
    "Tool",
    "ToolContext",
    "ToolUnavailableError",
]
