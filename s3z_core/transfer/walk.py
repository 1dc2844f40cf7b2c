"""The one local walker: what uploads, ``sync`` and the GUI's folder drops see of a folder.

A blocking generator (it is run in the file-system pool, never on the event loop). Files
come in a stable order: sorted by name within each folder, a folder's contents where the
folder sorts. Nothing is skipped silently:

* a file yields its size and mtime (from the one ``stat`` it needs anyway);
* a symlink while following links is off yields a ``skipped`` entry (said, not failed);
* what cannot be used — an unreadable folder, a broken link, a link loop, a FIFO/socket/
  device — yields an ``error`` entry, a failure of that path (aws-cli #487 aborted the
  whole sync instead). A file the filters exclude is no failure; a folder that could not be
  listed always is, since what it holds (and whether it is wanted) is unknown.

Following links detects loops as a folder met again among its own ancestors, by (device,
inode), so a link to a parent (aws-cli #3709) cannot recurse forever, while one folder
reached by two different links is walked twice, as it should be.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator, Sequence

from s3z_core.errors import LocalFileError
from s3z_core.filters import EVERYTHING, PathFilter
from s3z_core.records import record

NOT_FOLLOWED = "symbolic link not followed (following links is off)"


@record
class LocalEntry:
    """One path of a walk. ``relative`` is ``/``-separated, relative to the walked folder (a
    lone file: its name; a folder: ends with ``/``); ``under`` is the folder's own name plus
    ``/`` when a walk keeps it (``upload dir`` → ``dir/…``), so the upload name is
    ``under + relative``."""

    path: str
    relative: str
    size: int = 0
    mtime: float = 0.0
    under: str = ""
    is_dir_marker: bool = False
    error: LocalFileError | None = None
    skipped: str = ""  # why this path is left out on purpose ("" = it is to be used)

    @property
    def name(self) -> str:
        return self.under + self.relative

    @property
    def is_folder(self) -> bool:
        return self.relative == "" or self.relative.endswith("/")


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def walk_tree(
    root: str,
    *,
    follow_symlinks: bool = False,
    filters: PathFilter = EVERYTHING,
    dir_markers: bool = False,
    under: str = "",
) -> Iterator[LocalEntry]:
    """Every entry under the folder ``root`` (see the module docstring)."""
    ancestors: list[tuple[int, int]] = []
    stack: list[tuple[Iterator[os.DirEntry[str]], str]] = []

    def failure(path: str, relative: str, reason: str) -> LocalEntry:
        return LocalEntry(path, relative, under=under, error=LocalFileError(reason))

    def enter(folder: str, relative: str) -> LocalEntry | None:
        """Start listing ``folder``; an entry to yield instead when it cannot (or is empty)."""
        try:
            info = os.stat(folder)
        except OSError as exc:
            return failure(folder, relative, f"cannot read folder: {_reason(exc)}")
        ident = (info.st_dev, info.st_ino)
        if ident in ancestors:
            return failure(folder, relative, "symbolic link loop")
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            return failure(folder, relative, f"cannot read folder: {_reason(exc)}")
        if not entries and dir_markers and relative:
            return LocalEntry(folder, relative, under=under, is_dir_marker=True)
        ancestors.append(ident)
        stack.append((iter(entries), relative))
        return None

    first = enter(root, "")
    if first is not None:
        yield first
    while stack:
        entries, folder_rel = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            ancestors.pop()
            continue
        rel = folder_rel + entry.name
        is_link = False
        try:
            is_link = entry.is_symlink()
            if is_link and not follow_symlinks:
                if filters.accepts(rel):
                    yield LocalEntry(entry.path, rel, under=under, skipped=NOT_FOLLOWED)
                continue
            info = entry.stat(follow_symlinks=True)
        except OSError as exc:
            if filters.accepts(rel):
                if is_link and exc.errno == errno.ENOENT:
                    yield failure(entry.path, rel, "broken symbolic link")
                elif exc.errno == errno.ELOOP:
                    yield failure(entry.path, rel, "symbolic link loop")
                else:
                    yield failure(entry.path, rel, _reason(exc))
            continue
        if stat.S_ISDIR(info.st_mode):
            blocked = enter(entry.path, rel + "/")
            if blocked is not None:
                yield blocked
        elif not filters.accepts(rel):
            continue
        elif stat.S_ISREG(info.st_mode):
            yield LocalEntry(entry.path, rel, info.st_size, info.st_mtime, under=under)
        else:  # FIFO, socket, device: reported, never silently skipped
            yield failure(entry.path, rel, "not a regular file")


def walk_sources(
    sources: Sequence[str | os.PathLike[str]],
    *,
    keep_dir_names: bool = True,
    follow_symlinks: bool = False,
    filters: PathFilter = EVERYTHING,
    dir_markers: bool = False,
) -> Iterator[LocalEntry]:
    """Each source in turn: a file is one entry named after it, a folder its walk.

    A source named explicitly is used even when it is a symlink (like ``cp -r`` and rsync
    treat command-line arguments); links found *inside* a folder follow ``follow_symlinks``.
    """
    for source in sources:
        path = os.fspath(source)
        name = os.path.basename(os.path.normpath(path))
        try:
            info = os.stat(path)
        except OSError as exc:
            if os.path.islink(path):
                reason = "broken symbolic link"
            elif exc.errno == errno.ENOENT:
                reason = "no such file or directory"
            else:
                reason = _reason(exc)
            yield LocalEntry(path, name, error=LocalFileError(reason))
            continue
        if stat.S_ISDIR(info.st_mode):
            yield from walk_tree(
                path,
                follow_symlinks=follow_symlinks,
                filters=filters,
                dir_markers=dir_markers,
                under=f"{name}/" if keep_dir_names else "",
            )
        elif not filters.accepts(name):
            continue
        elif stat.S_ISREG(info.st_mode):
            yield LocalEntry(path, name, info.st_size, info.st_mtime)
        else:
            yield LocalEntry(path, name, error=LocalFileError("not a regular file"))
