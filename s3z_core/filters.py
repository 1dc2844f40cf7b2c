"""``--include`` / ``--exclude`` globs, applied in the order given (aws-cli semantics).

The one filter of s3z: the engine's walker and listings, the CLI and the GUI all use it, so
a pair of filters selects the same files whichever way they are given.

Everything is included to start with; each filter that matches a relative path sets its
fate, so the last matching filter wins: ``--exclude '*' --include '*.txt'`` keeps only text
files, and ``--include '*.txt' --exclude '*'`` keeps nothing. Patterns use ``fnmatch`` rules
on the path relative to the source (``*`` also crosses ``/``), matched case-sensitively like
S3 keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase
from typing import Literal

from s3z_core.errors import ConfigError
from s3z_core.records import record

FilterKind = Literal["include", "exclude"]


@record
class PathFilter:
    rules: tuple[tuple[FilterKind, str], ...] = ()

    def __post_init__(self) -> None:
        for kind, _pattern in self.rules:
            if kind not in ("include", "exclude"):
                raise ConfigError(f"a filter is 'include' or 'exclude', got {kind!r}")

    @classmethod
    def of(cls, rules: Iterable[tuple[FilterKind, str]] | PathFilter | None) -> PathFilter:
        """Accept a filter, ordered ``(kind, pattern)`` pairs, or None (everything passes)."""
        if isinstance(rules, PathFilter):
            return rules
        return cls(tuple(rules or ()))

    def __bool__(self) -> bool:
        return bool(self.rules)

    def accepts(self, relative_path: str) -> bool:
        keep = True
        for kind, pattern in self.rules:
            if fnmatchcase(relative_path, pattern):
                keep = kind == "include"
        return keep


EVERYTHING = PathFilter()
