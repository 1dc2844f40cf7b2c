"""Where the browser is and where it has been: locations, the address bar's syntax, back/forward.

Qt-free, so the navigation rules are unit-tested without a window: a visit to a new place
pushes the current one on the back stack and clears forward (as every file browser does);
back and forward move between the stacks; a refresh or a programmatic jump (``remember=False``)
leaves the history alone; the empty location (no bucket) is never remembered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from s3z_gui.models.listing import parent_prefix


@dataclass(frozen=True, slots=True)
class Location:
    bucket: str | None
    prefix: str = ""

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.bucket else ""


def parse_location(text: str) -> Location | None:
    """``s3://b/p``, ``b/p/`` or ``b`` → Location(b, "p/"); None for nonsense."""
    text = text.strip()
    if text.startswith("s3://"):
        text = text[len("s3://") :]
    text = text.lstrip("/")
    if not text:
        return None
    bucket, _, prefix = text.partition("/")
    if not bucket or " " in bucket:
        return None
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return Location(bucket, prefix)


def parent_location(location: Location) -> Location | None:
    """One folder up inside the bucket; None at the bucket's root (or with no bucket)."""
    if not location.bucket or not location.prefix:
        return None
    return Location(location.bucket, parent_prefix(location.prefix))


@dataclass
class NavigationHistory:
    current: Location = field(default_factory=lambda: Location(None))
    _back: list[Location] = field(default_factory=list)
    _forward: list[Location] = field(default_factory=list)

    @property
    def can_go_back(self) -> bool:
        return bool(self._back)

    @property
    def can_go_forward(self) -> bool:
        return bool(self._forward)

    @property
    def can_go_up(self) -> bool:
        return bool(self.current.prefix)

    def visit(self, location: Location, *, remember: bool = True) -> Location:
        """Go to ``location``; remembered visits make the old place reachable with Back."""
        if remember and location != self.current and self.current.bucket is not None:
            self._back.append(self.current)
            self._forward.clear()
        self.current = location
        return location

    def back(self) -> Location | None:
        if not self._back:
            return None
        self._forward.append(self.current)
        self.current = self._back.pop()
        return self.current

    def forward(self) -> Location | None:
        if not self._forward:
            return None
        self._back.append(self.current)
        self.current = self._forward.pop()
        return self.current

    def up(self) -> Location | None:
        """The parent folder, visited (and remembered); None at a bucket's root."""
        parent = parent_location(self.current)
        return None if parent is None else self.visit(parent)
