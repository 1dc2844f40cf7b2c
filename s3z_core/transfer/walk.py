"""Walking local sources for upload: lazily, without following symlinks unless asked.

Following symlinks detects cycles by (device, inode) of the directories on the current
path, so a link to a parent (aws-cli #3709) cannot recurse forever; a broken link is a
named failure for that entry (aws-cli #487 aborted the whole sync).
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from s3z_core.errors import LocalFileError


@dataclass(frozen=True, slots=True)
class LocalEntry:
    path: str
    key: str
    is_dir_marker: bool = False
    error: LocalFileError | None = None
    skipped: str = ""  # why this path is left out on purpose ("" = it is to be uploaded)


NOT_FOLLOWED = "symbolic link not followed (following links is off)"


def matches(rel: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    """``--include`` narrows, ``--exclude`` removes; patterns match the relative path."""
    if include and not any(fnmatch.fnmatchcase(rel, p) for p in include):
        return False
    return not any(fnmatch.fnmatchcase(rel, p) for p in exclude)


def _join_key(prefix: str, rel: str) -> str:
    if prefix and not prefix.endswith("/"):
        return f"{prefix}/{rel}"
    return prefix + rel


def walk_sources(
    sources: Sequence[str | Path],
    prefix: str,
    *,
    keep_dir_names: bool = True,
    follow_symlinks: bool = False,
    dir_markers: bool = False,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> Iterator[LocalEntry]:
    """Yield every file to upload (and optional ``dir/`` markers), in a stable order."""
    for source in sources:
        src = os.fspath(source)
        name = os.path.basename(os.path.normpath(src))
        if os.path.islink(src) and not os.path.exists(src):
            yield LocalEntry(
                src, _join_key(prefix, name), error=LocalFileError(f"{src}: broken symbolic link")
            )
            continue
        if os.path.isdir(src) and (follow_symlinks or not os.path.islink(src)):
            base = _join_key(prefix, name) if keep_dir_names else prefix
            yield from _walk_dir(src, base, follow_symlinks, dir_markers, include, exclude)
        elif os.path.exists(src) or os.path.islink(src):
            if matches(name, include, exclude):
                yield LocalEntry(src, _join_key(prefix, name))
        else:
            yield LocalEntry(
                src,
                _join_key(prefix, name),
                error=LocalFileError(f"{src}: no such file or directory"),
            )


def _walk_dir(
    root: str,
    base: str,
    follow: bool,
    dir_markers: bool,
    include: Sequence[str],
    exclude: Sequence[str],
) -> Iterator[LocalEntry]:
    st = os.stat(root)
    stack: list[tuple[str, str, tuple[tuple[int, int], ...]]] = [
        (root, "", ((st.st_dev, st.st_ino),))
    ]
    while stack:
        directory, rel_dir, ancestors = stack.pop()
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            yield LocalEntry(
                directory,
                _join_key(base, rel_dir),
                error=LocalFileError(f"cannot list {directory}: {exc.strerror}"),
            )
            continue
        if not entries and dir_markers and rel_dir:
            yield LocalEntry(directory, _join_key(base, rel_dir), is_dir_marker=True)
        subdirs: list[tuple[str, str, tuple[tuple[int, int], ...]]] = []
        for entry in entries:
            rel = f"{rel_dir}{entry.name}"
            try:
                is_link = entry.is_symlink()
                if is_link and not follow:  # not followed by default: said, not silent
                    if matches(rel, include, exclude):
                        yield LocalEntry(entry.path, _join_key(base, rel), skipped=NOT_FOLLOWED)
                    continue
                if entry.is_dir(follow_symlinks=follow):
                    est = entry.stat(follow_symlinks=True)
                    ident = (est.st_dev, est.st_ino)
                    if ident in ancestors:
                        yield LocalEntry(
                            entry.path,
                            _join_key(base, rel),
                            error=LocalFileError(f"{entry.path}: symbolic link loop skipped"),
                        )
                        continue
                    subdirs.append((entry.path, rel + "/", (*ancestors, ident)))
                elif entry.is_file(follow_symlinks=follow):
                    if matches(rel, include, exclude):
                        yield LocalEntry(entry.path, _join_key(base, rel))
                elif is_link:
                    yield LocalEntry(
                        entry.path,
                        _join_key(base, rel),
                        error=LocalFileError(f"{entry.path}: broken symbolic link"),
                    )
                else:  # FIFO, socket, device: reported, never silently skipped
                    yield LocalEntry(
                        entry.path,
                        _join_key(base, rel),
                        error=LocalFileError(f"{entry.path}: not a regular file"),
                    )
            except OSError as exc:
                yield LocalEntry(
                    entry.path,
                    _join_key(base, rel),
                    error=LocalFileError(f"{entry.path}: {exc.strerror}"),
                )
        stack.extend(reversed(subdirs))
