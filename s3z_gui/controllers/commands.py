"""Commands from the views run as guarded asyncio tasks on the qasync loop.

Views call plain methods; each starts a task and returns it (tests await it, views ignore
it). Typed S3 errors become one short message (the bridge shows it in the status bar with
the S3 error code); anything else is a bug and goes to ``sys.excepthook``, which logs it and
shows the error dialog. ``guard`` and ``guard_now`` (its twin for synchronous commands) are one
of the outer edges where a blind ``except Exception`` is allowed: no command touches the engine
outside them, so "not connected" is a message, never a traceback.

Most commands use the engine of the moment (``bound``): before that engine closes (another
connection was chosen, or the app closes) they are cancelled and awaited, so none runs on
into a closed session. Connects, connection tests and dialogs are not bound to it.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from s3z_core.errors import S3zError
from s3z_gui.models.transfer_store import describe_error

log = logging.getLogger(__name__)

T = TypeVar("T")


class CommandRunner:
    """Spawns guarded tasks, keeps them until done, and drains them when the app closes."""

    def __init__(self, report: Callable[[str], None]) -> None:
        self._report_message = report
        self._tasks: set[asyncio.Task[Any]] = set()
        self._bound: set[asyncio.Task[Any]] = set()

    def spawn(
        self, coro: Coroutine[Any, Any, T], what: str, *, bound: bool = True
    ) -> asyncio.Task[T | None]:
        task = asyncio.ensure_future(self.guard(coro, what))
        # Cancelled before its first step (a dialog closed at once), ``guard`` never awaited
        # ``coro``: close it, or Python warns of a coroutine never awaited.
        task.add_done_callback(lambda done: coro.close() if done.cancelled() else None)
        for tasks in (self._tasks, self._bound) if bound else (self._tasks,):
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        return task

    async def cancel_bound(self, timeout_s: float) -> None:
        """Cancel the commands that use the current engine and wait for them to unwind."""
        pending = [t for t in self._bound if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=timeout_s)

    async def guard(self, coro: Coroutine[Any, Any, T], what: str) -> T | None:
        try:
            return await coro
        except S3zError as exc:
            self.report(what, exc)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 — outer edge: a bug, not an S3 error — log and show the dialog
            sys.excepthook(*sys.exc_info())
        return None

    def guard_now(self, call: Callable[[], T], what: str, default: T) -> T:
        """``guard`` for the synchronous commands (cancel, pause, resume, retry)."""
        try:
            return call()
        except S3zError as exc:
            self.report(what, exc)
        except Exception:  # noqa: BLE001 — outer edge: a bug, not an S3 error — log and show the dialog
            sys.excepthook(*sys.exc_info())
        return default

    def report(self, what: str, error: S3zError) -> None:
        message = f"{what}: {describe_error(error)}"
        log.warning("%s", message)
        self._report_message(message)

    async def drain(self, timeout_s: float) -> None:
        """Let running commands finish (they were told to stop), then cancel the rest."""
        pending = [t for t in self._tasks if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=timeout_s)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=timeout_s)
