"""The local side of cp -r / sync / upload: files under a path, with POSIX relative names.

Symlinks are not followed unless asked (a link to a parent would loop forever, aws-cli
#3709); broken links and unreadable folders are reported, not fatal (aws-cli #487).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class LocalFile:
    path: Path
    relative: str  # POSIX separators, relative to the walked root
    size: int
    mtime: float


def walk_files(
    root: Path,
    *,
    follow_symlinks: bool = False,
    on_skip: Callable[[Path, str], None] | None = None,
) -> Iterator[LocalFile]:
    """Yield regular files under ``root`` (a directory), sorted by relative path per folder."""
    seen: set[tuple[int, int]] = set()

    def skip(path: Path, reason: str) -> None:
        if on_skip is not None:
            on_skip(path, reason)

    def visit(folder: Path, relative: str) -> Iterator[LocalFile]:
        try:
            info = folder.stat()
        except OSError as exc:
            skip(folder, exc.strerror or type(exc).__name__)
            return
        ident = (info.st_dev, info.st_ino)
        if ident in seen:
            skip(folder, "symlink loop")
            return
        seen.add(ident)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            skip(folder, exc.strerror or type(exc).__name__)
            return
        for entry in entries:
            rel = f"{relative}{entry.name}"
            try:
                if entry.is_symlink() and not follow_symlinks:
                    skip(Path(entry.path), "symlink not followed (use --follow-symlinks)")
                    continue
                st = entry.stat(follow_symlinks=True)
            except OSError as exc:
                skip(Path(entry.path), exc.strerror or type(exc).__name__)
                continue
            if stat.S_ISDIR(st.st_mode):
                yield from visit(Path(entry.path), rel + "/")
            elif stat.S_ISREG(st.st_mode):
                yield LocalFile(Path(entry.path), rel, st.st_size, st.st_mtime)
            else:
                skip(Path(entry.path), "not a regular file")

    yield from visit(root, "")
