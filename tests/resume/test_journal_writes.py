"""The journal's fire-and-forget writes: piled into one transaction, order kept exactly.

A thousand finished items cost far fewer commits than a thousand (the journal made a
10,000 × 4 KiB ``cp -r`` ~25 % slower with one commit each); an awaited write seals the
pile before it, so what is handed over later lands after it; one failing write is rolled
back alone.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import s3z_core.journal as journal_module
from s3z_core.journal import Journal

pytestmark = pytest.mark.asyncio


def _count_commits(journal: Journal) -> tuple[list[int], Any]:
    """Wrap the journal's transaction runner so each commit appends to the list returned;
    the original runner comes back with it, to restore."""
    commits: list[int] = []
    real_tx = journal._tx

    def counting(fn):  # type: ignore[no-untyped-def]
        commits.append(1)
        return real_tx(fn)

    journal._tx = counting  # type: ignore[method-assign]
    return commits, real_tx


async def test_a_thousand_done_items_pile_into_few_transactions(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    try:
        batch = await journal.open_batch("cp -r a s3://b/", {"command": "cp"})
        commits, real_tx = _count_commits(journal)
        for i in range(1000):
            journal.mark_done(batch.id, f"f{i:04d}", f"fp{i}")
        await journal.flush()
        journal._tx = real_tx  # type: ignore[method-assign]
        done = await journal.done_items(batch.id)
        assert done == {f"f{i:04d}": f"fp{i}" for i in range(1000)}
        assert 2 <= len(commits) < 100, len(commits)  # the flush itself is one of them
    finally:
        journal.close()


async def test_an_awaited_write_seals_the_pile_before_it(tmp_path: Path) -> None:
    """Posted, awaited, posted: the reads see them in exactly that order."""
    journal = Journal(tmp_path / "j.sqlite3")
    try:
        await journal._call(lambda db: db.execute("CREATE TABLE log (n INTEGER)"))
        order: list[int] = []

        def put(n: int) -> None:
            def write(db: sqlite3.Connection) -> None:
                order.append(n)
                db.execute("INSERT INTO log VALUES (?)", (n,))

            journal._post(write)

        put(1)
        put(2)
        middle = asyncio.ensure_future(journal._call(lambda db: order.append(3)))
        await asyncio.sleep(0)  # the awaited write is handed over (as ``await`` would)
        put(4)  # handed over after it: must run after it, not join the pile before it
        await middle
        put(5)
        await journal.flush()
        assert order == [1, 2, 3, 4, 5]
        rows = await journal._call(lambda db: [r[0] for r in db.execute("SELECT n FROM log")])
        assert rows == [1, 2, 4, 5]
    finally:
        journal.close()


async def test_one_failing_write_does_not_lose_its_pile(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    try:
        await journal._call(lambda db: db.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)"))

        def insert(n: int) -> None:
            journal._post(lambda db: db.execute("INSERT INTO t VALUES (?)", (n,)))

        def broken(db: sqlite3.Connection) -> None:
            db.execute("INSERT INTO t VALUES (3)")
            raise ValueError("a bug in one write")

        insert(1)
        insert(1)  # a constraint error: rolled back alone
        journal._post(broken)  # a bug: rolled back alone too (its row 3 with it)
        insert(2)
        await journal.flush()
        rows = await journal._call(lambda db: [r[0] for r in db.execute("SELECT n FROM t")])
        assert rows == [1, 2]
    finally:
        journal.close()
    with sqlite3.connect(tmp_path / "j.sqlite3") as db:  # committed, on disk
        assert [r[0] for r in db.execute("SELECT n FROM t ORDER BY n")] == [1, 2]


async def test_writes_spread_over_time_share_one_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Items finishing one by one (the loop busy in between, so the thread is idle each
    time) still share a commit: the pile waits for company. The window is made long here so
    the count does not depend on this machine's speed; the flush cuts it short (it would
    otherwise wait the whole minute) and the pile lands before the flush returns."""
    monkeypatch.setattr(journal_module, "PILE_WINDOW_S", 60.0)
    journal = Journal(tmp_path / "j.sqlite3")
    try:
        batch = await journal.open_batch("cp -r a s3://b/", {"command": "cp"})
        commits, real_tx = _count_commits(journal)
        for i in range(50):
            journal.mark_done(batch.id, f"f{i:02d}", f"fp{i}")
            await asyncio.sleep(0.002)  # the thread has long taken the pile's job by now
        await asyncio.wait_for(journal.flush(), 30)  # a hang guard, not a timing claim
        journal._tx = real_tx  # type: ignore[method-assign]
        assert len(commits) == 2, len(commits)  # the pile, then the flush
        assert len(await journal.done_items(batch.id)) == 50
    finally:
        journal.close()


async def test_close_commits_a_waiting_pile_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal_module, "PILE_WINDOW_S", 60.0)
    journal = Journal(tmp_path / "j.sqlite3")
    batch = await journal.open_batch("cp -r a s3://b/", {"command": "cp"})
    journal.mark_done(batch.id, "f", "fp")
    await asyncio.sleep(0.01)
    await asyncio.wait_for(asyncio.to_thread(journal.close), 30)  # a hang guard
    with sqlite3.connect(tmp_path / "j.sqlite3") as db:
        assert [r[0] for r in db.execute("SELECT item FROM done")] == ["f"]


async def test_part_and_range_progress_commits_without_waiting_the_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kill right after a range's progress was handed over must find it on disk: only a
    batch's done items wait for company. Seen from a second connection, no awaited write
    in between (the window is a minute: the poll would time out if the write waited)."""
    monkeypatch.setattr(journal_module, "PILE_WINDOW_S", 60.0)
    journal = Journal(tmp_path / "j.sqlite3")
    try:
        batch = await journal.open_batch("cp -r a s3://b/", {"command": "cp"})
        job = await journal.start_job(
            "download", "e", "b", "k", str(tmp_path / "k"), size=10, fingerprint="x", part_size=5
        )
        journal.mark_done(batch.id, "early", "fp")  # waiting in the pile
        journal.record_range(job, 1, 3)  # takes the pile with it, at once

        def seen() -> tuple[list[int], list[str]]:
            with sqlite3.connect(tmp_path / "j.sqlite3") as db:
                ranges = [r[0] for r in db.execute("SELECT done FROM parts")]
                items = [r[0] for r in db.execute("SELECT item FROM done")]
            return ranges, items

        for _ in range(3000):  # a hang guard of ~30 s, not a timing claim
            if await asyncio.to_thread(seen) == ([3], ["early"]):
                break
            await asyncio.sleep(0.01)
        assert await asyncio.to_thread(seen) == ([3], ["early"])
    finally:
        journal.close()


async def test_closing_a_batch_hands_back_the_jobs_that_did_not_arrive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Arrived jobs go with the batch; the others stay, on their own, for their cleanup
    (a failed abort keeps the upload ours to clean, never a stranger's orphan)."""
    journal = Journal(tmp_path / "j.sqlite3")
    monkeypatch.chdir(tmp_path)
    try:
        batch = await journal.open_batch("cp -r a s3://b/", {"command": "cp"})

        async def job(name: str) -> int:
            return await journal.start_job(
                "upload", "http://s3", "b", name, name, size=1, fingerprint="f",
                part_size=1, upload_id=f"u-{name}", temp_path=f"{name}.tmp", batch_id=batch.id,
            )  # fmt: skip

        arrived, left = await job("arrived"), await job("left")
        await journal.finish_job(arrived, batch.id)
        [kept] = await journal.close_batch(batch.id)
        assert (kept.id, kept.upload_id) == (left, "u-left")
        [still] = await journal.jobs()
        assert (still.id, still.batch_id) == (left, None)  # detached, not dropped
        assert still.local_path == str(tmp_path / "left")  # paths are kept absolute
        assert still.temp_path == str(tmp_path / "left.tmp")
        assert await journal.find_job("upload", "http://s3", "b", "left", "left") == still
        assert await journal.batches() == []
    finally:
        journal.close()
