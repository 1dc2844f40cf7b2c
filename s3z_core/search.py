"""What "search a bucket" matches: a glob when the query has glob characters, else a
substring, on the key below the searched prefix.

People type ``report`` and expect every key containing it, or ``*.jpg`` and expect a glob;
both are common in GUI S3 tools, so the query's shape picks the rule instead of a mode
switch. Case-insensitive unless asked (a search box is not a filter: filters stay
case-sensitive like S3 keys). The pattern is compiled once; a match is one regex call per
listed key, cheap enough to run on the loop as pages arrive.
"""

from __future__ import annotations

import re
from dataclasses import field
from fnmatch import translate

from s3z_core.errors import ConfigError
from s3z_core.records import record

_GLOB = set("*?[")


@record
class KeyQuery:
    text: str
    case_sensitive: bool = False
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)
    # Decided once with the pattern: ``matches`` runs per listed key (100k+ in a search).
    _glob: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.text:
            raise ConfigError("a search needs something to look for")
        flags = 0 if self.case_sensitive else re.IGNORECASE
        glob = not _GLOB.isdisjoint(self.text)
        object.__setattr__(self, "_glob", glob)
        if glob:
            # A glob without "/" names a file anywhere below the prefix, like a file
            # manager's search; one with "/" is matched against the whole relative key.
            body = translate(self.text)
            source = body if "/" in self.text else rf"(?:.*/)?{body}"
        else:
            source = re.escape(self.text)
        object.__setattr__(self, "_pattern", re.compile(source, flags | re.DOTALL))

    @property
    def is_glob(self) -> bool:
        return self._glob

    def matches(self, relative_key: str) -> bool:
        if self._glob:
            return self._pattern.match(relative_key) is not None
        return self._pattern.search(relative_key) is not None
