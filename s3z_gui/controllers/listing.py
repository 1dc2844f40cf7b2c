"""Listing: one open pager per object table, pages appended as the view asks for them.

A model shows one location at a time; opening another resets it (a new generation) and
closes the old pager, so a page that arrives late for an old location is dropped by the
model instead of mixing two folders.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from s3z_core.errors import S3zError
from s3z_core.models import ListPage
from s3z_gui.models.object_model import ObjectTableModel
from s3z_gui.models.transfer_store import describe_error

if TYPE_CHECKING:
    from s3z_gui.bridge import EngineBridge

PAGE_SIZE = 1000


class ListingController:
    def __init__(self, bridge: EngineBridge) -> None:
        self._bridge = bridge
        self._pagers: dict[int, tuple[int, AsyncIterator[ListPage]]] = {}

    def open_location(
        self, model: ObjectTableModel, bucket: str | None, prefix: str = ""
    ) -> asyncio.Task[int | None]:
        """Show ``bucket``/``prefix`` in ``model``: reset it and load the first page."""
        spawn = self._bridge.commands.spawn
        generation = model.reset_location(bucket, prefix)
        old = self._pagers.pop(id(model), None)
        if bucket is None:
            if old is not None:
                return spawn(_close_then_zero(old[1]), "Closing listing")
            return spawn(_zero(), "Listing")
        try:
            pager = self._bridge.engine.list_objects(
                bucket, prefix, delimiter="/", page_size=PAGE_SIZE
            )
        except S3zError as exc:
            error = exc

            async def refuse() -> int:
                if old is not None:
                    await _close_pager(old[1])
                raise error

            return spawn(self._listing_guard(model, generation, refuse()), "Listing")
        self._pagers[id(model)] = (generation, pager)

        async def first_page() -> int:
            if old is not None:
                await _close_pager(old[1])
            return await self._next_page(model, generation)

        return spawn(self._listing_guard(model, generation, first_page()), "Listing")

    def fetch_more(self, model: ObjectTableModel, generation: int) -> asyncio.Task[int | None]:
        return self._bridge.commands.spawn(
            self._listing_guard(model, generation, self._next_page(model, generation)), "Listing"
        )

    async def close_all(self) -> None:
        """The engine goes away: every open pager with it."""
        pagers, self._pagers = self._pagers, {}
        for _generation, pager in pagers.values():
            await _close_pager(pager)

    async def _listing_guard(
        self, model: ObjectTableModel, generation: int, coro: Coroutine[Any, Any, int]
    ) -> int:
        try:
            return await coro
        except S3zError as exc:
            model.fail(generation, describe_error(exc))
            raise

    async def _next_page(self, model: ObjectTableModel, generation: int) -> int:
        current = self._pagers.get(id(model))
        if current is None or current[0] != generation:
            return 0
        try:
            page = await anext(current[1])
        except StopAsyncIteration:
            page = ListPage(objects=[], common_prefixes=[], is_truncated=False, next_token=None)
        return model.append_page(generation, page)


async def _close_pager(pager: AsyncIterator[ListPage]) -> None:
    closer = getattr(pager, "aclose", None)
    if closer is not None:
        with suppress(S3zError, RuntimeError):
            await closer()


async def _zero() -> int:
    return 0


async def _close_then_zero(pager: AsyncIterator[ListPage]) -> int:
    await _close_pager(pager)
    return 0
