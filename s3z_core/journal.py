"""The transfer journal: what a killed process needs to continue where it was.

One SQLite file (stdlib ``sqlite3``, WAL) in the user's state folder (``$S3Z_STATE_DIR``,
else the platform's: ``$XDG_STATE_HOME/s3z`` or ``~/.local/state/s3z``). It holds

- **jobs**: one file being uploaded in parts or downloaded in ranges: direction, server,
  bucket/key, local path, size, the source's fingerprint (size:mtime_ns:inode of a local
  file; the ETag of an object), the part plan (part or range size), the upload id or the
  download's temp file, the parts done (with their ETags) or the bytes done per range, and
  which side of the last step (``completing`` CompleteMultipartUpload, ``landing`` the
  rename) it was on;
- **batches**: one command (``cp -r``, ``upload``, ``sync``…) as the argument record that
  re-plans it, and the items it has finished (with their fingerprints), so a resumed batch
  sends only what is missing.

Every write is in a transaction, so a SIGKILL at any instant leaves the journal as it was
before or after that write, never between. Writes happen as parts and ranges complete (a
range's progress at most every ``RANGE_STEP_BYTES``), never per byte, and always on the
journal's own thread: the event loop only hands a write over. Fire-and-forget writes
pile up and are committed together, one transaction for the lot. A batch's done items
(the many-small-files case) wait up to ``PILE_WINDOW_S`` for company: one commit each made
``cp -r`` of 10,000 × 4 KiB ~25 % slower, and committing whatever had piled while the
thread was busy still made ~600 commits per 1,000 files, each a dozen syscalls and GIL
hand-offs. Part and range progress (at most one write per part or MiB) commits at once,
taking the pile with it: a kill then loses no finished part. An awaited write also cuts
the window short and seals the pile before it, so order is kept exactly and it never
waits. The writes a step depends on (an upload id before its first part, ``completing``
before Complete) are awaited. A write lost by a crash costs at most re-sending what
finished in its last moments: uploads reconcile with the server's ``ListParts``, which
wins over the journal, and a batch re-sends the items not marked done.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from s3z_core.errors import ConfigError
from s3z_core.journal_records import (
    JOURNAL_NAME,
    SCHEMA,
    SCHEMA_VERSION,
    STATE_ENV,
    BatchRecord,
    JobRecord,
    batch_from_row,
    in_transaction,
    job_from_row,
    state_dir,
)

T = TypeVar("T")
log = logging.getLogger("s3z.journal")

RANGE_STEP_BYTES = 1 << 20  # a download range's progress is written at most this often
PILE_WINDOW_S = 0.02  # fire-and-forget writes wait at most this long for company


class Journal:
    """The journal file and its one thread. ``Journal()`` does no I/O; the file is opened
    (and created) by the first call, on that thread."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else state_dir() / JOURNAL_NAME
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="s3z-journal")
        self._db: sqlite3.Connection | None = None
        # Fire-and-forget writes not yet taken by the thread; ``None``: the next one starts
        # a new pile (and schedules its commit). ``_urgent``: awaited writes handed over and
        # not yet run (a pile in front of one commits at once); ``_prompt``: the open pile
        # holds a write that must not wait. Guarded by ``_piling``.
        self._pile: list[Callable[[sqlite3.Connection], object]] | None = None
        self._urgent = 0
        self._prompt = False
        self._piling = threading.Condition()

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    # -- the thread ------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")  # consistent after any crash
                db.execute("PRAGMA foreign_keys=ON")
                version = db.execute("PRAGMA user_version").fetchone()[0]
                if version not in (0, SCHEMA_VERSION):
                    raise ConfigError(f"{self.path}: journal schema {version} is not known")
                db.executescript(SCHEMA)
                db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            except (OSError, sqlite3.Error) as exc:
                raise ConfigError(f"cannot open the transfer journal {self.path}: {exc}") from None
            self._db = db
        return self._db

    def _tx(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return in_transaction(self._conn(), fn)

    async def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        with self._piling:
            self._pile = None  # what was handed over before runs before this; later, after
            self._prompt = False  # that pile's job sees ``_urgent`` instead
            self._urgent += 1
            self._piling.notify_all()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._run_urgent, fn)

    def _run_urgent(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        try:
            return self._tx(fn)
        finally:
            with self._piling:
                self._urgent -= 1

    def _post(self, fn: Callable[[sqlite3.Connection], object], *, prompt: bool = True) -> None:
        """Hand a write over and return at once: it joins the pile the thread has not taken
        yet, or starts one (order kept: one thread, piles sealed by awaited writes).
        ``prompt=False``: the pile may wait its window for more company."""
        with self._piling:
            if prompt:
                self._prompt = True
                self._piling.notify_all()
            if self._pile is not None:
                self._pile.append(fn)
                return
            pile = self._pile = [fn]
        future: Future[object] = self._executor.submit(self._commit_pile, pile)
        future.add_done_callback(_log_failure)

    def _commit_pile(self, pile: list[Callable[[sqlite3.Connection], object]]) -> None:
        """One transaction for the pile; a write that fails is rolled back alone (its
        savepoint) and logged, the others commit."""
        with self._piling:
            self._piling.wait_for(lambda: self._urgent > 0 or self._prompt, PILE_WINDOW_S)
            if self._pile is pile:
                self._pile = None  # taken: nothing joins it any more
                self._prompt = False

        def run(db: sqlite3.Connection) -> None:
            for fn in pile:
                db.execute("SAVEPOINT w")
                try:
                    fn(db)
                except Exception as exc:  # noqa: BLE001 - one bad write must not lose its pile
                    db.execute("ROLLBACK TO w")
                    log.warning("transfer journal write failed: %s", exc)
                db.execute("RELEASE w")

        self._tx(run)

    async def flush(self) -> None:
        """Wait until every write handed over so far is committed."""
        await self._call(lambda db: None)

    def close(self) -> None:
        """Finish the writes handed over, then close the file (blocks: call it last)."""

        def shut() -> None:
            if self._db is not None:
                self._db.close()
                self._db = None

        with self._piling:
            self._urgent += 1  # the last pile commits now; the count never drops again
            self._piling.notify_all()
        with contextlib.suppress(RuntimeError):  # already shut down
            self._executor.submit(shut).result()
        self._executor.shutdown(wait=True)

    # -- jobs ------------------------------------------------------------------------------
    async def find_job(
        self, direction: str, endpoint: str, bucket: str, key: str, local_path: str
    ) -> JobRecord | None:
        def run(db: sqlite3.Connection) -> JobRecord | None:
            row = db.execute(
                "SELECT * FROM jobs WHERE direction=? AND endpoint=? AND bucket=? AND key=?"
                " AND local_path=?",
                (direction, endpoint, bucket, key, os.path.abspath(local_path)),
            ).fetchone()
            return None if row is None else job_from_row(db, row)

        return await self._call(run)

    async def start_job(
        self,
        direction: str,
        endpoint: str,
        bucket: str,
        key: str,
        local_path: str,
        *,
        size: int,
        fingerprint: str,
        part_size: int,
        upload_id: str | None = None,
        temp_path: str | None = None,
        batch_id: int | None = None,
    ) -> int:
        """A new job (replacing any old one for the same file); its id. Paths are kept
        absolute (made so here, on the journal's thread): a command run again from
        another folder, or ``resume`` run from anywhere, finds the same file and temp file."""
        now = time.time()

        def run(db: sqlite3.Connection) -> int:
            path = os.path.abspath(local_path)
            temp = None if temp_path is None else os.path.abspath(temp_path)
            db.execute(
                "DELETE FROM jobs WHERE direction=? AND endpoint=? AND bucket=? AND key=?"
                " AND local_path=?",
                (direction, endpoint, bucket, key, path),
            )
            cur = db.execute(
                "INSERT INTO jobs (direction, endpoint, bucket, key, local_path, size,"
                " fingerprint, part_size, upload_id, temp_path, state, created, updated, batch_id)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,'running',?,?,?)",
                (
                    direction,
                    endpoint,
                    bucket,
                    key,
                    path,
                    size,
                    fingerprint,
                    part_size,
                    upload_id,
                    temp,
                    now,
                    now,
                    batch_id,
                ),
            )
            return int(cur.lastrowid or 0)

        return await self._call(run)

    def record_part(self, job_id: int, number: int, etag: str) -> None:
        """An uploaded part (fire and forget)."""
        self._post(
            lambda db: db.execute(
                "INSERT OR REPLACE INTO parts (job_id, number, etag) SELECT ?,?,?"
                " WHERE EXISTS (SELECT 1 FROM jobs WHERE id=?)",
                (job_id, number, etag, job_id),
            )
        )

    def record_range(self, job_id: int, number: int, done: int) -> None:
        """Bytes written so far of a download range, counted from its start (fire and forget)."""
        self._post(
            lambda db: db.execute(
                "INSERT OR REPLACE INTO parts (job_id, number, done) SELECT ?,?,?"
                " WHERE EXISTS (SELECT 1 FROM jobs WHERE id=?)",
                (job_id, number, done, job_id),
            )
        )

    async def finish_job(self, job_id: int, batch_id: int | None) -> None:
        """A job arrived: forgotten, or (inside a batch) kept as "done" until the batch
        closes, so a crash before the batch records the item costs a check, not a resend."""
        if batch_id is None:
            await self.drop_job(job_id)
        else:
            await self.set_state(job_id, "done")

    async def set_state(self, job_id: int, state: str) -> None:
        await self._call(
            lambda db: db.execute(
                "UPDATE jobs SET state=?, updated=? WHERE id=?", (state, time.time(), job_id)
            )
        )

    async def drop_job(self, job_id: int) -> None:
        """Forget a job (done, failed, or discarded); its parts go with it."""
        await self._call(lambda db: db.execute("DELETE FROM jobs WHERE id=?", (job_id,)))

    async def jobs(self) -> list[JobRecord]:
        def run(db: sqlite3.Connection) -> list[JobRecord]:
            rows = db.execute("SELECT * FROM jobs ORDER BY id").fetchall()
            return [job_from_row(db, row) for row in rows]

        return await self._call(run)

    async def upload_ids(self, endpoint: str, bucket: str) -> set[str]:
        """The multipart uploads this journal owns in ``bucket`` (the janitor's "ours")."""

        def run(db: sqlite3.Connection) -> set[str]:
            rows = db.execute(
                "SELECT upload_id FROM jobs WHERE endpoint=? AND bucket=?"
                " AND upload_id IS NOT NULL",
                (endpoint, bucket),
            ).fetchall()
            return {str(r[0]) for r in rows}

        return await self._call(run)

    # -- batches ---------------------------------------------------------------------------
    async def open_batch(self, identity: str, command: Mapping[str, Any]) -> BatchRecord:
        """The unfinished batch of this identity (the same command run again), or a new one."""
        text = json.dumps(command, sort_keys=True)

        def run(db: sqlite3.Connection) -> BatchRecord:
            db.execute(
                "INSERT OR IGNORE INTO batches (identity, command, created) VALUES (?,?,?)",
                (identity, text, time.time()),
            )
            row = db.execute(
                "SELECT id, identity, command, created FROM batches WHERE identity=?", (identity,)
            ).fetchone()
            return batch_from_row(db, row)

        return await self._call(run)

    def mark_done(self, batch_id: int, item: str, fingerprint: str) -> None:
        """One item of a batch arrived (fire and forget; it may wait the pile's window)."""
        self._post(
            lambda db: db.execute(
                "INSERT OR REPLACE INTO done (batch_id, item, fingerprint) SELECT ?,?,?"
                " WHERE EXISTS (SELECT 1 FROM batches WHERE id=?)",
                (batch_id, item, fingerprint, batch_id),
            ),
            prompt=False,
        )

    async def done_items(self, batch_id: int) -> dict[str, str]:
        def run(db: sqlite3.Connection) -> dict[str, str]:
            rows = db.execute(
                "SELECT item, fingerprint FROM done WHERE batch_id=?", (batch_id,)
            ).fetchall()
            return {str(item): str(fp) for item, fp in rows}

        return await self._call(run)

    async def close_batch(self, batch_id: int) -> list[JobRecord]:
        """The batch finished: forget it, what it had done and its arrived jobs. A job of
        it that did not arrive (a file deleted or excluded before the run that finished
        the batch; an abort that failed) still holds an upload or a temp file: it stays,
        on its own, and is returned for the caller to clean up. Forgetting it here would
        turn its upload into a stranger's orphan."""

        def run(db: sqlite3.Connection) -> list[JobRecord]:
            rows = db.execute(
                "SELECT * FROM jobs WHERE batch_id=? AND state!='done' ORDER BY id", (batch_id,)
            ).fetchall()
            left = [job_from_row(db, row) for row in rows]
            db.execute("DELETE FROM jobs WHERE batch_id=? AND state='done'", (batch_id,))
            db.execute("UPDATE jobs SET batch_id=NULL WHERE batch_id=?", (batch_id,))
            db.execute("DELETE FROM batches WHERE id=?", (batch_id,))
            return left

        return await self._call(run)

    async def batches(self) -> list[BatchRecord]:
        def run(db: sqlite3.Connection) -> list[BatchRecord]:
            rows = db.execute(
                "SELECT id, identity, command, created FROM batches ORDER BY id"
            ).fetchall()
            return [batch_from_row(db, row) for row in rows]

        return await self._call(run)


def _log_failure(future: Future[object]) -> None:
    exc = future.exception()
    if exc is not None:  # a lost progress write costs a re-sent part, never data
        log.warning("transfer journal write failed: %s", exc)


__all__ = [
    "JOURNAL_NAME",
    "PILE_WINDOW_S",
    "RANGE_STEP_BYTES",
    "STATE_ENV",
    "BatchRecord",
    "JobRecord",
    "Journal",
    "in_transaction",
    "state_dir",
]
