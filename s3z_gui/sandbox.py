"""The first-run sandbox: an embedded SeaweedFS on 127.0.0.1 with data in the user's folder.

A newcomer with no account can drag a file in within seconds. ``LocalS3Server.start``
blocks while it waits for readiness, so it runs in a worker thread and the window
keeps painting ("Starting local sandbox…").

Nothing outlives the app: the server runs under its warden (``bind_to_parent``), which stops
it when the app ends, even by SIGKILL; a server an earlier, killed run left on the folder is
recognised and stopped before the new one starts (``s3z_core.stale_server``); and a start that
is cancelled (the window closed meanwhile) is waited for and stopped, never abandoned.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from pathlib import Path

from PySide6.QtCore import QStandardPaths

from s3z_core.credentials import Credentials
from s3z_core.local_server import LocalS3Server, LocalServerError
from s3z_gui.connection import ConnectionTarget

log = logging.getLogger(__name__)

SANDBOX_LABEL = "Local sandbox"


def default_sandbox_dir() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".local" / "share" / "s3z") / "sandbox"


def _start_blocking(server: LocalS3Server, data_dir: Path) -> None:
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LocalServerError(f"cannot create the folder {data_dir}: {exc.strerror}") from None
    server.start()


class Sandbox:
    """Starts once, hands out a ``ConnectionTarget``, stops on ``stop()``."""

    def __init__(self, data_dir: Path | None = None) -> None:
        self.data_dir = data_dir or default_sandbox_dir()
        self._server: LocalS3Server | None = None
        self._starting: asyncio.Future[None] | None = None
        self._lock = asyncio.Lock()

    @property
    def running(self) -> bool:
        return self._server is not None and self._server.running

    @property
    def pid(self) -> int | None:
        return None if self._server is None else self._server.pid

    async def start(self) -> ConnectionTarget:
        async with self._lock:
            if self._starting is not None and not self._starting.done():
                with suppress(Exception):  # a start whose caller gave up: see how it ended
                    await asyncio.shield(self._starting)
            if self._server is None or not self._server.running:
                server = LocalS3Server(data_dir=self.data_dir, bind_to_parent=True)
                self._server = server
                starting = asyncio.ensure_future(
                    asyncio.to_thread(_start_blocking, server, self.data_dir)
                )
                self._starting = starting
                try:
                    # Shielded: cancelling our caller must not orphan the thread's server.
                    await asyncio.shield(starting)
                except Exception:  # failed: nothing to stop (a cancelled caller is no failure)
                    self._server = None
                    raise
                log.info("sandbox started: %r", server)
            server = self._server
            return ConnectionTarget(
                label=SANDBOX_LABEL,
                endpoint_url=server.endpoint_url,
                region=server.region,
                addressing_style="path",
                credentials=Credentials(server.access_key, server.secret_key),
                is_sandbox=True,
            )

    async def stop(self) -> None:
        starting, self._starting = self._starting, None
        if starting is not None:
            with suppress(Exception):  # its error was the start's to report
                await starting  # a start in its thread cannot be interrupted: let it finish
        async with self._lock:
            if self._server is not None:
                server, self._server = self._server, None
                await asyncio.to_thread(server.stop)
                log.info("sandbox stopped")
