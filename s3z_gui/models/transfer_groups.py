"""A folder transfer as one queue row with totals; its files are the row's children.

Issue 15, bug 14: a dropped folder added one row per file (200+ rows). The transfer
controller opens a group before the folder's batch starts, saying which specs belong to it
(an upload's files under the folder, a download's files under its local root, in one
bucket) and closes it when the batch ends; the store files each queued row under the open
group its spec matches. No Qt here: the tree model only shows groups.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from s3z_core.events import Direction
from s3z_core.specs import TransferSpec
from s3z_gui.models.folder_command import FolderCommand, file_identity
from s3z_gui.models.transfer_row import Status, TransferRow
from s3z_gui.units import count_of


@dataclass(eq=False, slots=True)
class TransferGroup:
    group_id: int
    direction: Direction
    name: str  # the folder's own name
    source: str
    destination: str
    bucket: str
    local_folder: str  # upload: the folder walked; download: the local root written
    children: list[TransferRow] = field(default_factory=list)
    positions: dict[int, int] = field(default_factory=dict)  # transfer id -> child position
    published: int = 0  # children the view already shows
    open: bool = True  # still taking new files (its batch runs)
    # What runs the folder again (issue 14): set while its batch has not run to its end.
    command: FolderCommand | None = None
    restored: bool = False  # an earlier run's folder, waiting for a Resume
    # A resumed folder's saved, unfinished files: the engine's new transfer of the same file
    # takes over the row (``adopt``) instead of adding a second one.
    waiting: dict[tuple[str, str, str, str], TransferRow] = field(default_factory=dict)

    def matches(self, spec: TransferSpec | None) -> bool:
        """Does this queued transfer belong to the folder? By the spec's fields only."""
        if spec is None or spec.direction != self.direction or spec.bucket != self.bucket:
            return False
        if self.direction == "download":
            return spec.local_root == self.local_folder
        return spec.local_path.startswith(os.path.join(self.local_folder, ""))

    def add(self, row: TransferRow) -> None:
        self.positions[row.transfer_id] = len(self.children)
        self.children.append(row)
        row.group = self

    def adopt(self, spec: TransferSpec | None) -> TransferRow | None:
        return self.waiting.pop(file_identity(spec), None) if spec is not None else None

    def reindex(self) -> None:
        self.positions = {row.transfer_id: i for i, row in enumerate(self.children)}

    # totals -------------------------------------------------------------------------

    @property
    def size(self) -> int | None:
        sizes = [row.size for row in self.children]
        return sum(s for s in sizes if s is not None) if sizes else None

    @property
    def done_bytes(self) -> int:
        return sum(row.size or 0 if row.status == Status.COMPLETED else row.done_bytes
                   for row in self.children)  # fmt: skip

    @property
    def fraction(self) -> float:
        size = self.size
        if self.status == Status.COMPLETED:
            return 1.0
        return max(0.0, min(1.0, self.done_bytes / size)) if size else 0.0

    @property
    def rate_bps(self) -> float:
        return sum(row.rate_bps for row in self.children if row.status == Status.RUNNING)

    @property
    def eta_s(self) -> float | None:
        rate, size = self.rate_bps, self.size
        if rate <= 0 or size is None:
            return None
        return max(0.0, (size - self.done_bytes) / rate)

    def count(self, status: Status) -> int:
        return sum(1 for row in self.children if row.status == status)

    @property
    def status(self) -> Status:
        """Running while any file runs; finished only when its batch ended and every file did."""
        statuses = {row.status for row in self.children}
        if self.restored:
            return Status.PAUSED
        for busy in (Status.RUNNING, Status.QUEUED, Status.PAUSED):
            if busy in statuses:
                return busy
        if self.open:
            return Status.QUEUED if not statuses else Status.RUNNING
        if Status.FAILED in statuses:
            return Status.FAILED
        if Status.CANCELLED in statuses:
            return Status.CANCELLED
        return Status.COMPLETED

    @property
    def status_text(self) -> str:
        total = len(self.children)
        done = self.count(Status.COMPLETED)
        status = self.status
        if not status.finished:
            return f"{status.value} ({done} of {total} done)"
        parts = [f"{done} of {total} done"]
        for other in (Status.FAILED, Status.CANCELLED):
            if n := self.count(other):
                parts.append(f"{n} {other.value.lower()}")
        return (
            ", ".join(parts)
            if status != Status.COMPLETED
            else f"Completed ({count_of(total, 'file')})"
        )
