"""Sync from the window: the core plans (``s3z_core.sync.plan_between``: the local walk runs in
the core's file-system pool, never on the loop) and runs what the user left ticked.

The copies are one engine batch, tracked by the transfer controller like any upload or
download (their rows appear in the queue, quitting stops them); deletes go after the copies,
as in the CLI. Nothing here walks, lists or compares on its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from s3z_core.filters import PathFilter
from s3z_core.sync import (
    PlannedSync,
    SyncOptions,
    SyncOutcome,
    SyncSide,
    delete_extraneous,
    plan_between,
    start_copies,
)
from s3z_gui.controllers.transfers import batch_summary

if TYPE_CHECKING:
    from s3z_gui.bridge import EngineBridge

Direction = Literal["upload", "download"]


@dataclass(frozen=True, slots=True)
class SyncRequest:
    """What the dialog asks for: a local folder, a bucket and prefix, which way, options."""

    folder: str
    bucket: str
    prefix: str
    direction: Direction = "upload"
    delete: bool = False
    excludes: tuple[str, ...] = ()

    @property
    def sides(self) -> tuple[SyncSide, SyncSide]:
        local, remote = SyncSide.local(self.folder), SyncSide.remote(self.bucket, self.prefix)
        return (local, remote) if self.direction == "upload" else (remote, local)

    @property
    def options(self) -> SyncOptions:
        rules = PathFilter(tuple(("exclude", p) for p in self.excludes))
        return SyncOptions(delete=self.delete, filters=rules)


def parse_patterns(text: str) -> tuple[str, ...]:
    """Exclude globs as typed: separated by commas or spaces (``*.tmp, .git/*``)."""
    return tuple(p for p in text.replace(",", " ").split() if p)


class SyncController:
    def __init__(self, bridge: EngineBridge) -> None:
        self._bridge = bridge

    def plan(self, request: SyncRequest) -> asyncio.Task[PlannedSync | None]:
        """Plan without changing anything (a few source objects may be HEADed)."""

        async def run() -> PlannedSync:
            source, destination = request.sides
            return await plan_between(self._bridge.engine, source, destination, request.options)

        return self._bridge.commands.spawn(run(), "Planning the sync")

    def run(
        self, planned: PlannedSync, copies: Collection[str], deletes: Collection[str]
    ) -> asyncio.Task[SyncOutcome | None]:
        """Copy the ``copies`` names, then delete the ``deletes`` names, of this plan only."""
        chosen = planned.only(copies, deletes)

        async def run() -> SyncOutcome:
            engine = self._bridge.engine
            batch = start_copies(engine, chosen)
            copied = await self._bridge.transfers.finish_batch(batch, "Synced")
            removed = await delete_extraneous(engine, chosen)
            if chosen.plan.deletes:  # else the batch's own summary stands
                text, failed = batch_summary("Synced", copied)
                text += f"; deleted {len(removed.deleted)}"
                if removed.failures:
                    first = removed.failures[0]
                    text += (
                        f"; {len(removed.failures)} could not be deleted — "
                        f"{first.key}: {first.message or first.code}"
                    )
                bad = failed or bool(removed.failures)
                (self._bridge.failed if bad else self._bridge.notice).emit(text)
            return SyncOutcome(copied, removed)

        return self._bridge.commands.spawn(run(), "Sync")
