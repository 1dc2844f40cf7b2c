"""What to do when an upload's key already exists (issue 15, bug 10), as data (no Qt).

Like Cyberduck and every file manager: ask, or follow the default from Settings. An answer
may apply to the rest of the batch ("apply to all"). "Keep both" uploads under a free name:
``photo.jpg`` becomes ``photo (1).jpg``, ``(2)`` if that is taken too.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from enum import StrEnum


class ConflictChoice(StrEnum):
    OVERWRITE = "overwrite"
    SKIP = "skip"
    KEEP_BOTH = "keep_both"


class ConflictPolicy(StrEnum):
    """The Settings default: ask each time, or one choice without asking."""

    ASK = "ask"
    OVERWRITE = "overwrite"
    SKIP = "skip"
    KEEP_BOTH = "keep_both"

    @property
    def choice(self) -> ConflictChoice | None:
        return None if self is ConflictPolicy.ASK else ConflictChoice(self.value)


@dataclass(frozen=True, slots=True)
class Conflict:
    """One file whose destination exists already: the key of an upload, or the local file
    of a download (which offers no "keep both": its path is derived from the key)."""

    local_path: str
    bucket: str
    key: str
    direction: str = "upload"


@dataclass(frozen=True, slots=True)
class ConflictAnswer:
    choice: ConflictChoice
    apply_to_all: bool = False


def keep_both_key(key: str, taken: set[str]) -> str:
    """The first ``name (n).ext`` beside ``key`` that is not in ``taken``."""
    folder, name = posixpath.split(key)
    stem, dot, ext = name.rpartition(".")
    if not stem:  # no extension (or a dot-file): number the whole name
        stem, dot, ext = name, "", ""
    n = 1
    while True:
        candidate = posixpath.join(folder, f"{stem} ({n}){dot}{ext}") if folder else ""
        candidate = candidate or f"{stem} ({n}){dot}{ext}"
        if candidate not in taken:
            return candidate
        n += 1
