"""``--include`` / ``--exclude`` globs, applied in the order given (aws-cli semantics).

Everything is included to start with; each filter that matches a relative path sets
its fate, so the last matching filter wins: ``--exclude '*' --include '*.txt'`` keeps
only text files. Patterns use ``fnmatch`` rules on the path relative to the source
(``*`` also crosses ``/``), matched case-sensitively like S3 keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Literal

FilterKind = Literal["include", "exclude"]


@dataclass(frozen=True, slots=True)
class PathFilter:
    rules: tuple[tuple[FilterKind, str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.rules)

    def accepts(self, relative_path: str) -> bool:
        keep = True
        for kind, pattern in self.rules:
            if fnmatchcase(relative_path, pattern):
                keep = kind == "include"
        return keep
