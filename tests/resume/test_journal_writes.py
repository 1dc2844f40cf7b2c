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

import pytest

from s3z_core.journal import Journal

pytestmark = pytest.mark.asyncio


async def test_a_thousand_done_items_pile_into_few_transactions(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    try:
        batch = await journal.open_batch("cp -r a s3://b/", {"command": "cp"})
        commits: list[int] = []
        real_tx = journal._tx

        def counting(fn):  # type: ignore[no-untyped-def]
            commits.append(1)
            return real_tx(fn)

        journal._tx = counting  # type: ignore[method-assign]
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
