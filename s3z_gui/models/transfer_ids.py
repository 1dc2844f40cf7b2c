"""Row ids for the app's life: every engine the app builds draws its transfer ids from here.

Changing settings or connecting elsewhere builds a new engine; with one source for all of
them a new transfer can never take an old row's id (issue 15, bug 1). The source is
pluggable: the queue that persists across restarts (the resume issue) starts it above the
highest id it saved. ``reusing`` hands one id out again: Retry runs the row's spec as a new
transfer of the engine, but under the row's own id, so the row is reused (bug 11).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class TransferIdSource:
    """A callable the engine asks for each new transfer's id (``Engine(transfer_ids=...)``)."""

    def __init__(self, start: int = 1) -> None:
        self._next = start
        self._reuse: int | None = None

    def __call__(self) -> int:
        if self._reuse is not None:
            reused, self._reuse = self._reuse, None
            return reused
        drawn = self._next
        self._next += 1
        return drawn

    def skip_to(self, next_id: int) -> None:
        """Never hand out an id below ``next_id`` (a saved queue's ids are taken)."""
        self._next = max(self._next, next_id)

    @property
    def next_id(self) -> int:
        """The id the next new transfer gets (what a persisted queue saves)."""
        return self._next

    @contextmanager
    def reusing(self, transfer_id: int) -> Iterator[None]:
        """The first id drawn inside the block is ``transfer_id``; unused, it is dropped."""
        self._reuse = transfer_id
        try:
            yield
        finally:
            self._reuse = None
