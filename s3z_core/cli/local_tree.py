"""The local side of cp -r / sync / upload: files under a path, with POSIX relative names.

Symlinks are not followed unless asked (a link to a parent would loop forever, aws-cli
#3709); that choice is the only silent-ish skip (``on_skip``, shown as a warning).
Everything else the walk cannot use — an unreadable folder, a broken link, a link loop,
a FIFO/socket/device, a failed ``stat`` — goes to ``on_error`` as a ``WalkError``: the
callers count each one as a failed item (exit 1), like the engine's own walker reports
``LocalFileError``, and ``sync --delete`` deletes nothing after one, since the files of
an unreadable folder are missing from the source listing (aws-cli #487, rsync's
"IO error encountered -- skipping file deletion").
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from s3z_core.errors import LocalFileError

NOT_FOLLOWED = "symlink not followed (use --follow-symlinks)"


@dataclass(frozen=True, slots=True)
class LocalFile:
    path: Path
    relative: str  # POSIX separators, relative to the walked root
    size: int
    mtime: float


@dataclass(frozen=True, slots=True)
class WalkError:
    """Something under the walked root that could not be used.

    ``relative`` ends with ``/`` for a folder whose contents could not be listed (``""``
    for the root itself): what is inside is unknown, so no filter can excuse it.
    """

    path: Path
    relative: str
    reason: str

    @property
    def is_folder(self) -> bool:
        return self.relative == "" or self.relative.endswith("/")

    def error(self) -> LocalFileError:
        return LocalFileError(self.reason)

    def counts(self, accepts: Callable[[str], bool]) -> bool:
        """Is this a failure under these filters? An excluded file is not; a folder that
        could not be listed always is (what it holds, and whether it is wanted, is unknown)."""
        return self.is_folder or accepts(self.relative)


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def walk_files(
    root: Path,
    *,
    follow_symlinks: bool = False,
    on_skip: Callable[[Path, str], None] | None = None,
    on_error: Callable[[WalkError], None] | None = None,
) -> Iterator[LocalFile]:
    """Yield regular files under ``root`` (a directory), sorted by relative path per folder.

    ``on_skip`` hears of symlinks left alone because ``follow_symlinks`` is off; ``on_error``
    of everything else that was not yielded (see the module docstring).
    """
    # The folders on the path from the root to the one being listed: a folder met again
    # among its own ancestors is a loop; one reached twice by different links is not.
    ancestors: set[tuple[int, int]] = set()

    def fail(path: Path, relative: str, reason: str) -> None:
        if on_error is not None:
            on_error(WalkError(path, relative, reason))

    def visit(folder: Path, relative: str) -> Iterator[LocalFile]:
        try:
            info = folder.stat()
        except OSError as exc:
            fail(folder, relative, f"cannot read folder: {_reason(exc)}")
            return
        ident = (info.st_dev, info.st_ino)
        if ident in ancestors:
            fail(folder, relative, "symbolic link loop")
            return
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            fail(folder, relative, f"cannot read folder: {_reason(exc)}")
            return
        ancestors.add(ident)
        try:
            yield from listed(entries, relative)
        finally:
            ancestors.discard(ident)

    def listed(entries: list[os.DirEntry[str]], relative: str) -> Iterator[LocalFile]:
        for entry in entries:
            rel = f"{relative}{entry.name}"
            path = Path(entry.path)
            is_link = False
            try:
                is_link = entry.is_symlink()
                if is_link and not follow_symlinks:
                    if on_skip is not None:
                        on_skip(path, NOT_FOLLOWED)
                    continue
                st = entry.stat(follow_symlinks=True)
            except OSError as exc:
                if is_link and exc.errno == errno.ENOENT:
                    fail(path, rel, "broken symbolic link")
                elif exc.errno == errno.ELOOP:
                    fail(path, rel, "symbolic link loop")
                else:
                    fail(path, rel, _reason(exc))
                continue
            if stat.S_ISDIR(st.st_mode):
                yield from visit(path, rel + "/")
            elif stat.S_ISREG(st.st_mode):
                yield LocalFile(path, rel, st.st_size, st.st_mtime)
            else:
                fail(path, rel, "not a regular file")

    yield from visit(root, "")
