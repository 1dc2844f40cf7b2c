"""Rows of an earlier run of the app (``TransferRow.restored``): which of them can resume on
the current connection, in what order, and what their Cancel cleans up.

No engine knows such a row until it is resumed: its spec then runs again under its own id
(``Planned.transfer_id``) and the engine continues it from the journal. A row resumes only
on the connection it was made on (the journal names servers by endpoint); cancelling one
discards what the journal kept for it (``s3z_core.journal_cleanup``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from s3z_core.journal_cleanup import discard_for
from s3z_core.specs import STREAM_SOURCE
from s3z_core.transfer.plans import Planned
from s3z_gui.models.queue_order import ranked
from s3z_gui.models.transfer_store import Status, TransferRow

if TYPE_CHECKING:
    from s3z_gui.bridge import EngineBridge


def resumable(rows: Sequence[TransferRow], here: str) -> tuple[list[TransferRow], set[str]]:
    """The saved, paused rows that can resume on connection ``here``, and the other
    connections that saved rows wait for."""
    runnable: list[TransferRow] = []
    elsewhere: set[str] = set()
    for row in rows:
        spec = row.spec
        if not row.restored or row.status != Status.PAUSED or spec is None:
            continue
        if row.connection != here:
            elsewhere.add(row.connection or "its connection")
        elif spec.direction != "upload" or spec.local_path != STREAM_SOURCE:
            runnable.append(row)
    return runnable, elsewhere


def resume_plan(rows: Sequence[TransferRow], shown: Sequence[TransferRow]) -> list[Planned]:
    """The rows as planned items under their own ids, best-ranked first (``shown``: the
    queue's rows in the order shown)."""
    order = {r.transfer_id: rank for rank, r in ranked(shown)}
    chosen = sorted(rows, key=lambda r: order.get(r.transfer_id, 0.0))
    return [Planned(r.spec, transfer_id=r.transfer_id) for r in chosen if r.spec is not None]


async def discard_saved(bridge: EngineBridge, rows: Sequence[TransferRow]) -> None:
    """Cancelled saved rows: what the journal kept for them goes now (uploads aborted, temp
    files removed), as a live transfer's cancel does."""
    engine = bridge.engine
    here = bridge.target.label if bridge.target is not None else ""
    for row in rows:
        if row.connection != here or row.spec is None:
            bridge.failed.emit(f"Connect to {row.connection} to cancel {row.name}")
            continue
        await discard_for(engine, row.spec)
        row.restored = False
        bridge.queue.store.set_status(row.transfer_id, Status.CANCELLED)


__all__ = ["discard_saved", "resumable", "resume_plan"]
