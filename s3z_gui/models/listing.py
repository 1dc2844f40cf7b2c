"""One prefix of one bucket as display rows: folders from common prefixes, then objects.

Pure Python so the folding of S3 pages (markers, duplicates across pages) is tested
without Qt; the Qt table model only adapts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from s3z_core.models import ListPage


@dataclass(frozen=True, slots=True)
class Entry:
    """One row of the browser: a folder (a common prefix) or an object."""

    name: str
    key: str  # full key; a folder's ends with "/"
    is_folder: bool
    size: int | None = None
    modified: datetime | None = None
    storage_class: str = ""
    etag: str = ""


def join_prefix(prefix: str, name: str) -> str:
    """The key of ``name`` inside ``prefix`` (which is "" or ends with "/")."""
    return f"{prefix}{name}"


def parent_prefix(prefix: str) -> str:
    """``a/b/`` → ``a/``; ``a/`` → ``""``."""
    trimmed = prefix.rstrip("/")
    cut = trimmed.rfind("/")
    return "" if cut < 0 else trimmed[: cut + 1]


class Listing:
    """The rows seen so far under ``bucket``/``prefix``; pages append, never reorder."""

    def __init__(self, bucket: str, prefix: str) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.entries: list[Entry] = []
        self.has_more = True
        self._seen: set[str] = set()

    def add_page(self, page: ListPage) -> list[Entry]:
        """Fold one server page in and keep its new rows; returns them."""
        fresh = self.fold(page)
        self.entries.extend(fresh)
        return fresh

    def fold(self, page: ListPage) -> list[Entry]:
        """The rows of ``page`` not seen before (marks them seen, does not append them).

        Split from ``add_page`` so the Qt model can announce the insertion first.
        """
        fresh: list[Entry] = []
        for common in page.common_prefixes:
            if common in self._seen or not common.startswith(self.prefix):
                continue
            self._seen.add(common)
            name = common[len(self.prefix) :].rstrip("/")
            fresh.append(Entry(name=name or "/", key=common, is_folder=True))
        for obj in page.objects:
            # The zero-byte "folder/" marker of the prefix itself is not a row of its own.
            if obj.key == self.prefix or obj.key in self._seen:
                continue
            self._seen.add(obj.key)
            name = obj.key[len(self.prefix) :]
            if name.endswith("/"):
                # an empty folder marker listed without a delimiter: show it as a folder
                fresh.append(Entry(name=name.rstrip("/"), key=obj.key, is_folder=True))
                continue
            fresh.append(
                Entry(
                    name=name,
                    key=obj.key,
                    is_folder=False,
                    size=obj.size,
                    modified=obj.last_modified,
                    storage_class=obj.storage_class,
                    etag=obj.etag,
                )
            )
        self.has_more = page.is_truncated
        return fresh
