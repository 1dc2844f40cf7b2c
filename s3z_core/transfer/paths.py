"""Mapping object keys to local paths without ever escaping the destination folder.

s5cmd (#872), aws-cli (#10579) and the original s3z all let a key such as
``data/../../.bashrc`` write outside the destination. Here a key is checked lexically
(no absolute paths, drive letters, backslashes, ``..`` segments or NULs) and then the
resolved path must still lie under the resolved destination (catches symlinked dirs).
"""

from __future__ import annotations

import re
from pathlib import Path

from s3z_core.errors import LocalFileError, UnsafeKeyError

_DRIVE = re.compile(r"^[A-Za-z]:")


def relative_key(key: str, strip_prefix: str) -> str:
    if strip_prefix and key.startswith(strip_prefix):
        return key[len(strip_prefix) :]
    return key


def key_segments(key: str, strip_prefix: str) -> list[str]:
    """The path segments ``key`` maps to under a destination (pure: no file system)."""
    rel = relative_key(key, strip_prefix)
    if "\x00" in rel:
        raise UnsafeKeyError(key, "contains a NUL byte")
    if rel.startswith("/"):
        raise UnsafeKeyError(key, "absolute path")
    if _DRIVE.match(rel) or "\\" in rel:
        raise UnsafeKeyError(key, "Windows drive or backslash path")
    segments = [s for s in rel.split("/") if s not in ("", ".")]
    if any(s == ".." for s in segments):
        raise UnsafeKeyError(key, "'..' segment would leave the destination")
    if not segments:
        raise UnsafeKeyError(key, "names no file inside the destination")
    return segments


def planned_path(dest_dir: Path, key: str, strip_prefix: str = "") -> Path:
    """Where ``key`` will land, checked lexically only (pure, for planning and display);
    ``DestinationGuard.path_for`` does the full check (symlinks) before anything is written."""
    return dest_dir.joinpath(*key_segments(key, strip_prefix))


class DestinationGuard:
    """Maps keys to paths under one destination folder, resolving each folder only once.

    A batch of 100,000 files in a few folders costs a few ``realpath`` walks instead of
    200,000; the final name costs one ``lstat`` (only a symlink there is resolved). The
    constructor does no I/O; ``path_for`` blocks (it runs in the file-system pool).
    """

    MAX_CACHED_FOLDERS = 10_000

    def __init__(self, dest_dir: Path, strip_prefix: str = "") -> None:
        self.dest_dir = dest_dir
        self.strip_prefix = strip_prefix
        self._resolved: Path | None = None
        self._folders: dict[tuple[str, ...], bool] = {}

    @property
    def _base(self) -> Path:
        if self._resolved is None:
            try:
                self._resolved = self.dest_dir.resolve()
            except (OSError, RuntimeError):  # 3.11 raises RuntimeError on a symlink loop
                reason = "cannot be resolved (symlink loop?)"
                raise LocalFileError(f"destination {self.dest_dir} {reason}") from None
        return self._resolved

    def _inside(self, path: Path) -> bool:
        resolved = path.resolve()
        return resolved == self._base or self._base in resolved.parents

    def path_for(self, key: str) -> Path:
        """The path ``key`` downloads to, or ``UnsafeKeyError`` naming why it may not."""
        segments = key_segments(key, self.strip_prefix)
        target = self._base.joinpath(*segments)
        folder = tuple(segments[:-1])
        try:
            inside = self._folders.get(folder)
            if inside is None:
                if len(self._folders) >= self.MAX_CACHED_FOLDERS:
                    self._folders.clear()
                inside = self._folders[folder] = self._inside(target.parent)
            if inside and target.is_symlink():
                inside = self._inside(target)
        except (OSError, RuntimeError):  # 3.11 raises RuntimeError on a symlink loop
            raise UnsafeKeyError(key, "cannot be resolved (symlink loop?)") from None
        if not inside:
            raise UnsafeKeyError(key, "resolves outside the destination (symlink)")
        return target


def safe_local_path(dest_dir: Path, key: str, strip_prefix: str = "") -> Path:
    """The path a key downloads to, or ``UnsafeKeyError`` naming why it may not."""
    return DestinationGuard(dest_dir, strip_prefix).path_for(key)


def is_dir_marker(key: str, size: int) -> bool:
    return key.endswith("/") and size == 0
