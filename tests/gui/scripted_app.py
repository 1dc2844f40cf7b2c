"""The real ``s3z`` app (``s3z_gui.app.main``: its qasync loop, signal handling, session and
sandbox) with a scripted user in place of a person, for the lifecycle tests and the soak run.

    python tests/gui/scripted_app.py upload FILE           # start FILE's upload, report, wait
    python tests/gui/scripted_app.py soak WORKDIR CYCLES   # CYCLES rounds of ordinary use, quit

The script drives the app through the same view methods that clicks, drops and menu entries
call, and reports progress as JSON lines on stdout. The app's own log goes to stderr.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from s3z_gui.app import main
from s3z_gui.models.history import Location
from s3z_gui.models.transfer_store import Status, TransferRow
from s3z_gui.sandbox import SANDBOX_LABEL
from s3z_gui.session import FIRST_BUCKET, AppSession


def say(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


async def until(predicate: Callable[[], object], what: str, timeout_s: float = 120.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def sandbox_ready(session: AppSession) -> None:
    await until(
        lambda: session.current == SANDBOX_LABEL and session.bridge.connected, "the sandbox"
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def _new_upload_row(session: AppSession, known: set[int], what: str) -> TransferRow:
    store = session.queue_model.store
    found: list[TransferRow] = []

    def started() -> bool:
        found[:] = [r for r in store.rows if r.transfer_id not in known and r.done_bytes > 0]
        return bool(found)

    try:
        await until(started, what)
    except AssertionError:
        rows = [(r.transfer_id, r.status, r.done_bytes, r.error) for r in store.rows]
        raise AssertionError(f"{what}: no new row with bytes; rows: {rows}") from None
    return found[0]


# -- scenario: one upload in flight, then wait for whatever the test does to the app ----------


def upload_in_flight(path: Path) -> Callable[[AppSession], Any]:
    async def script(session: AppSession) -> None:
        await sandbox_ready(session)
        browser = session.window.browser
        await browser.navigate(Location(FIRST_BUCKET))
        browser.upload([str(path)])
        await _new_upload_row(session, set(), "the upload to send its first bytes")
        target = session.bridge.target
        assert target is not None
        say(event="uploading", endpoint=target.endpoint_url, app_pid=os.getpid())
        await asyncio.Event().wait()  # until the test signals or kills us

    return script


# -- scenario: the soak run's rounds of ordinary use ----------------------------------------


async def one_round(session: AppSession, work: Path, n: int) -> None:
    """Connect, browse, upload/pause/resume/cancel, round-trip a file, test connection."""
    window, bridge = session.window, session.bridge
    browser, store = window.browser, session.queue_model.store
    if n:
        old = bridge.engine
        window.sandboxChosen.emit()  # Connect to ▸ Local sandbox, again
        await until(lambda: bridge.connected and bridge.engine is not old, "the reconnect")
        await sandbox_ready(session)
    await browser.navigate(Location(FIRST_BUCKET))
    folder = f"round-{n}"
    await browser.new_folder(folder)
    await browser.navigate(Location(FIRST_BUCKET, f"{folder}/"))
    browser.go_back()
    browser.go_forward()
    browser.go_up()
    await browser.refresh()
    await browser.navigate(Location(FIRST_BUCKET, f"{folder}/"))

    # The path that crashed on 6.12.0: Cancel of a paused-then-resumed upload.
    known = {r.transfer_id for r in store.rows}
    browser.upload([str(work / "big.bin")])
    row = await _new_upload_row(session, known, "the big upload")
    bridge.transfers.pause([row.transfer_id])
    await until(lambda: row.status is Status.PAUSED, "pause")
    await asyncio.sleep(0.2)
    bridge.transfers.resume([row.transfer_id])
    await until(lambda: row.status is Status.RUNNING, "resume")
    await asyncio.sleep(0.2)
    bridge.transfers.cancel([row.transfer_id])
    await until(lambda: row.status.finished, "cancel")
    assert row.status is Status.CANCELLED, f"the big upload ended {row.status}, not cancelled"

    small = work / f"small-{n}.bin"
    small.write_bytes(os.urandom(3 * 1024 * 1024 + n))
    result = await browser.upload([str(small)])
    assert result is not None, "upload failed"
    assert result.files_done == 1, f"upload failed: {result}"
    await until(lambda: small.name in {e.name for e in browser.objects.entries}, "the listing")
    browser.select_names({small.name})
    into = work / f"download-{n}"
    into.mkdir()
    done = await browser.download_selection_to(str(into))
    assert done is not None, "download failed"
    assert done.files_done == 1, f"download failed: {done}"
    assert _sha256(into / small.name) == _sha256(small), "the download differs"
    small.unlink()

    await browser.navigate(Location(FIRST_BUCKET))
    await until(lambda: f"{folder}/" in {e.key for e in browser.objects.entries}, "the folder")
    browser.select_names({folder})
    await browser.delete_selection()

    target = bridge.target
    assert target is not None
    dialog = session.open_profile_dialog(None)
    await dialog.ready
    dialog.name.setText("soak")
    dialog.endpoint.setText(target.endpoint_url or "")
    dialog.style_box.setCurrentIndex(dialog.style_box.findData("path"))
    dialog.access_key.setText(target.credentials.access_key)
    dialog.secret.setText(target.credentials.secret_key)
    dialog.test_button.click()
    await until(lambda: "Connected" in dialog.status.text(), "Test connection")
    dialog.reject()
    session.open_settings().reject()


def soak(work: Path, rounds: int) -> Callable[[AppSession], Any]:
    async def script(session: AppSession) -> None:
        session.bridge.failed.connect(lambda text: say(event="failed", message=text))
        try:
            await sandbox_ready(session)
            say(event="ready", app_pid=os.getpid())
            for n in range(rounds):
                await one_round(session, work, n)
                say(event="round", n=n)
        except Exception as exc:
            say(event="script-error", error=f"{type(exc).__name__}: {exc}")
            for task in asyncio.all_tasks():  # where it hangs, for the log
                task.print_stack(file=sys.stderr)
            session.window.quit_now()
            raise
        say(event="rounds-done")
        if os.environ.get("SOAK_QUIT", "close") == "close":
            session.window.close()  # what the close button (and File ▸ Quit) does
        else:
            await asyncio.Event().wait()  # the soak run sends a signal

    return script


if __name__ == "__main__":
    kind = sys.argv[1]
    if kind == "upload":
        sys.exit(main(upload_in_flight(Path(sys.argv[2]))))
    if kind == "soak":
        sys.exit(main(soak(Path(sys.argv[2]), int(sys.argv[3]))))
    sys.exit(f"unknown scenario {kind!r}")
