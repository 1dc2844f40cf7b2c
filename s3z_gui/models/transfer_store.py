"""The transfer queue as pure Python rows, folded from engine events (no Qt here).

The engine may emit thousands of events a second; this store only records what
changed. The Qt model asks for the changes once per tick, so the cost of the UI
stays flat whatever the event rate (see STYLE.md, "How progress travels").
"""

from __future__ import annotations

from dataclasses import dataclass

from s3z_core.errors import ServiceError, UnsafeKeyError
from s3z_core.events import (
    BytesTransferred,
    Direction,
    PartRetried,
    RequestRetried,
    TransferCancelled,
    TransferCompleted,
    TransferEvent,
    TransferFailed,
    TransferPaused,
    TransferQueued,
    TransferResumed,
    TransferStarted,
)
from s3z_gui.models.transfer_groups import TransferGroup
from s3z_gui.models.transfer_row import (
    ALL_COLUMNS,
    PROGRESS_COLUMNS,
    RATE_WINDOW_S,
    Column,
    Marker,
    MarkerKind,
    Priority,
    Status,
    TransferRow,
    describe_error,
    marker_kind,
    unsafe_refusal,
)

__all__ = [
    "ALL_COLUMNS",
    "PROGRESS_COLUMNS",
    "Column",
    "Marker",
    "MarkerKind",
    "Priority",
    "Status",
    "TickChanges",
    "Totals",
    "TransferGroup",
    "TransferRow",
    "TransferStore",
    "describe_error",
    "marker_kind",
    "unsafe_refusal",
]


@dataclass(frozen=True, slots=True)
class TickChanges:
    """What one tick must tell the view: new rows, changed cells, bytes moved, markers."""

    first_new_row: int
    new_row_count: int
    changed: dict[int, frozenset[Column]]
    upload_bytes: int
    download_bytes: int
    markers: tuple[Marker, ...]


@dataclass(frozen=True, slots=True)
class Totals:
    active: int  # running now; paused transfers are counted apart (bug 9)
    queued: int
    completed: int
    failed: int
    upload_bps: float
    download_bps: float
    remaining_bytes: int
    paused: int = 0
    cancelled: int = 0


class TransferStore:
    """Rows in arrival order plus an index by transfer id; records dirt, not pixels."""

    def __init__(self) -> None:
        self.rows: list[TransferRow] = []
        self._index: dict[int, int] = {}
        self._dirty: dict[int, set[Column]] = {}  # by transfer id, so removals keep it valid
        self._published_rows = 0
        self._moved = {"upload": 0, "download": 0, "copy": 0}
        self._markers: list[Marker] = []
        self.groups: list[TransferGroup] = []  # every group with rows in the store
        self._group_ids = 0
        self.connection = ""  # the current connection's label, stamped on new rows

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def published_rows(self) -> int:
        """Rows the view already knows about (new rows appear on the next tick)."""
        return self._published_rows

    def open_group(
        self,
        direction: Direction,
        name: str,
        source: str,
        destination: str,
        bucket: str,
        local_folder: str,
    ) -> TransferGroup:
        """Rows queued from now on whose spec matches join this group, until it closes."""
        self._group_ids += 1
        group = TransferGroup(
            self._group_ids, direction, name, source, destination, bucket, local_folder
        )
        self.groups.append(group)
        return group

    def close_group(self, group: TransferGroup) -> None:
        """Its batch ended: no more rows join; an empty group is dropped at once."""
        group.open = False
        if not group.children:
            self.groups.remove(group)
        else:  # its row's status may change now (finished): tell the view
            for row in group.children[:1]:
                self._dirty.setdefault(row.transfer_id, set()).update(ALL_COLUMNS)

    def restore_group(self, group: TransferGroup, rows: list[TransferRow]) -> None:
        """An earlier run's folder row, paused, with the saved rows of its files."""
        self._group_ids += 1
        group.group_id = self._group_ids
        for row in rows:
            group.add(row)
        self.groups.append(group)

    def _rekey(self, group: TransferGroup, row: TransferRow, transfer_id: int) -> None:
        """A saved file's row now runs under the engine's new transfer id."""
        position = self._index.pop(row.transfer_id)
        group.positions[transfer_id] = group.positions.pop(row.transfer_id)
        self._dirty.pop(row.transfer_id, None)
        row.transfer_id = transfer_id
        self._index[transfer_id] = position

    def row_for(self, transfer_id: int) -> TransferRow | None:
        position = self._index.get(transfer_id)
        return None if position is None else self.rows[position]

    def _touch(self, transfer_id: int, columns: frozenset[Column]) -> TransferRow | None:
        position = self._index.get(transfer_id)
        if position is None:
            return None
        self._dirty.setdefault(transfer_id, set()).update(columns)
        return self.rows[position]

    def apply(self, event: TransferEvent, now_s: float) -> None:
        """Fold one engine event into the rows. Unknown ids are ignored (late events)."""
        if isinstance(event, TransferQueued):
            known = self.row_for(event.transfer_id)
            if known is not None:  # a retry or resume under the row's own id: reused
                if known.status.finished or known.restored:
                    known.requeue(event)
                    self._touch(event.transfer_id, ALL_COLUMNS)
                return
            group = next((g for g in self.groups if g.open and g.matches(event.spec)), None)
            adopted = group.adopt(event.spec) if group is not None else None
            if adopted is not None and group is not None:
                self._rekey(group, adopted, event.transfer_id)
                adopted.requeue(event)
                self._touch(event.transfer_id, ALL_COLUMNS)
                return
            self._index[event.transfer_id] = len(self.rows)
            new_row = TransferRow(
                event.transfer_id,
                event.direction,
                event.source,
                event.destination,
                event.size,
                spec=event.spec,
                connection=self.connection,
            )
            self.rows.append(new_row)
            if group is not None:
                group.add(new_row)
        elif isinstance(event, BytesTransferred):
            row = self._touch(event.transfer_id, PROGRESS_COLUMNS)
            if row is not None:
                row.done_bytes += event.delta
                self._moved[row.direction] += event.delta
                if row.status == Status.QUEUED:
                    row.status = Status.RUNNING
                    self._touch(event.transfer_id, ALL_COLUMNS)
        elif isinstance(event, TransferStarted):
            row = self._touch(event.transfer_id, ALL_COLUMNS)
            if row is not None:
                row.size = event.size
                row.status = Status.RUNNING
                row.samples.clear()
                row.samples.append((now_s, row.done_bytes))
        elif isinstance(event, PartRetried):
            row = self._touch(event.transfer_id, frozenset({Column.STATUS}))
            if row is not None:
                row.retries += 1
            self._markers.append(
                Marker(
                    now_s,
                    marker_kind(event.throttled),
                    f"{event.reason} (part {event.part_number})",
                )
            )
        elif isinstance(event, RequestRetried):
            self._markers.append(
                Marker(now_s, marker_kind(event.throttled), f"{event.operation}: {event.reason}")
            )
        elif isinstance(event, TransferPaused):
            self._set_status(event.transfer_id, Status.PAUSED)
        elif isinstance(event, TransferResumed):
            self._set_status(event.transfer_id, Status.RUNNING)
        elif isinstance(event, TransferCompleted):
            row = self._set_status(event.transfer_id, Status.COMPLETED)
            if row is not None:
                row.size = event.size
                row.done_bytes = event.size
                row.verification = event.verification
                row.elapsed_s = event.elapsed_s
        elif isinstance(event, TransferFailed):
            row = self._set_status(event.transfer_id, Status.FAILED)
            if row is not None:
                row.error = describe_error(event.error)
                if isinstance(event.error, ServiceError):
                    row.error_code = event.error.code
                if isinstance(event.error, UnsafeKeyError):
                    row.retry_refusal = unsafe_refusal(event.error)
        elif isinstance(event, TransferCancelled):
            self._set_status(event.transfer_id, Status.CANCELLED)

    def add_restored(self, rows: list[TransferRow]) -> None:
        """Rows of an earlier run of the app (history, and unfinished ones paused), shown on
        the next tick like new ones. Ids already present are left alone."""
        for row in rows:
            if row.transfer_id in self._index:
                continue
            self._index[row.transfer_id] = len(self.rows)
            self.rows.append(row)

    def set_status(self, transfer_id: int, status: Status) -> TransferRow | None:
        """A status the GUI decides itself (a saved row handed to the engine: queued)."""
        return self._set_status(transfer_id, status)

    def _set_status(self, transfer_id: int, status: Status) -> TransferRow | None:
        row = self._touch(transfer_id, ALL_COLUMNS)
        if row is not None:
            row.status = status
            if status != Status.RUNNING:
                row.rate_bps = 0.0
                row.samples.clear()
        return row

    def tick(self, now_s: float) -> TickChanges:
        """Update speeds and hand over everything that changed since the last tick.

        New rows stay unpublished until ``publish(changes)``.
        """
        for row in self.rows[: self._published_rows]:
            if row.status != Status.RUNNING:
                continue
            row.samples.append((now_s, row.done_bytes))
            while len(row.samples) > 2 and now_s - row.samples[1][0] >= RATE_WINDOW_S:
                row.samples.popleft()
            first_t, first_bytes = row.samples[0]
            span = now_s - first_t
            new_rate = (row.done_bytes - first_bytes) / span if span > 0 else 0.0
            if new_rate != row.rate_bps:
                row.rate_bps = max(0.0, new_rate)
                self._dirty.setdefault(row.transfer_id, set()).update(PROGRESS_COLUMNS)

        first_new = self._published_rows
        new_count = len(self.rows) - first_new
        changed: dict[int, frozenset[Column]] = {}
        for transfer_id, columns in self._dirty.items():
            position = self._index.get(transfer_id)
            if position is not None and position < first_new:
                changed[position] = frozenset(columns)
        self._dirty.clear()
        changes = TickChanges(
            first_new_row=first_new,
            new_row_count=new_count,
            changed=changed,
            upload_bytes=self._moved["upload"],
            download_bytes=self._moved["download"] + self._moved["copy"],
            markers=tuple(self._markers),
        )
        self._moved = {"upload": 0, "download": 0, "copy": 0}
        self._markers = []
        return changes

    def publish(self, changes: TickChanges) -> None:
        """Make the tick's new rows visible (the Qt model calls this between
        ``beginInsertRows`` and ``endInsertRows``, so observers see the old count first)."""
        self._published_rows = changes.first_new_row + changes.new_row_count

    def finished_ranges(self) -> list[tuple[int, int]]:
        """Published finished rows as (first, last) ranges, last range first, so removing
        them in order never shifts a range still to come."""
        ranges: list[tuple[int, int]] = []
        position = self._published_rows - 1
        while position >= 0:
            if self.rows[position].status.finished:
                last = position
                while position - 1 >= 0 and self.rows[position - 1].status.finished:
                    position -= 1
                ranges.append((position, last))
            position -= 1
        return ranges

    def remove_rows(self, first: int, last: int) -> None:
        """Drop published rows ``first..last``; pending changes of other rows survive."""
        del self.rows[first : last + 1]
        self._published_rows -= last - first + 1
        self._index = {row.transfer_id: i for i, row in enumerate(self.rows)}
        self._dirty = {tid: cols for tid, cols in self._dirty.items() if tid in self._index}

    def remove_transfers(self, ids: set[int]) -> None:
        """Drop these published rows wherever they sit (a group's files are not adjacent)."""
        kept = [row for row in self.rows if row.transfer_id not in ids]
        self._published_rows -= len(self.rows) - len(kept)
        self.rows = kept
        self._index = {row.transfer_id: i for i, row in enumerate(self.rows)}
        self._dirty = {tid: cols for tid, cols in self._dirty.items() if tid in self._index}
        for group in list(self.groups):
            group.children = [row for row in group.children if row.transfer_id not in ids]
            group.published = min(group.published, len(group.children))
            group.reindex()
            if not group.children and not group.open:
                self.groups.remove(group)

    def remove_finished(self) -> list[tuple[int, int]]:
        """Drop every finished published row; returns the removed ranges."""
        ranges = self.finished_ranges()
        for first, last in ranges:
            self.remove_rows(first, last)
        return ranges

    def totals(self) -> Totals:
        active = queued = completed = failed = paused = cancelled = 0
        up = down = 0.0
        remaining = 0
        for row in self.rows:
            if row.status == Status.RUNNING:
                active += 1
            elif row.status == Status.PAUSED:
                paused += 1
            elif row.status == Status.CANCELLED:
                cancelled += 1
            elif row.status == Status.QUEUED:
                queued += 1
            elif row.status == Status.COMPLETED:
                completed += 1
            elif row.status == Status.FAILED:
                failed += 1
            if row.direction == "upload":
                up += row.rate_bps
            else:
                down += row.rate_bps
            if not row.status.finished and row.size is not None:
                remaining += max(0, row.size - row.done_bytes)
        return Totals(active, queued, completed, failed, up, down, remaining, paused, cancelled)
