"""``s3z-core resume`` and the app's folder records: the GUI keeps a folder kept for later as a
journal batch record of its own kind (``app-upload``); the CLI lists it and can discard it,
but leaves its re-run to the app (it once took any record for one of its own commands)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from fault_proxy import FaultProxy
from killkit import run_attempt

from s3z_core.journal import JOURNAL_NAME, Journal
from s3z_core.local_server import LocalS3Server
from s3z_gui.models.folder_command import FolderCommand


async def _open_record(state: Path, command: FolderCommand) -> int:
    journal = Journal(state / JOURNAL_NAME)
    try:
        record = await journal.open_batch(command.identity("http://x"), command.record())
        return record.id
    finally:
        await asyncio.to_thread(journal.close)


async def _batches(state: Path) -> list[int]:
    journal = Journal(state / JOURNAL_NAME)
    try:
        return [b.id for b in await journal.batches()]
    finally:
        await asyncio.to_thread(journal.close)


def test_resume_lists_the_apps_folder_and_leaves_its_rerun_to_the_app(
    seaweed: LocalS3Server, proxy: FaultProxy, tmp_path: Path, home: Path, state: Path
) -> None:
    folder = tmp_path / "folder"
    command = FolderCommand("upload", "folder", str(folder), "s3://b/folder/", "b", "", str(folder))
    batch = asyncio.run(_open_record(state, command))
    _, out, _ = run_attempt(proxy, seaweed, home, state, ["--json", "resume", "--list"])
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["kind"] for r in rows] == ["command"]
    _, out, _ = run_attempt(proxy, seaweed, home, state, ["--json", "resume"])
    lines = [json.loads(line) for line in out.splitlines()]
    assert {"type": "not_resumed", "batch": f"b{batch}"}.items() <= lines[0].items()
    assert asyncio.run(_batches(state)) == [batch], "the app's record stays for the app"
    assert proxy.requests == [], "nothing was sent for it"
    run_attempt(proxy, seaweed, home, state, ["resume", "--discard", "--all"])
    assert asyncio.run(_batches(state)) == []
