"""The first-run sandbox: an embedded SeaweedFS on 127.0.0.1 with data in the user's folder.

A newcomer with no account can drag a file in within seconds. ``LocalS3Server.start``
blocks while it waits for readiness, so it runs in a worker thread and the window
keeps painting ("Starting local sandbox…"). The server is stopped by its PID on exit.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from PySide6.QtCore import QStandardPaths

from s3z_core.credentials import Credentials
from s3z_core.local_server import LocalS3Server
from s3z_gui.connection import ConnectionTarget

log = logging.getLogger(__name__)

SANDBOX_LABEL = "Local sandbox"


def default_sandbox_dir() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".local" / "share" / "s3z") / "sandbox"


class Sandbox:
    """Starts once, hands out a ``ConnectionTarget``, stops on ``stop()``."""

    def __init__(self, data_dir: Path | None = None) -> None:
        self.data_dir = data_dir or default_sandbox_dir()
        self._server: LocalS3Server | None = None
        self._lock = asyncio.Lock()

    @property
    def running(self) -> bool:
        return self._server is not None and self._server.running

    @property
    def pid(self) -> int | None:
        return None if self._server is None else self._server.pid

    async def start(self) -> ConnectionTarget:
        async with self._lock:
            if self._server is None or not self._server.running:
                self.data_dir.mkdir(parents=True, exist_ok=True)
                server = LocalS3Server(data_dir=self.data_dir)
                await asyncio.to_thread(server.start)
                self._server = server
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
        async with self._lock:
            if self._server is not None:
                server, self._server = self._server, None
                await asyncio.to_thread(server.stop)
                log.info("sandbox stopped")
