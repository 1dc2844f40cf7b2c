"""Search a bucket: ``Engine.search`` over the parallel listing, matches into a results model
as they come, one search at a time.

The match rule lives in the core (``s3z_core/search.py``), never here. Cancelling the task
stops the iteration, and the engine's search closes its listing then (its requests in flight
are cancelled with it), so a cancelled search lists nothing more.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from s3z_core.errors import S3zError
from s3z_core.search import KeyQuery
from s3z_gui.models.search_model import SearchResultsModel, SearchState
from s3z_gui.models.transfer_store import describe_error

if TYPE_CHECKING:
    from s3z_gui.bridge import EngineBridge


class SearchController:
    def __init__(self, bridge: EngineBridge) -> None:
        self._bridge = bridge
        self._running: dict[int, asyncio.Task[int | None]] = {}

    def start(
        self, model: SearchResultsModel, bucket: str, prefix: str, text: str
    ) -> asyncio.Task[int | None]:
        """Search ``bucket``/``prefix`` for ``text`` (a glob if it has ``*?[``, else a
        substring); a search already running in ``model`` is cancelled first."""
        self.cancel(model)
        generation = model.begin(bucket, prefix, text.strip())

        async def run() -> int:
            try:
                query = KeyQuery(text.strip())
                async for found in self._bridge.engine.search(bucket, prefix, query):
                    model.add(generation, found)
            except asyncio.CancelledError:
                model.finish(generation, SearchState.CANCELLED)
                raise
            except S3zError as exc:
                model.finish(generation, SearchState.FAILED, describe_error(exc))
                raise
            model.finish(generation, SearchState.DONE)
            return model.count

        task = self._bridge.commands.spawn(run(), f"Searching s3://{bucket}/{prefix}")
        self._running[id(model)] = task
        task.add_done_callback(lambda t: self._forget(model, t))
        return task

    def cancel(self, model: SearchResultsModel) -> bool:
        """Stop ``model``'s search (the listing stops with it); False if none was running."""
        task = self._running.pop(id(model), None)
        if task is None or task.done():
            return False
        task.cancel()
        # The task may not have started yet (then it never runs its own except clause).
        model.finish(model.generation, SearchState.CANCELLED)
        return True

    def running(self, model: SearchResultsModel) -> bool:
        task = self._running.get(id(model))
        return task is not None and not task.done()

    def _forget(self, model: SearchResultsModel, task: asyncio.Task[int | None]) -> None:
        if self._running.get(id(model)) is task:
            del self._running[id(model)]
