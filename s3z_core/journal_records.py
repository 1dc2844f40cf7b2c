"""The journal's records and file layout: plain data, no thread, no I/O beyond one
transaction helper, so the GUI's queue archive and the CLI's ``resume`` read the same
shapes the engine writes (``s3z_core.journal`` owns the thread and the writes).
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from collections.abc import Callable, Mapping
from dataclasses import field
from pathlib import Path
from typing import Any, TypeVar

from s3z_core.records import record

T = TypeVar("T")

STATE_ENV = "S3Z_STATE_DIR"
JOURNAL_NAME = "journal.sqlite3"

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY,
    direction TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    local_path TEXT NOT NULL,
    size INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    part_size INTEGER NOT NULL,
    upload_id TEXT,
    temp_path TEXT,
    state TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    batch_id INTEGER,
    UNIQUE (direction, endpoint, bucket, key, local_path)
);
CREATE TABLE IF NOT EXISTS parts (
    job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    etag TEXT NOT NULL DEFAULT '',
    done INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, number)
);
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY,
    identity TEXT NOT NULL UNIQUE,
    command TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS done (
    batch_id INTEGER NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
    item TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    PRIMARY KEY (batch_id, item)
);
"""


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where s3z keeps state that must outlive the process (not config, not cache)."""
    env = os.environ if env is None else env
    if env.get(STATE_ENV):
        return Path(env[STATE_ENV])
    home = Path(env.get("HOME") or Path.home())
    if sys.platform == "win32":
        return Path(env.get("LOCALAPPDATA") or home / "AppData" / "Local") / "s3z"
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "s3z"
    return Path(env.get("XDG_STATE_HOME") or home / ".local" / "state") / "s3z"


@record(frozen=False)
class JobRecord:
    id: int
    direction: str
    endpoint: str
    bucket: str
    key: str
    local_path: str
    size: int
    fingerprint: str
    part_size: int
    upload_id: str | None
    temp_path: str | None
    state: str  # "running", "completing" (Complete sent), "landing" (rename), "done"
    created: float
    updated: float
    batch_id: int | None
    parts: dict[int, str] = field(default_factory=dict)  # upload: number -> ETag
    ranges: dict[int, int] = field(default_factory=dict)  # download: number -> bytes done

    @property
    def bytes_done(self) -> int:
        if self.direction == "upload":
            step = self.part_size
            return sum(min(step, self.size - (n - 1) * step) for n in self.parts)
        return sum(self.ranges.values())


@record
class BatchRecord:
    id: int
    identity: str
    command: dict[str, Any]
    created: float
    items_done: int = 0


def in_transaction(db: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
    """``fn(db)`` as one write transaction (``db`` opened with ``isolation_level=None``):
    committed whole or rolled back whole, so a kill leaves the file before or after it."""
    db.execute("BEGIN IMMEDIATE")
    try:
        result = fn(db)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return result


def job_from_row(db: sqlite3.Connection, row: tuple[Any, ...]) -> JobRecord:
    record = JobRecord(*row)
    for number, etag, done in db.execute(
        "SELECT number, etag, done FROM parts WHERE job_id=?", (record.id,)
    ):
        if record.direction == "upload":
            record.parts[int(number)] = str(etag)
        else:
            record.ranges[int(number)] = int(done)
    return record


def batch_from_row(db: sqlite3.Connection, row: tuple[Any, ...]) -> BatchRecord:
    count = db.execute("SELECT COUNT(*) FROM done WHERE batch_id=?", (row[0],)).fetchone()[0]
    return BatchRecord(int(row[0]), str(row[1]), json.loads(row[2]), float(row[3]), int(count))


__all__ = [
    "JOURNAL_NAME",
    "SCHEMA",
    "SCHEMA_VERSION",
    "STATE_ENV",
    "BatchRecord",
    "JobRecord",
    "batch_from_row",
    "in_transaction",
    "job_from_row",
    "state_dir",
]
