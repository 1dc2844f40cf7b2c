"""The transfer queue and its history, kept across restarts in the state folder.

One small SQLite file (``queue.sqlite3`` next to the engine's journal) holds every row the
window shows — its spec, order, priority, status and the connection it ran on — and the
next transfer id, so ids stay unique over every run of the app. The GUI saves snapshots:
the rows are copied on the GUI thread (plain values, cheap) and written on this archive's
own thread, one transaction each, so a crash leaves the previous snapshot or the new one.
The bytes themselves are the journal's business (``s3z_core.journal``): a row that was not
finished comes back paused, and resuming it lets the engine continue from the journal.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

from s3z_core.events import Direction
from s3z_core.journal_records import in_transaction
from s3z_core.specs import TransferSpec
from s3z_gui.models.folder_command import FolderCommand, command_from_json, command_to_json
from s3z_gui.models.transfer_row import Priority, Status

T = TypeVar("T")
log = logging.getLogger(__name__)

ARCHIVE_NAME = "queue.sqlite3"
#: Finished rows kept as history (the newest); unfinished rows are always kept.
HISTORY_LIMIT = 1000
_SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rows (
    transfer_id INTEGER PRIMARY KEY,
    position INTEGER NOT NULL,
    priority INTEGER NOT NULL,
    direction TEXT NOT NULL,
    source TEXT NOT NULL,
    destination TEXT NOT NULL,
    size INTEGER,
    done_bytes INTEGER NOT NULL,
    status TEXT NOT NULL,
    error TEXT NOT NULL,
    error_code TEXT NOT NULL,
    connection TEXT NOT NULL,
    spec TEXT
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS folders (position INTEGER PRIMARY KEY, command TEXT NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class SavedRow:
    transfer_id: int
    priority: Priority
    direction: Direction
    source: str
    destination: str
    size: int | None
    done_bytes: int
    status: Status
    error: str
    error_code: str
    connection: str  # the connection's label: a row resumes only there
    spec: TransferSpec | None


@dataclass(frozen=True, slots=True)
class SavedQueue:
    rows: list[SavedRow]
    next_id: int = 1
    folders: list[FolderCommand] = dataclasses.field(default_factory=list)


def spec_to_json(spec: TransferSpec) -> str:
    return json.dumps(dataclasses.asdict(spec), sort_keys=True)


def spec_from_json(text: str) -> TransferSpec | None:
    """None for a record this version cannot read (a newer one's, or damaged)."""
    try:
        raw = json.loads(text)
        known = {f.name for f in dataclasses.fields(TransferSpec)}
        values = {k: v for k, v in raw.items() if k in known}
        values["metadata"] = tuple((str(k), str(v)) for k, v in values.get("metadata", ()))
        return TransferSpec(**values)
    except (ValueError, TypeError, AttributeError):
        return None


def _status(text: str) -> Status:
    try:
        status = Status(text)
    except ValueError:
        return Status.FAILED
    # What was not finished when the app stopped (closed for later, or killed) comes back
    # paused: nothing runs until the user resumes it.
    return status if status.finished else Status.PAUSED


def _priority(value: int) -> Priority:
    try:
        return Priority(value)
    except ValueError:
        return Priority.NORMAL


def trim_history(rows: Sequence[SavedRow], limit: int = HISTORY_LIMIT) -> list[SavedRow]:
    """Every unfinished row, and the newest ``limit`` finished ones, in their order."""
    finished = [r.transfer_id for r in rows if r.status.finished]
    dropped = set(sorted(finished)[:-limit] if limit else finished)
    return [r for r in rows if r.transfer_id not in dropped]


class QueueArchive:
    """The archive file and its one thread; ``QueueArchive()`` does no I/O."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="s3z-queue")
        self._db: sqlite3.Connection | None = None

    def __repr__(self) -> str:
        return f"QueueArchive({str(self.path)!r})"

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, _SCHEMA_VERSION):
                raise sqlite3.DatabaseError(f"queue archive schema {version} is not known")
            db.executescript(_SCHEMA)
            db.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")
            self._db = db
        return self._db

    def _tx(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return in_transaction(self._conn(), fn)

    async def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._tx, fn)

    async def load(self) -> SavedQueue:
        """The saved rows in their order; an unreadable file is logged and starts empty."""
        try:
            return await self._call(_read)
        except (OSError, sqlite3.Error) as exc:
            log.warning("the saved transfer queue %s cannot be read: %s", self.path, exc)
            return SavedQueue([])

    def save(
        self, rows: Sequence[SavedRow], next_id: int, folders: Sequence[FolderCommand] = ()
    ) -> Future[None]:
        """Replace the saved queue (handed to the archive's thread; returns at once).
        ``folders``: the unfinished folder transfers, re-run whole at a resume."""
        kept = trim_history(rows)
        future: Future[None] = self._executor.submit(
            self._tx, lambda db: _write(db, kept, next_id, folders)
        )
        future.add_done_callback(_log_failure)
        return future

    async def save_now(
        self, rows: Sequence[SavedRow], next_id: int, folders: Sequence[FolderCommand] = ()
    ) -> None:
        await asyncio.wrap_future(self.save(rows, next_id, folders))

    def close(self) -> None:
        """Finish the writes handed over, then close the file (blocks: off the GUI thread)."""

        def shut() -> None:
            if self._db is not None:
                self._db.close()
                self._db = None

        with contextlib.suppress(RuntimeError):  # already shut down
            self._executor.submit(shut).result()
        self._executor.shutdown(wait=True)


def _read(db: sqlite3.Connection) -> SavedQueue:
    rows = []
    for r in db.execute(
        "SELECT transfer_id, priority, direction, source, destination, size, done_bytes,"
        " status, error, error_code, connection, spec FROM rows ORDER BY position"
    ):
        spec = spec_from_json(r[11]) if r[11] else None
        rows.append(
            SavedRow(
                int(r[0]),
                _priority(int(r[1])),
                cast(Direction, r[2]),
                str(r[3]),
                str(r[4]),
                None if r[5] is None else int(r[5]),
                int(r[6]),
                _status(str(r[7])),
                str(r[8]),
                str(r[9]),
                str(r[10]),
                spec,
            )
        )
    found = db.execute("SELECT value FROM meta WHERE name='next_id'").fetchone()
    saved_next = int(found[0]) if found else 1
    highest = max((r.transfer_id for r in rows), default=0)
    found_folders = (
        command_from_json(str(text))
        for (text,) in db.execute("SELECT command FROM folders ORDER BY position")
    )
    folders = [f for f in found_folders if f is not None]
    return SavedQueue(rows, max(saved_next, highest + 1), folders)


def _write(
    db: sqlite3.Connection,
    rows: Sequence[SavedRow],
    next_id: int,
    folders: Sequence[FolderCommand] = (),
) -> None:
    db.execute("DELETE FROM rows")
    db.execute("DELETE FROM folders")
    db.executemany(
        "INSERT INTO folders VALUES (?,?)",
        [(position, command_to_json(f)) for position, f in enumerate(folders)],
    )
    values: list[tuple[Any, ...]] = [
        (
            r.transfer_id,
            position,
            int(r.priority),
            r.direction,
            r.source,
            r.destination,
            r.size,
            r.done_bytes,
            r.status.value,
            r.error,
            r.error_code,
            r.connection,
            spec_to_json(r.spec) if r.spec is not None else None,
        )
        for position, r in enumerate(rows)
    ]
    db.executemany("INSERT OR REPLACE INTO rows VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", values)
    db.execute("INSERT OR REPLACE INTO meta VALUES ('next_id', ?)", (str(next_id),))


def _log_failure(future: Future[None]) -> None:
    exc = future.exception()
    if exc is not None:  # the next snapshot tries again; the journal keeps the bytes' state
        log.warning("saving the transfer queue failed: %s", exc)


__all__ = [
    "ARCHIVE_NAME",
    "HISTORY_LIMIT",
    "QueueArchive",
    "SavedQueue",
    "SavedRow",
    "spec_from_json",
    "spec_to_json",
    "trim_history",
]
