"""Operation plug-ins: upload a file set, download it, list many keys. Each knows its
untimed set-up and clean-up, the command to time, and how to verify the result."""

from __future__ import annotations

import shutil
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from bench.bucket import BucketAdmin
from bench.dataset import FileSet, FileSetSpec, object_name, verify_download, verify_listing
from bench.tools.base import Tool, ToolContext
from s3z_core.cli import values


class Operation(ABC):
    """One benchmarked job. ``bytes_moved`` is 0 when throughput is meaningless (listing)."""

    kind: str = ""
    # Puts data on the server: the runner vacuums after a big sample (bounded disk use).
    writes_to_server: bool = False

    @property
    @abstractmethod
    def name(self) -> str: ...

    @property
    def bytes_moved(self) -> int:
        return 0

    @property
    def item_count(self) -> int:
        return 0

    def prepare(self, admin: BucketAdmin) -> None:
        """Once before the first sample (e.g. seed the bucket)."""
        del admin

    def before_sample(self, tool: Tool, admin: BucketAdmin, scratch: Path) -> None:
        """Untimed, before every sample: put the world back in the starting state."""
        del tool, admin, scratch

    @abstractmethod
    def command(self, tool: Tool, ctx: ToolContext, scratch: Path) -> list[str]: ...

    @abstractmethod
    def verify(
        self, tool: Tool, admin: BucketAdmin, stdout_path: Path, scratch: Path
    ) -> str | None:
        """None when the result is right, else what is wrong."""

    def after_sample(self, tool: Tool, admin: BucketAdmin, scratch: Path) -> None:
        del tool, admin, scratch

    def cleanup(self, admin: BucketAdmin) -> None:
        del admin

    def describe(self) -> dict[str, str | int]:
        return {
            "name": self.name,
            "kind": self.kind,
            "bytes": self.bytes_moved,
            "items": self.item_count,
        }


class Upload(Operation):
    kind = "upload"
    writes_to_server = True

    def __init__(self, files: FileSet, verify_content: bool) -> None:
        self.files = files
        self.verify_content = verify_content

    @property
    def name(self) -> str:
        return f"upload {self.files.spec.label}"

    @property
    def bytes_moved(self) -> int:
        return self.files.spec.total_bytes

    @property
    def item_count(self) -> int:
        return self.files.spec.count

    def _prefix(self, tool: Tool) -> str:
        return f"up/{self.files.spec.label}/{tool.name}/"

    def before_sample(self, tool: Tool, admin: BucketAdmin, scratch: Path) -> None:
        admin.delete_prefix(self._prefix(tool))

    def command(self, tool: Tool, ctx: ToolContext, scratch: Path) -> list[str]:
        return tool.upload(ctx, self.files, self._prefix(tool))

    def verify(
        self, tool: Tool, admin: BucketAdmin, stdout_path: Path, scratch: Path
    ) -> str | None:
        stored = admin.list_sizes(self._prefix(tool))
        expected = dict.fromkeys(self.files.sha256, self.files.spec.size_bytes)
        if stored != expected:
            wrong = sorted(
                k for k in expected.keys() | stored.keys() if stored.get(k) != expected.get(k)
            )
            return f"{len(wrong)} keys missing, extra or of wrong size (e.g. {wrong[0]})"
        if self.verify_content:
            return admin.uploaded_content_problem(self._prefix(tool), self.files)
        return None

    def after_sample(self, tool: Tool, admin: BucketAdmin, scratch: Path) -> None:
        admin.delete_prefix(self._prefix(tool))


class Download(Operation):
    kind = "download"
    _PREFIX_ROOT = "data"

    def __init__(self, files: FileSet) -> None:
        self.files = files

    @property
    def name(self) -> str:
        return f"download {self.files.spec.label}"

    @property
    def bytes_moved(self) -> int:
        return self.files.spec.total_bytes

    @property
    def item_count(self) -> int:
        return self.files.spec.count

    @property
    def _prefix(self) -> str:
        return f"{self._PREFIX_ROOT}/{self.files.spec.label}/"

    def prepare(self, admin: BucketAdmin) -> None:
        admin.upload_file_set(self.files, self._prefix)

    @staticmethod
    def _dest(scratch: Path) -> Path:
        return scratch / "download"

    def before_sample(self, tool: Tool, admin: BucketAdmin, scratch: Path) -> None:
        dest = self._dest(scratch)
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)

    def command(self, tool: Tool, ctx: ToolContext, scratch: Path) -> list[str]:
        return tool.download(ctx, self.files, self._prefix, self._dest(scratch))

    def verify(
        self, tool: Tool, admin: BucketAdmin, stdout_path: Path, scratch: Path
    ) -> str | None:
        return verify_download(self._dest(scratch), self.files)

    def after_sample(self, tool: Tool, admin: BucketAdmin, scratch: Path) -> None:
        shutil.rmtree(self._dest(scratch), ignore_errors=True)

    def cleanup(self, admin: BucketAdmin) -> None:
        admin.delete_prefix(self._prefix)


class Listing(Operation):
    kind = "list"

    def __init__(self, key_count: int) -> None:
        self.key_count = key_count
        self._names = [object_name(i) for i in range(key_count)]

    @property
    def name(self) -> str:
        return f"list {self.key_count} keys"

    @property
    def item_count(self) -> int:
        return self.key_count

    @property
    def _prefix(self) -> str:
        return f"list/{self.key_count}/"

    def prepare(self, admin: BucketAdmin) -> None:
        admin.put_small_objects(self._prefix, self._names)

    def command(self, tool: Tool, ctx: ToolContext, scratch: Path) -> list[str]:
        return tool.list(ctx, self._prefix)

    def verify(
        self, tool: Tool, admin: BucketAdmin, stdout_path: Path, scratch: Path
    ) -> str | None:
        return verify_listing(stdout_path.read_text(errors="replace"), self._names)

    def cleanup(self, admin: BucketAdmin) -> None:
        admin.delete_prefix(self._prefix)


class CappedUpload(Upload):
    """An upload under the tool's bandwidth cap (``s3z-core cp --limit-rate 20M``): the rate
    it achieves is judged against the cap (``report.rate_limit_table``), not against peers."""

    kind = "limit"

    def __init__(self, files: FileSet, verify_content: bool, rate: str, rate_bps: int) -> None:
        super().__init__(files, verify_content)
        self.rate, self.rate_bps = rate, rate_bps

    @property
    def name(self) -> str:
        return f"upload {self.files.spec.label} @ {self.rate}"

    def _prefix(self, tool: Tool) -> str:
        return f"capped/{self.files.spec.label}/{tool.name}/"

    def command(self, tool: Tool, ctx: ToolContext, scratch: Path) -> list[str]:
        return tool.limit_rate(super().command(tool, ctx, scratch), self.rate)

    def describe(self) -> dict[str, str | int]:
        return {
            **super().describe(),
            "direction": "upload",
            "rate": self.rate,
            "rate_bps": self.rate_bps,
        }


class CappedDownload(Download):
    """A download under the tool's bandwidth cap; see ``CappedUpload``."""

    kind = "limit"
    _PREFIX_ROOT = "capped-data"

    def __init__(self, files: FileSet, rate: str, rate_bps: int) -> None:
        super().__init__(files)
        self.rate, self.rate_bps = rate, rate_bps

    @property
    def name(self) -> str:
        return f"download {self.files.spec.label} @ {self.rate}"

    def command(self, tool: Tool, ctx: ToolContext, scratch: Path) -> list[str]:
        return tool.limit_rate(super().command(tool, ctx, scratch), self.rate)

    def describe(self) -> dict[str, str | int]:
        return {
            **super().describe(),
            "direction": "download",
            "rate": self.rate,
            "rate_bps": self.rate_bps,
        }


@dataclass(frozen=True, slots=True)
class RateLimit:
    """The capped operations' settings: ``rate`` as the s3z-core CLI reads it (``20M`` is
    20 MiB/s: K/M/G alone are binary, like dd and s5cmd) and the one file moved under it."""

    rate: str
    files: FileSet

    @property
    def rate_bps(self) -> int:
        return parse_rate(self.rate)


def parse_rate(text: str) -> int:
    """``--limit-rate``'s own parser, so the bench's 20M is the CLI's 20M."""
    return values.rate(text)


DEFAULT_SIZES = ("1x1GiB", "100x8MiB", "1000x64KiB", "10000x4KiB")
DEFAULT_LIST_KEYS = (10_000, 100_000)
QUICK_SIZES = ("1x8MiB", "10x1MiB", "50x4KiB")
QUICK_LIST_KEYS = (200,)
# 200 MiB at 20 MiB/s is ~10 s a sample: long enough that the start of the process and the
# token bucket's burst (0.1 s worth) weigh a few per cent at most.
DEFAULT_LIMIT_RATE = "20M"
DEFAULT_LIMIT_SIZE = "1x200MiB"
QUICK_LIMIT_SIZE = "1x8MiB"
KINDS = ("upload", "download", "list", "limit")


def build_operations(
    file_sets: list[FileSet],
    list_keys: list[int],
    kinds: tuple[str, ...],
    verify_uploads: bool,
    limit: RateLimit | None = None,
) -> list[Operation]:
    """Uploads of every set, then downloads of every set, then one listing per key count,
    then the capped upload and download (``limit``)."""
    ops: list[Operation] = []
    if "upload" in kinds:
        ops.extend(Upload(fs, verify_uploads) for fs in file_sets)
    if "download" in kinds:
        ops.extend(Download(fs) for fs in file_sets)
    if "list" in kinds:
        ops.extend(Listing(count) for count in list_keys if count > 0)
    if "limit" in kinds and limit is not None:
        rate_bps = limit.rate_bps
        ops.append(CappedUpload(limit.files, verify_uploads, limit.rate, rate_bps))
        ops.append(CappedDownload(limit.files, limit.rate, rate_bps))
    return ops


__all__ = [
    "DEFAULT_LIMIT_RATE",
    "DEFAULT_LIMIT_SIZE",
    "DEFAULT_LIST_KEYS",
    "DEFAULT_SIZES",
    "KINDS",
    "QUICK_LIMIT_SIZE",
    "QUICK_LIST_KEYS",
    "QUICK_SIZES",
    "CappedDownload",
    "CappedUpload",
    "Download",
    "FileSetSpec",
    "Listing",
    "Operation",
    "RateLimit",
    "Upload",
    "build_operations",
]
